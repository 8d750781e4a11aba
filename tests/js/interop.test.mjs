// Signed notes, checkpoints and cosignatures from other implementations, read from the files the Python
// tests use (tests/vectors/interop/, see each README for source and commit):
// - sigsum-go pkg/checkpoint/checkpoint_test.go: a real sum.golang.org checkpoint with the Go checksum
//   database key; sigsum's checkpoint signed by the key with seed {17}; its witness cosignature lines;
// - transparency-dev/formats note/note_cosigv1_test.go: cosignature/v1 verifier keys and timestamps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { openNote, parseNote, parseVerifierKey, formatVerifierKey, verifyCosignatures, cosignatureTimestamp, keyId, ALG_COSIGNATURE_V1 } from '../../theme/static/js/verify/note.js';
import { parseCheckpoint } from '../../theme/static/js/verify/checkpoint.js';
import { utf8, toHex } from '../../theme/static/js/verify/bytes.js';
import { sha256 } from '../../theme/static/js/verify/hash.js';
import { FormatError, IntegrityError } from '../../theme/static/js/verify/errors.js';
import { ed25519 } from '../../theme/static/js/vendor/noble-curves/ed25519.js';

const INTEROP = new URL('../vectors/interop/', import.meta.url);
const SIGSUM = readFileSync(new URL('sigsum/checkpoint_test.go', INTEROP), 'utf8');
const TDF = readFileSync(new URL('transparency-dev-formats/note_cosigv1_test.go', INTEROP), 'utf8');
const goRaw = (src, name) => new RegExp(`\\b${name}\\s*=\\s*\`([^\`]*)\``).exec(src)[1];
const goStr = (src, name) => JSON.parse(new RegExp(`\\b${name}\\s*=\\s*("(?:[^"\\\\]|\\\\.)*")`).exec(src)[1]);
// crypto.PrivateKey{17}: a 32-byte Ed25519 seed whose first byte is 17, the rest zero.
const SEED17 = Uint8Array.from({ length: 32 }, (_, i) => (i === 0 ? 17 : 0));

test('sigsum TestGoSumDBCheckpoint: a real sum.golang.org checkpoint verifies under the Go checksum database key', async () => {
  const db = goRaw(SIGSUM, 'dbCheckpoint');
  const key = await parseVerifierKey(goStr(SIGSUM, 'noteKey'));
  const n = await openNote(utf8(db), [key]);
  const cp = parseCheckpoint(n.text);
  assert.deepEqual([cp.origin, cp.size], ['go.sum database tree', 30055305]);
  await assert.rejects(openNote(utf8(db.replace('30055305', '30055306')), [key]), IntegrityError);
});

test('sigsum validCheckpointASCII: the checkpoint signed by seed {17} verifies; its origin names the key', async () => {
  const text = goRaw(SIGSUM, 'validCheckpointASCII');
  const pub = ed25519.getPublicKey(SEED17);
  const origin = text.split('\n')[0];
  assert.equal(origin, `sigsum.org/v1/tree/${toHex(await sha256(pub))}`);
  const n = await openNote(utf8(text), [await parseVerifierKey(await formatVerifierKey(origin, pub))]);
  assert.equal(parseCheckpoint(n.text).size, 10);
});

test('sigsum TestCheckpointVerifyCosignatureByKey: the witness line with the right key ID and name verifies at time 1234', async () => {
  const cpText = goRaw(SIGSUM, 'testCheckpointASCII').split('\n\n')[0] + '\n';
  const lines = /input := `\n([\s\S]*?)`\[1:\]/.exec(SIGSUM)[1];
  const pub = ed25519.getPublicKey(SEED17);
  const w = await parseVerifierKey(await formatVerifierKey('example.org/witness', pub, ALG_COSIGNATURE_V1));
  assert.deepEqual(await verifyCosignatures(utf8(cpText + '\n' + lines), [w]), [{ name: 'example.org/witness', keyId: w.keyId, timestamp: 1234 }]);
  // Only the second line is by this key (the first has another key ID, the third another name).
  const second = lines.split('\n')[1];
  assert.equal((await verifyCosignatures(utf8(cpText + '\n' + second + '\n'), [w]))[0].timestamp, 1234);
  const other = lines.split('\n')[0];
  assert.deepEqual(await verifyCosignatures(utf8(cpText + '\n' + other + '\n'), [w]), []);
  // Another timestamp (the signed message changes): the cosignature no longer verifies.
  const b64 = second.split(' ')[2];
  const raw = Buffer.from(b64, 'base64'); raw[11]++;
  await assert.rejects(verifyCosignatures(utf8(cpText + `\n— example.org/witness ${raw.toString('base64')}\n`), [w]), /invalid cosignature for witness key example.org\/witness/);
});

test('transparency-dev/formats TestCoSigV1NewVerifier: Ed25519 and cosignature/v1 keys parse; malformed ones do not', async () => {
  const block = TDF.slice(TDF.indexOf('func TestCoSigV1NewVerifier'), TDF.indexOf('func TestCoSigV1Timestamp'));
  const cases = [...block.matchAll(/name:\s*"([^"]+)",\s*pubK:\s*("(?:[^"\\]|\\.)*"(?:\s*\+\s*\w+)?),(\s*wantErr:\s*true,)?/g)];
  assert.ok(cases.length >= 8);
  // sigStoreKeyMaterial is defined in another file of the upstream package, not copied here; those two
  // cases (a non-hex and an all-zero key hash) are then refused with an empty key as well.
  const material = /sigStoreKeyMaterial\s*=\s*"([^"]+)"/.exec(TDF);
  for (const [, name, expr, wantErr] of cases) {
    const m = /^("(?:[^"\\]|\\.)*")(?:\s*\+\s*(\w+))?$/.exec(expr);
    const vkey = JSON.parse(m[1]) + (m[2] ? (material ? material[1] : '') : '');
    const mldsa = name.includes('MLDSA44');
    if (wantErr || mldsa) {
      // ML-DSA-44 (type 0x06) is out of scope, as on the Python side: refused as an unsupported type.
      await assert.rejects(parseVerifierKey(vkey), FormatError, name);
    } else {
      const v = await parseVerifierKey(vkey);
      assert.equal(v.keyId, await keyId(v.name, v.alg, v.publicKey), name);
    }
  }
});

test('transparency-dev/formats TestCoSigV1Timestamp', () => {
  const block = TDF.slice(TDF.indexOf('func TestCoSigV1Timestamp'));
  const sigs = [...block.matchAll(/Base64: "([^"]*)"/g)].map((m) => JSON.parse(`"${m[1]}"`));
  assert.equal(sigs.length, 3);
  assert.equal(cosignatureTimestamp(sigs[0]), Number(/time\.Unix\((\d+), 0\)/.exec(block)[1]));
  assert.throws(() => cosignatureTimestamp(sigs[1]), /expected 76 bytes/); // an Ed25519 (0x01) signature
  assert.throws(() => cosignatureTimestamp(sigs[2]), FormatError); // gibberish
});

test('parseNote keeps all four witness lines of the sigsum input, in order', () => {
  const lines = /input := `\n([\s\S]*?)`\[1:\]/.exec(SIGSUM)[1];
  const n = parseNote(utf8('example.org/log\n10\nHA5HAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n' + lines));
  assert.deepEqual(n.signatures.map((s) => s.name), ['example.org/witness', 'example.org/witness', 'example.org/witness-2', 'example.org/witness']);
});
