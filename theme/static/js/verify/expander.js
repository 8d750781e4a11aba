// HMAC-SHA256 keyed once with a PRK, for the millions of short MACs a draw needs (tickets, rankings).
// Same construction as generator/sunshine/hkdf.py Expander: the key's inner and outer pads are hashed
// once; each MAC copies those states. HKDF-Expand(PRK, info, 32) = HMAC(PRK, info || 0x01).
import { sha256 as nobleSha256 } from '../vendor/noble-hashes/sha2.js';
import { concatBytes } from './bytes.js';
import { FormatError } from './errors.js';

const BLOCK = 64;

export class Expander {
  constructor(prk) {
    if (prk.length < 32) throw new FormatError(`expected a PRK of at least 32 bytes, got ${prk.length}`);
    let key = prk.length <= BLOCK ? prk : nobleSha256(prk);
    const padded = new Uint8Array(BLOCK);
    padded.set(key);
    this.inner = nobleSha256.create().update(padded.map((b) => b ^ 0x36));
    this.outer = nobleSha256.create().update(padded.map((b) => b ^ 0x5c));
  }

  /** HMAC-SHA256(PRK, msg). */
  mac(msg) {
    const a = this.inner.clone().update(msg).digest();
    return this.outer.clone().update(a).digest();
  }

  /** HKDF-Expand(PRK, info, 32). */
  block1(info) {
    return this.mac(concatBytes(info, Uint8Array.of(1)));
  }

  /**
   * For each item (Uint8Array): HKDF-Expand(PRK, prefix || uint32be(len) || item, 32). The common prefix is
   * absorbed once. Returns an array of 32-byte tickets, parallel to `items`.
   */
  block1Many(prefix, items) {
    const base = this.inner.clone().update(prefix);
    const out = new Array(items.length);
    const buf = new Uint8Array(4 + 256 + 1);
    for (let i = 0; i < items.length; i++) {
      const it = items[i];
      const n = it.length;
      const msg = n + 5 <= buf.length ? buf.subarray(0, n + 5) : new Uint8Array(n + 5);
      msg[0] = (n >>> 24) & 255; msg[1] = (n >>> 16) & 255; msg[2] = (n >>> 8) & 255; msg[3] = n & 255;
      msg.set(it, 4);
      msg[n + 4] = 1;
      const a = base.clone().update(msg).digest();
      out[i] = this.outer.clone().update(a).digest();
    }
    return out;
  }
}
