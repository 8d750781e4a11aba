// Byte helpers: UTF-8, hex, base64 (strict, canonical), concatenation, comparison, big-endian integers.
import { FormatError } from './errors.js';

const te = new TextEncoder();
const td = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function utf8(s) {
  return te.encode(s);
}

/** Decode UTF-8, rejecting invalid sequences. `what` names the input in the error. */
export function fromUtf8(b, what = 'input') {
  try {
    return td.decode(b);
  } catch {
    throw new FormatError(`${what}: expected valid UTF-8`);
  }
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function toHex(b) {
  let s = '';
  for (let i = 0; i < b.length; i++) s += HEX[b[i]];
  return s;
}

/** Lowercase hex only (the canonical form everywhere in the ledger). */
export function fromHex(s, what = 'hex') {
  if (typeof s !== 'string' || s.length % 2 !== 0 || !/^[0-9a-f]*$/.test(s)) {
    throw new FormatError(`${what}: expected lowercase hex of even length, got ${JSON.stringify(String(s).slice(0, 80))}`);
  }
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.substr(2 * i, 2), 16);
  return out;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64INV = new Int16Array(128).fill(-1);
for (let i = 0; i < 64; i++) B64INV[B64.charCodeAt(i)] = i;

export function toBase64(b) {
  let s = '';
  let i = 0;
  for (; i + 2 < b.length; i += 3) {
    const n = (b[i] << 16) | (b[i + 1] << 8) | b[i + 2];
    s += B64[n >> 18] + B64[(n >> 12) & 63] + B64[(n >> 6) & 63] + B64[n & 63];
  }
  if (b.length - i === 1) {
    const n = b[i] << 16;
    s += B64[n >> 18] + B64[(n >> 12) & 63] + '==';
  } else if (b.length - i === 2) {
    const n = (b[i] << 16) | (b[i + 1] << 8);
    s += B64[n >> 18] + B64[(n >> 12) & 63] + B64[(n >> 6) & 63] + '=';
  }
  return s;
}

/**
 * Standard base64 with padding (RFC 4648 §4), canonical only: no whitespace, correct padding, zero
 * trailing bits. Anything else is a FormatError.
 */
export function fromBase64(s, what = 'base64') {
  const bad = () => new FormatError(`${what}: expected canonical padded base64, got ${JSON.stringify(String(s).slice(0, 80))}`);
  if (typeof s !== 'string' || s.length % 4 !== 0) throw bad();
  let pad = 0;
  if (s.endsWith('==')) pad = 2;
  else if (s.endsWith('=')) pad = 1;
  const out = new Uint8Array((s.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < s.length; i += 4) {
    const v = [0, 0, 0, 0];
    for (let j = 0; j < 4; j++) {
      const c = s.charCodeAt(i + j);
      const last = i + 4 === s.length;
      if (c === 61 /* = */ && last && j >= 4 - pad) { v[j] = 0; continue; }
      const d = c < 128 ? B64INV[c] : -1;
      if (d < 0) throw bad();
      v[j] = d;
    }
    const n = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
    out[o++] = n >> 16;
    if (o < out.length) out[o++] = (n >> 8) & 255;
    if (o < out.length) out[o++] = n & 255;
    if (i + 4 === s.length && pad && (pad === 2 ? (n & 0xffff) : (n & 0xff)) !== 0) throw bad();
  }
  return out;
}

export function concatBytes(...parts) {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

export function bytesEqual(a, b) {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}

/** Lexicographic comparison of byte strings: negative, zero or positive. */
export function compareBytes(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/** Unsigned big-endian encoding of a non-negative safe integer or BigInt in `width` bytes. */
export function uintBE(value, width) {
  let v = BigInt(value);
  if (v < 0n || v >= 1n << BigInt(8 * width)) throw new FormatError(`expected an unsigned ${8 * width}-bit integer, got ${value}`);
  const out = new Uint8Array(width);
  for (let i = width - 1; i >= 0; i--) { out[i] = Number(v & 255n); v >>= 8n; }
  return out;
}

export function uint64be(value) {
  return uintBE(value, 8);
}
