// drand quicknet BLS verification (bls-unchained-g1-rfc9380) on the recorded real beacons in
// tests/vectors/drand/ (their provenance is in that directory's README), the project's test chain,
// RFC 3797 lottery encoding, and cross-checks against sunshine.beacon when the virtualenv is present.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import {
  QUICKNET, testChain, chainByHash, parseBeacon, verifyBeacon, roundTime, roundAt, encodeLottery, frame,
  contributionCommitment,
} from '../../theme/static/js/verify/beacon.js';
import { toHex, fromHex } from '../../theme/static/js/verify/bytes.js';
import { FormatError, IntegrityError } from '../../theme/static/js/verify/errors.js';

const DIR = new URL('../vectors/drand/', import.meta.url);
const files = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();
const quicknet = files.filter((f) => f.startsWith('quicknet-'));
const testBeacons = files.filter((f) => f.startsWith('test-'));
const read = (f) => readFileSync(new URL(f, DIR), 'utf8');
// The README's table of real rounds gives "randomness = SHA-256(signature)" as a prefix…suffix.
const readme = read('README.md');
const readmeRandomness = new Map([...readme.matchAll(/^\| (\d+) \| [^|]+ \| `([0-9a-f]+)…([0-9a-f]+)` \|/gm)].map((m) => [Number(m[1]), [m[2], m[3]]]));

test(`every recorded real quicknet beacon verifies (${quicknet.length} rounds)`, async () => {
  assert.ok(quicknet.length >= 6);
  for (const f of quicknet) {
    const b = await parseBeacon(read(f), f);
    assert.equal(`quicknet-${b.round}.json`, f);
    const rnd = toHex(await verifyBeacon(b, QUICKNET, { expectedRound: b.round }));
    const [pre, post] = readmeRandomness.get(b.round) || [];
    assert.ok(pre && rnd.startsWith(pre) && rnd.endsWith(post), `${f}: randomness ${rnd} vs README ${pre}…${post}`);
  }
});

test('a changed signature, another round or the wrong key does not verify', async () => {
  const b = await parseBeacon(read('quicknet-1000.json'));
  const sig = b.signature.slice(); sig[47] ^= 1;
  await assert.rejects(verifyBeacon({ ...b, signature: sig }), IntegrityError);
  await assert.rejects(verifyBeacon({ ...b, round: 1001 }), /beacon round 1001: the BLS signature does not verify under the quicknet public key/);
  await assert.rejects(verifyBeacon(b, QUICKNET, { expectedRound: 999 }), /expected round 999, got round 1000/);
  const tc = await testChain();
  await assert.rejects(verifyBeacon(b, tc, { allowTestChain: true }), /does not verify under the sunshine-test public key/);
});

test('test-chain beacons are refused unless the test chain is allowed, then verify', async () => {
  const tc = await testChain();
  assert.equal(await chainByHash(tc.chainHash), tc);
  assert.equal(await chainByHash(QUICKNET.chainHash), QUICKNET);
  await assert.rejects(chainByHash('00'.repeat(32)), /unknown drand chain: expected 52db9ba7/);
  assert.ok(testBeacons.length >= 1);
  for (const f of testBeacons) {
    const b = await parseBeacon(read(f), f);
    await assert.rejects(verifyBeacon(b, tc), /from the test chain, not drand quicknet/);
    await verifyBeacon(b, tc, { allowTestChain: true });
    await assert.rejects(verifyBeacon(b, QUICKNET), IntegrityError);
  }
});

test('parseBeacon is strict', async () => {
  const sig = JSON.parse(read('quicknet-1000.json')).signature;
  const cases = [
    [`{"round":1000,"signature":"${sig}","previous_signature":"00"}`, /expected only round, signature and randomness, got previous_signature/],
    [`{"round":1000.0,"signature":"${sig}"}`, /non-integer number/],
    [`{"round":0,"signature":"${sig}"}`, /field 'round': expected an integer >= 1, got 0/],
    [`{"round":"1000","signature":"${sig}"}`, /field 'round'/],
    [`{"round":1000,"signature":"${sig.toUpperCase()}"}`, /field 'signature': expected 96 lowercase hex digits/],
    [`{"round":1000,"signature":"${sig}","randomness":"${'0'.repeat(64)}"}`, /field 'randomness': expected SHA-256\(signature\) = fe290bec/],
    ['[1]', /expected a JSON object, got array/],
    ['{', /invalid JSON/],
  ];
  for (const [t, re] of cases) await assert.rejects(parseBeacon(t), re, t.slice(0, 40));
});

test('round times (README table) and RFC 3797 §6 lottery encoding', () => {
  assert.equal(new Date(roundTime(QUICKNET, 1000) * 1000).toISOString(), '2023-08-23T15:59:24.000Z');
  assert.equal(new Date(roundTime(QUICKNET, 32000000) * 1000).toISOString(), '2026-09-07T17:49:24.000Z');
  assert.equal(roundAt(QUICKNET, Date.parse('2025-04-10T02:00:00Z') / 1000), 17149012); // test-17149012.json
  assert.equal(new TextDecoder().decode(encodeLottery([[9319], [2, 5, 12, 8, 10]])), '9319./2.5.8.10.12./');
  assert.throws(() => encodeLottery([[1], []]), /lottery\[1\]: expected a non-empty list of integers/);
  assert.throws(() => encodeLottery([[-1]]), FormatError);
  assert.throws(() => roundTime(QUICKNET, 0), /expected a round number >= 1, got 0/);
});

const python = new URL('../../.venv/bin/python', import.meta.url).pathname;
test('frame, the test chain hash and contribution commitments equal sunshine.beacon',
  { skip: !existsSync(python) && 'no .venv/bin/python' }, async () => {
    const r = spawnSync(python, ['-c', [
      'from sunshine import beacon',
      'print(beacon.TEST_CHAIN.chain_hash)',
      "print(beacon.frame('sunshine.draw/v1', '阳光', bytes(range(5))).hex())",
      "print(beacon.contribution_commitment('2025-01', 'amr', bytes(range(32))))",
    ].join('\n')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const [chainHash, framed, commitment] = r.stdout.trim().split('\n');
    assert.equal((await testChain()).chainHash, chainHash);
    assert.equal(toHex(frame('sunshine.draw/v1', '阳光', Uint8Array.of(0, 1, 2, 3, 4))), framed);
    assert.equal(await contributionCommitment('2025-01', 'amr', Uint8Array.from({ length: 32 }, (_, i) => i)), commitment);
  });
