// C2SP signed-note (https://c2sp.org/signed-note) and Ed25519 verifier keys, as in Go's
// golang.org/x/mod/sumdb/note, which is the reference the tests follow.
//
// Wire format of a signed note:
//
//   <text: one or more lines, each ending in "\n">
//   "\n"
//   "— " <key name> " " base64(<4-byte key ID> <signature>) "\n"    one or more signature lines
//
// The whole note is UTF-8 without ASCII control characters other than "\n". A key name is non-empty,
// has no Unicode white space and no "+". At most 100 signature lines.
//
// Verifier key ("vkey"):  <name> "+" <8 lowercase hex key ID> "+" base64(0x01 <32-byte Ed25519 key>)
// Key ID:                 first 4 bytes (big-endian uint32) of SHA-256(<name> "\n" 0x01 <public key>)
// Ed25519 signatures sign the note text (everything before the blank line, including its final "\n").
//
// tlog-cosignature (https://c2sp.org/tlog-cosignature) witness keys have type 0x04: key ID from
// SHA-256(<name> "\n" 0x04 <public key>), the signature is <8-byte big-endian timestamp> <64-byte Ed25519>
// over "cosignature/v1\ntime <timestamp>\n" followed by the note text.
import { sha256 } from './hash.js';
import { verifyEd25519 } from './ed25519.js';
import { utf8, fromUtf8, fromBase64, toBase64, concatBytes, toHex } from './bytes.js';
import { FormatError, IntegrityError } from './errors.js';

export const ALG_ED25519 = 0x01;
export const ALG_COSIGNATURE_V1 = 0x04;
const MAX_SIGNATURES = 100;
const SIG_PREFIX = '— ';

/** Go's isValidName: non-empty, no Unicode white space, no '+'. */
export function isValidKeyName(name) {
  // Go's unicode.IsSpace set (not JS \s, which adds U+FEFF and lacks U+0085).
  return typeof name === 'string' && name.length > 0 && !/[\t\n\v\f\r +\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/.test(name);
}

export async function keyId(name, alg, publicKey) {
  const h = await sha256(concatBytes(utf8(name), Uint8Array.of(0x0a, alg), publicKey));
  return ((h[0] << 24) | (h[1] << 16) | (h[2] << 8) | h[3]) >>> 0;
}

const hex8 = (n) => n.toString(16).padStart(8, '0');

/**
 * Parse a verifier key string. Returns {name, keyId, alg, publicKey, vkey}. Accepts Ed25519 (0x01) and
 * cosignature/v1 (0x04) keys. FormatError when malformed or when the key ID does not match.
 */
export async function parseVerifierKey(vkey) {
  const bad = (why) => new FormatError(`verifier key ${JSON.stringify(String(vkey).slice(0, 120))}: ${why}`);
  if (typeof vkey !== 'string') throw bad('expected a string');
  // Split at the first two "+" only: the base64 key may itself contain "+".
  const p1 = vkey.indexOf('+');
  const p2 = p1 < 0 ? -1 : vkey.indexOf('+', p1 + 1);
  if (p2 < 0) throw bad('expected <name>+<key id>+<base64 key>');
  const name = vkey.slice(0, p1);
  const idHex = vkey.slice(p1 + 1, p2);
  const key64 = vkey.slice(p2 + 1);
  if (!isValidKeyName(name)) throw bad('expected a key name without spaces or "+"');
  if (!/^[0-9a-f]{8}$/.test(idHex)) throw bad(`expected the key id as 8 lowercase hex digits, got ${JSON.stringify(idHex)}`);
  const key = fromBase64(key64, 'verifier key');
  if (key.length === 0) throw bad('empty key');
  const alg = key[0];
  const pub = key.subarray(1);
  if (alg !== ALG_ED25519 && alg !== ALG_COSIGNATURE_V1) throw bad(`expected key type 0x01 (Ed25519) or 0x04 (cosignature/v1), got 0x${alg.toString(16).padStart(2, '0')}`);
  if (pub.length !== 32) throw bad(`expected a 32-byte Ed25519 public key, got ${pub.length} bytes`);
  const id = await keyId(name, alg, pub);
  if (hex8(id) !== idHex) throw bad(`key id does not match the key: expected ${hex8(id)}, got ${idHex}`);
  return { name, keyId: id, alg, publicKey: pub, vkey };
}

/** Format a verifier key string from a name and an Ed25519 public key (type 0x01 unless given). */
export async function formatVerifierKey(name, publicKey, alg = ALG_ED25519) {
  if (!isValidKeyName(name)) throw new FormatError(`key name ${JSON.stringify(name)}: expected no spaces or "+"`);
  const id = await keyId(name, alg, publicKey);
  return `${name}+${hex8(id)}+${toBase64(concatBytes(Uint8Array.of(alg), publicKey))}`;
}

/**
 * Split a signed note into its text and signature lines, without verifying anything.
 * Returns {text, signatures: [{name, keyId, signature (Uint8Array), base64, line}]}.
 * FormatError "malformed note: …" for anything Go's note.Open would reject as malformed.
 */
export function parseNote(bytes) {
  const malformed = (why) => new FormatError(`malformed note: ${why}`);
  const s = fromUtf8(bytes, 'note');
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 && c !== 0x0a) throw malformed(`control character U+${c.toString(16).padStart(4, '0')} at character ${i}`);
  }
  const split = s.lastIndexOf('\n\n');
  if (split < 0) throw malformed('expected a blank line before the signatures');
  const text = s.slice(0, split + 1);
  let sigs = s.slice(split + 2);
  if (sigs.length === 0 || !sigs.endsWith('\n')) throw malformed('expected signature lines ending in a newline');
  const signatures = [];
  for (const line of sigs.slice(0, -1).split('\n')) {
    if (!line.startsWith(SIG_PREFIX)) throw malformed(`expected a signature line starting with "— ", got ${JSON.stringify(line.slice(0, 60))}`);
    const rest = line.slice(SIG_PREFIX.length);
    const sp = rest.indexOf(' ');
    const name = sp < 0 ? rest : rest.slice(0, sp);
    const b64 = sp < 0 ? '' : rest.slice(sp + 1);
    if (!isValidKeyName(name)) throw malformed(`invalid key name ${JSON.stringify(name)}`);
    let raw;
    try {
      raw = fromBase64(b64, 'signature');
    } catch {
      throw malformed(`signature of ${name} is not base64`);
    }
    if (b64 === '' || raw.length < 5) throw malformed(`signature of ${name} is too short`);
    if (signatures.length + 1 > MAX_SIGNATURES) throw malformed(`more than ${MAX_SIGNATURES} signatures`);
    const keyIdValue = ((raw[0] << 24) | (raw[1] << 16) | (raw[2] << 8) | raw[3]) >>> 0;
    signatures.push({ name, keyId: keyIdValue, signature: raw.subarray(4), base64: b64, line });
  }
  return { text, signatures };
}

/**
 * Open a signed note with known verifier keys (results of parseVerifierKey), following Go's note.Open:
 * signatures by unknown keys are kept as `unverified`; a signature by a known key that does not verify
 * is an IntegrityError; at least one known key must have signed (IntegrityError otherwise); two known
 * keys with the same name and key ID are ambiguous (FormatError). Ed25519 keys (0x01) only; use
 * verifyCosignatures for witnesses.
 * Returns {text, verified: [{name, keyId}], unverified: [{name, keyId, base64}]}.
 */
export async function openNote(bytes, knownKeys) {
  const { text, signatures } = parseNote(bytes);
  const byId = new Map();
  for (const k of knownKeys) {
    const id = `${k.name}+${hex8(k.keyId)}`;
    if (byId.has(id)) byId.set(id, 'ambiguous'); else byId.set(id, k);
  }
  const textBytes = utf8(text);
  const verified = [];
  const unverified = [];
  const seen = new Set();
  const seenUnverified = new Set();
  for (const sig of signatures) {
    const id = `${sig.name}+${hex8(sig.keyId)}`;
    const k = byId.get(id);
    if (k === 'ambiguous') throw new FormatError(`ambiguous key ${id}`);
    if (!k || k.alg !== ALG_ED25519) {
      if (seenUnverified.has(sig.line)) continue;
      seenUnverified.add(sig.line);
      unverified.push({ name: sig.name, keyId: sig.keyId, base64: sig.base64 });
      continue;
    }
    if (seen.has(id)) continue;
    seen.add(id);
    const ok = sig.signature.length === 64 && (await verifyEd25519(k.publicKey, textBytes, sig.signature));
    if (!ok) throw new IntegrityError(`invalid signature for key ${id}`);
    verified.push({ name: sig.name, keyId: sig.keyId });
  }
  if (verified.length === 0) {
    const e = new IntegrityError('note has no verifiable signatures');
    e.note = { text, verified, unverified };
    throw e;
  }
  return { text, verified, unverified };
}

/**
 * Check tlog-cosignature/v1 witness signatures on a note against witness keys (type 0x04).
 * Returns [{name, keyId, timestamp}] for every witness key that validly cosigned; a cosignature by a
 * known witness key that does not verify is an IntegrityError.
 */
export async function verifyCosignatures(bytes, witnessKeys) {
  const { text, signatures } = parseNote(bytes);
  const out = [];
  for (const k of witnessKeys.filter((w) => w.alg === ALG_COSIGNATURE_V1)) {
    const sig = signatures.find((s) => s.name === k.name && s.keyId === k.keyId);
    if (!sig) continue;
    if (sig.signature.length !== 72) throw new IntegrityError(`cosignature of ${k.name}: expected 72 bytes, got ${sig.signature.length}`);
    let t = 0n;
    for (let i = 0; i < 8; i++) t = (t << 8n) | BigInt(sig.signature[i]);
    const msg = utf8(`cosignature/v1\ntime ${t}\n${text}`);
    if (!(await verifyEd25519(k.publicKey, msg, sig.signature.subarray(8)))) {
      throw new IntegrityError(`invalid cosignature for witness key ${k.name}+${hex8(k.keyId)}`);
    }
    out.push({ name: k.name, keyId: k.keyId, timestamp: Number(t) });
  }
  return out;
}

export { toHex };

/**
 * The timestamp of a cosignature/v1 signature given as the base64 of a signature line
 * (4-byte key ID, 8-byte big-endian timestamp, 64-byte Ed25519 signature). FormatError otherwise.
 */
export function cosignatureTimestamp(base64) {
  const raw = fromBase64(base64, 'cosignature');
  if (raw.length !== 4 + 8 + 64) throw new FormatError(`cosignature: expected ${4 + 8 + 64} bytes (key ID, timestamp, Ed25519 signature), got ${raw.length}`);
  let t = 0n;
  for (let i = 4; i < 12; i++) t = (t << 8n) | BigInt(raw[i]);
  if (t >= 1n << 63n) throw new FormatError(`cosignature: timestamp ${t} is larger than 2^63-1`);
  return Number(t);
}
