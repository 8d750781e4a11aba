// SHA-256, HMAC-SHA256 and HKDF-SHA256 (RFC 5869).
//
// Two interchangeable backends:
//   'webcrypto'  crypto.subtle (browsers in a secure context, node >= 20): native speed on long inputs,
//                but every call is an asynchronous round trip (about 35 µs in node 20 on the CI box).
//   'noble'      the vendored @noble/hashes (pure JS, synchronous): about 6 µs per short message; also the
//                only option where crypto.subtle is missing (pages served over plain http:// from a
//                non-localhost host).
// 'auto' (the default) uses WebCrypto for inputs of 64 KiB and more (blobs) and noble for short ones
// (Merkle leaves and nodes, tickets), which is several times faster than either alone on a ledger.
// Both give identical bytes; the tests run both.
import { sha256 as nobleSha256 } from '../vendor/noble-hashes/sha2.js';
import { hmac as nobleHmac } from '../vendor/noble-hashes/hmac.js';
import { concatBytes } from './bytes.js';
import { FormatError } from './errors.js';

const subtle = globalThis.crypto && globalThis.crypto.subtle;
let backend = 'auto';
const LARGE = 64 * 1024;

/** Select 'webcrypto', 'noble' or 'auto'. Returns the backend now in use. */
export function setHashBackend(name) {
  if (name === 'auto') backend = 'auto';
  else if (name === 'noble') backend = 'noble';
  else if (name === 'webcrypto') {
    if (!subtle) throw new FormatError('WebCrypto (crypto.subtle) is not available here');
    backend = 'webcrypto';
  } else throw new FormatError(`hash backend: expected 'webcrypto', 'noble' or 'auto', got ${JSON.stringify(name)}`);
  return backend;
}

export function hashBackend() {
  return backend;
}

export const HASH_LEN = 32;

/** SHA-256 of `data` (Uint8Array) -> Promise<Uint8Array(32)>. */
export async function sha256(data) {
  if (backend === 'webcrypto' || (backend === 'auto' && subtle && data.length >= LARGE)) {
    return new Uint8Array(await subtle.digest('SHA-256', data));
  }
  return nobleSha256(data);
}

/** Synchronous SHA-256 (always the pure-JS backend). */
export function sha256Sync(data) {
  return nobleSha256(data);
}

/**
 * A keyed HMAC-SHA256 function: `const mac = await hmacKey(key); await mac(msg)`.
 * The key is imported (WebCrypto) or its pads hashed (noble) once, then reused for every message.
 */
export async function hmacKey(key) {
  if (backend === 'webcrypto') {
    const k = await subtle.importKey('raw', key.length ? key : new Uint8Array(HASH_LEN),
      { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    // An empty HMAC key equals a key of zero bytes padded to the block size; WebCrypto refuses length 0,
    // and HASH_LEN zero bytes pad to the same block, so the result is identical (RFC 2104 §2).
    return async (msg) => new Uint8Array(await subtle.sign('HMAC', k, msg));
  }
  const base = nobleHmac.create(nobleSha256, key);
  return async (msg) => base.clone().update(msg).digest();
}

export async function hmacSha256(key, msg) {
  return (await hmacKey(key))(msg);
}

/** HKDF-Extract(salt, IKM) -> PRK (RFC 5869 §2.2). An empty salt means HashLen zero bytes. */
export async function hkdfExtract(salt, ikm) {
  return hmacSha256(salt.length ? salt : new Uint8Array(HASH_LEN), ikm);
}

/**
 * An HKDF-Expand function bound to one PRK (RFC 5869 §2.3): `const expand = await hkdfExpander(prk);
 * await expand(info, L)`. Used for the draw, which expands one PRK for every pool member.
 */
export async function hkdfExpander(prk) {
  if (prk.length < HASH_LEN) throw new FormatError(`HKDF PRK: expected at least ${HASH_LEN} bytes, got ${prk.length}`);
  const mac = await hmacKey(prk);
  return async (info, length) => {
    if (!Number.isInteger(length) || length < 0 || length > 255 * HASH_LEN) {
      throw new FormatError(`HKDF-Expand length: expected 0..${255 * HASH_LEN}, got ${length}`);
    }
    const n = Math.ceil(length / HASH_LEN);
    const out = new Uint8Array(n * HASH_LEN);
    let t = new Uint8Array(0);
    for (let i = 1; i <= n; i++) {
      t = await mac(concatBytes(t, info, Uint8Array.of(i)));
      out.set(t, (i - 1) * HASH_LEN);
    }
    return out.subarray(0, length);
  };
}

export async function hkdfExpand(prk, info, length) {
  return (await hkdfExpander(prk))(info, length);
}

/** HKDF(salt, IKM, info, L) = Expand(Extract(salt, IKM), info, L). */
export async function hkdf(salt, ikm, info, length) {
  return hkdfExpand(await hkdfExtract(salt, ikm), info, length);
}
