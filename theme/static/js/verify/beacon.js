// Public randomness of a draw: drand quicknet beacons (verified offline), RFC 3797-style lottery
// encodings and department contributions. Mirrors generator/sunshine/beacon.py and docs/spec/draw.md.
//
// quicknet (League of Entropy mainnet), pinned here and never taken from the data:
//   chain hash 52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971
//   scheme     bls-unchained-g1-rfc9380: signature on G1 (48 bytes), public key on G2 (96 bytes)
//   genesis    1692803367, period 3 s
// Verification:
//   msg = SHA-256(uint64be(round)); H = hash_to_G1(msg, DST "BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_")
//   e(signature, g2) == e(H, public key), signature in the prime-order subgroup
//   randomness = SHA-256(signature)
// BLS12-381 arithmetic is the vendored @noble/curves (loaded on first use: it is the largest module).
import { sha256 } from './hash.js';
import { utf8, fromHex, toHex, concatBytes, uint64be } from './bytes.js';
import { FormatError, IntegrityError } from './errors.js';

export const ALGORITHM = 'sunshine.draw/v1';
export const DST_G1 = 'BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_';
export const SCHEME = 'bls-unchained-g1-rfc9380';

/** Length-prefixed encoding (docs/spec/draw.md §2): per part, 4-byte big-endian length, then bytes. */
export function frame(...parts) {
  const out = [];
  for (const p of parts) {
    const b = typeof p === 'string' ? utf8(p) : p;
    if (!(b instanceof Uint8Array)) throw new FormatError(`frame: expected strings or bytes, got ${typeof p}`);
    const len = new Uint8Array(4);
    new DataView(len.buffer).setUint32(0, b.length);
    out.push(len, b);
  }
  return concatBytes(...out);
}

export const QUICKNET = Object.freeze({
  name: 'quicknet',
  chainHash: '52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971',
  publicKey: '83cf0f2896adee7eb8b5f01fcad3912212c437e0073e911fb90022d3e760183c'
    + '8c4b450b6a0a6c3ac6a5776a2d1064510d1fec758c921cc22b0e17e63aaf4bcb'
    + '5ed66304de9cf809bd274ca73bab4af5a6e9c76a4bc09e76eae8991ef5ece45a',
  genesis: 1692803367,
  period: 3,
  testOnly: false,
});

// The project's test chain: same scheme, a key whose SECRET IS PUBLISHED (see
// tests/vectors/drand/make_test_chain.py). Accepted only when the caller allows it (sample data, tests).
const TEST_PUBLIC_KEY = 'b03505cc1d1043372669c7923d0100936b42ac6d58a1daa63d2f7b574f88330c'
  + 'c12a87f29654f8d8b5f9586691aac025017e2b5da62b1395264ba3471c2b20d7'
  + '934860773458588f581549546bf2b23644e17f0171fde719893a23dd00041661';
let testChainCache;
/**
 * The test chain's parameters. Its "chain hash" is the project's own label,
 * SHA-256(frame(ALGORITHM, "test-chain", public key)), so it is computed (async) rather than written here.
 */
export async function testChain() {
  if (!testChainCache) {
    testChainCache = Object.freeze({
      name: 'sunshine-test',
      chainHash: toHex(await sha256(frame(ALGORITHM, 'test-chain', fromHex(TEST_PUBLIC_KEY)))),
      publicKey: TEST_PUBLIC_KEY,
      genesis: QUICKNET.genesis,
      period: QUICKNET.period,
      testOnly: true,
    });
  }
  return testChainCache;
}

/** The pinned chain with this hash (quicknet, or the test chain); FormatError for any other. */
export async function chainByHash(chainHash) {
  if (chainHash === QUICKNET.chainHash) return QUICKNET;
  const t = await testChain();
  if (chainHash === t.chainHash) return t;
  throw new FormatError(`unknown drand chain: expected ${QUICKNET.chainHash} (quicknet), got ${JSON.stringify(chainHash)}`);
}

/** Unix time at which `round` is produced: genesis + (round − 1)·period. */
export function roundTime(chain, round) {
  if (!Number.isSafeInteger(round) || round < 1) throw new FormatError(`expected a round number >= 1, got ${round}`);
  return chain.genesis + (round - 1) * chain.period;
}

/** The first round produced at or after `unixTime` (1 before genesis). */
export function roundAt(chain, unixTime) {
  if (unixTime <= chain.genesis) return 1;
  return Math.ceil((unixTime - chain.genesis) / chain.period) + 1;
}

/**
 * Parse a beacon JSON document (v1 or v2 relay shape), strictly: members round (integer >= 1),
 * signature (96 lowercase hex), optional randomness (64 lowercase hex, must equal SHA-256(signature)).
 * Returns {round, signature (Uint8Array), randomness (Uint8Array), text}.
 */
export async function parseBeacon(text, where = 'beacon') {
  if (text instanceof Uint8Array) {
    try { text = new TextDecoder('utf-8', { fatal: true }).decode(text); } catch { throw new FormatError(`${where}: expected UTF-8 JSON`); }
  }
  // No floats: strip strings, then look for a fraction or exponent next to a digit.
  if (/\d[.eE]|[.eE][+-]?\d/.test(String(text).replace(/"(?:[^"\\]|\\.)*"/g, '""'))) {
    throw new FormatError(`${where}: expected a beacon JSON object, got a non-integer number`);
  }
  let obj;
  try { obj = JSON.parse(text); } catch (e) { throw new FormatError(`${where}: expected a beacon JSON object, got invalid JSON (${e.message})`); }
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw new FormatError(`${where}: expected a JSON object, got ${Array.isArray(obj) ? 'array' : typeof obj}`);
  const extra = Object.keys(obj).filter((k) => !['round', 'signature', 'randomness'].includes(k)).sort();
  if (extra.length) throw new FormatError(`${where}: expected only round, signature and randomness, got ${extra.join(', ')}`);
  const r = obj.round;
  if (!Number.isSafeInteger(r) || r < 1) throw new FormatError(`${where}, field 'round': expected an integer >= 1, got ${JSON.stringify(r)}`);
  const sig = obj.signature;
  if (typeof sig !== 'string' || !/^[0-9a-f]{96}$/.test(sig)) {
    throw new FormatError(`${where}, field 'signature': expected 96 lowercase hex digits (a G1 signature), got ${JSON.stringify(sig)}`);
  }
  const signature = fromHex(sig);
  const randomness = await sha256(signature);
  if ('randomness' in obj) {
    const rnd = obj.randomness;
    if (typeof rnd !== 'string' || !/^[0-9a-f]{64}$/.test(rnd)) throw new FormatError(`${where}, field 'randomness': expected 64 lowercase hex digits, got ${JSON.stringify(rnd)}`);
    if (rnd !== toHex(randomness)) throw new IntegrityError(`${where}, field 'randomness': expected SHA-256(signature) = ${toHex(randomness)}, got ${rnd}`);
  }
  return { round: r, signature, randomness, text };
}

export async function roundMessage(round) {
  return sha256(uint64be(round));
}

let blsModule;
async function bls() {
  if (!blsModule) blsModule = (await import('../vendor/noble-curves/bls12-381.js')).bls12_381;
  return blsModule;
}

/** The BLS check alone: true when `signature` (48 bytes) signs `round` under `publicKeyHex` (G2). */
export async function blsVerifyRound(publicKeyHex, round, signature) {
  const b = await bls();
  const H = b.shortSignatures.hash(await roundMessage(round), DST_G1);
  try {
    return b.shortSignatures.verify(signature, H, fromHex(publicKeyHex));
  } catch {
    return false; // not a valid compressed G1 point, or not in the subgroup
  }
}

/**
 * Verify a parsed beacon against a pinned chain; resolve to its 32-byte randomness.
 * IntegrityError when the round is not the expected one, the chain is the test chain and
 * allowTestChain is not set, or the BLS signature does not verify.
 */
export async function verifyBeacon(beacon, chain = QUICKNET, { expectedRound, allowTestChain = false } = {}) {
  if (chain.testOnly && !allowTestChain) {
    throw new IntegrityError(`beacon round ${beacon.round} is from the test chain, not drand quicknet (the test chain's secret key is public)`);
  }
  if (expectedRound !== undefined && beacon.round !== expectedRound) {
    throw new IntegrityError(`beacon: expected round ${expectedRound}, got round ${beacon.round}`);
  }
  if (!(await blsVerifyRound(chain.publicKey, beacon.round, beacon.signature))) {
    throw new IntegrityError(`beacon round ${beacon.round}: the BLS signature does not verify under the ${chain.name} public key`);
  }
  return beacon.randomness;
}

/** RFC 3797 §4-style key string of one lottery result: [[9319],[2,5,12,8,10]] -> "9319./2.5.8.10.12./". */
export function encodeLottery(groups, where = 'lottery') {
  if (!Array.isArray(groups) || groups.length === 0) throw new FormatError(`${where}: expected a non-empty list of number groups, got ${JSON.stringify(groups)}`);
  let out = '';
  groups.forEach((g, i) => {
    if (!Array.isArray(g) || g.length === 0) throw new FormatError(`${where}[${i}]: expected a non-empty list of integers, got ${JSON.stringify(g)}`);
    for (const n of g) if (!Number.isSafeInteger(n) || n < 0) throw new FormatError(`${where}[${i}]: expected non-negative integers, got ${JSON.stringify(n)}`);
    out += [...g].sort((a, b) => a - b).map((n) => `${n}.`).join('') + '/';
  });
  return utf8(out);
}

/** Hex SHA-256 commitment to a department's 32-byte secret contribution. */
export async function contributionCommitment(task, department, secret) {
  if (secret.length !== 32) throw new FormatError(`contribution of ${JSON.stringify(department)}: expected a 32-byte secret, got ${secret.length} bytes`);
  return toHex(await sha256(frame(ALGORITHM, 'contribution', task, department, secret)));
}
