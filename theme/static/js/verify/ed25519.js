// Ed25519 signature verification (RFC 8032).
//
// WebCrypto ('Ed25519', node >= 20, Chrome 137+, Firefox 129+, Safari 17+) when available, else the
// vendored @noble/curves with zip215 = false, i.e. RFC 8032 / FIPS 186-5 strict decoding (S < L,
// canonical point encodings), which is what OpenSSL (the Python side, via `cryptography`) and Go accept.
import { ed25519 as nobleEd25519 } from '../vendor/noble-curves/ed25519.js';
import { FormatError } from './errors.js';

const subtle = globalThis.crypto && globalThis.crypto.subtle;
let backend = 'auto';
let webcryptoWorks; // undefined = not probed yet

async function webcryptoAvailable() {
  if (webcryptoWorks !== undefined) return webcryptoWorks;
  webcryptoWorks = false;
  if (subtle) {
    try {
      // RFC 8032 §7.1 TEST 1 public key: a probe that the algorithm is implemented.
      const pk = new Uint8Array([0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7, 0xd5, 0x4b, 0xfe, 0xd3, 0xc9, 0x64, 0x07, 0x3a,
        0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6, 0x23, 0x25, 0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a]);
      await subtle.importKey('raw', pk, { name: 'Ed25519' }, false, ['verify']);
      webcryptoWorks = true;
    } catch {
      webcryptoWorks = false;
    }
  }
  return webcryptoWorks;
}

/** Select 'webcrypto', 'noble' or 'auto' (WebCrypto when it implements Ed25519). */
export function setEd25519Backend(name) {
  if (!['webcrypto', 'noble', 'auto'].includes(name)) {
    throw new FormatError(`Ed25519 backend: expected 'webcrypto', 'noble' or 'auto', got ${JSON.stringify(name)}`);
  }
  backend = name;
}

export async function ed25519Backend() {
  if (backend !== 'auto') return backend;
  return (await webcryptoAvailable()) ? 'webcrypto' : 'noble';
}

/**
 * Verify an Ed25519 signature. Returns true or false; a key or signature of the wrong length is a
 * FormatError (it cannot be a signature at all).
 */
export async function verifyEd25519(publicKey, message, signature) {
  if (publicKey.length !== 32) throw new FormatError(`Ed25519 public key: expected 32 bytes, got ${publicKey.length}`);
  if (signature.length !== 64) throw new FormatError(`Ed25519 signature: expected 64 bytes, got ${signature.length}`);
  if ((await ed25519Backend()) === 'webcrypto') {
    let key;
    try {
      key = await subtle.importKey('raw', publicKey, { name: 'Ed25519' }, false, ['verify']);
    } catch {
      return false; // not a valid point encoding
    }
    return subtle.verify({ name: 'Ed25519' }, key, signature, message);
  }
  try {
    return nobleEd25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}
