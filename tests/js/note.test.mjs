// C2SP signed-note and tlog-checkpoint. Vectors are read (not retyped) from the same files the Python
// tests use:
// - tests/vectors/interop/go-sumdb/note_note_test.go: Go's golang.org/x/mod/sumdb/note/note_test.go
//   (TestNewVerifier, TestVerifierList, TestOpen, reproduced case by case);
// - tests/vectors/interop/go-sumdb/tlog_note_test.go: TestParseTree's golden tree note;
// - tests/vectors/interop/c2sp/*.md: the C2SP spec examples (signed-note, tlog-checkpoint, tlog-cosignature).
// See the READMEs of those directories for commits and licences.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  parseVerifierKey, formatVerifierKey, parseNote, openNote, verifyCosignatures, keyId, isValidKeyName,
  ALG_COSIGNATURE_V1,
} from '../../theme/static/js/verify/note.js';
import { parseCheckpoint, formatCheckpoint } from '../../theme/static/js/verify/checkpoint.js';
import { utf8, fromBase64, toBase64, concatBytes, toHex } from '../../theme/static/js/verify/bytes.js';
import { leafHash } from '../../theme/static/js/verify/merkle.js';
import { FormatError, IntegrityError } from '../../theme/static/js/verify/errors.js';
import { webcrypto } from 'node:crypto';

const INTEROP = new URL('../vectors/interop/', import.meta.url);
const GO = readFileSync(new URL('go-sumdb/note_note_test.go', INTEROP), 'utf8');
const GO_TLOG = readFileSync(new URL('go-sumdb/tlog_note_test.go', INTEROP), 'utf8');
const C2SP_NOTE = readFileSync(new URL('c2sp/signed-note.md', INTEROP), 'utf8');
const C2SP_CP = readFileSync(new URL('c2sp/tlog-checkpoint.md', INTEROP), 'utf8');
// A Go string literal assigned to `name` (first occurrence after `after`): "…" with \n escapes, or `…`.
function goString(src, name, after = '') {
  const from = after ? src.indexOf(after) : 0;
  const m = new RegExp(`\\b${name}\\s*:?=\\s*("(?:[^"\\\\]|\\\\.)*"|\x60[^\x60]*\x60)`).exec(src.slice(from));
  if (!m) throw new Error(`${name} not found in the Go test file`);
  return m[1][0] === '"' ? JSON.parse(m[1]) : m[1].slice(1, -1);
}
const peterKey = goString(GO, 'peterKey', 'func TestOpen');
const enochKey = goString(GO, 'enochKey', 'func TestOpen');
const text = goString(GO, 'text', 'func TestOpen');
const peterSig = goString(GO, 'peterSig', 'func TestOpen');
const enochSig = goString(GO, 'enochSig', 'func TestOpen');
// Go's Signature{Name, Hash, Base64} values of TestOpen, from the signature lines above.
const sigOf = (line, keyIdValue) => ({ name: line.split(' ')[1], keyId: keyIdValue, base64: line.trim().split(' ')[2] });
const peter = sigOf(peterSig, 0xc74f20a3);
const enoch = sigOf(enochSig, 0xaf0cfe78);
const open = (s, keys) => openNote(utf8(s), keys);
// Go slices strings by bytes ("—" is 3 bytes in UTF-8): sig[:60] + "ABCD" + sig[60:].
const spliceBytes = (s, at, ins) => { const b = Buffer.from(s); return b.subarray(0, at).toString() + ins + b.subarray(at).toString(); };

test('TestNewVerifier: the key parses; every substring and every one-byte mangling is refused', async () => {
  const v = await parseVerifierKey(peterKey);
  assert.equal(v.name, 'PeterNeumann');
  assert.equal(v.keyId, 0xc74f20a3);
  assert.equal(await formatVerifierKey(v.name, v.publicKey), peterKey);
  const b = Buffer.from(peterKey);
  let refused = 0;
  for (let i = 0; i <= b.length; i++) {
    for (let j = i + 1; j <= b.length; j++) {
      if (i === 0 && j === b.length) continue;
      await assert.rejects(parseVerifierKey(b.subarray(i, j).toString('latin1')), FormatError);
      refused++;
    }
  }
  for (let i = 0; i < b.length; i++) {
    const m = Buffer.from(b); m[i]++;
    await assert.rejects(parseVerifierKey(m.toString('latin1')), FormatError);
  }
  assert.ok(refused > 2000);
  // wrong length key, with adjusted key hash; unknown algorithm, with adjusted key hash
  await assert.rejects(parseVerifierKey('PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=='), FormatError);
  await assert.rejects(parseVerifierKey('PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'), /key type/);
});

test('TestOpen: one verified and one unknown signature', async () => {
  const pk = await parseVerifierKey(peterKey);
  const n = await open(text + '\n' + peterSig + enochSig, [pk]);
  assert.equal(n.text, text);
  assert.deepEqual(n.verified, [{ name: peter.name, keyId: peter.keyId }]);
  assert.deepEqual(n.unverified, [enoch]);
});

test('TestOpen: both verified; none verifiable', async () => {
  const pk = await parseVerifierKey(peterKey);
  const ek = await parseVerifierKey(enochKey);
  const n = await open(text + '\n' + peterSig + enochSig, [pk, ek]);
  assert.deepEqual(n.verified.map((s) => s.name), ['PeterNeumann', 'EnochRoot']);
  assert.equal(n.unverified.length, 0);
  await assert.rejects(open(text + '\n' + peterSig + enochSig, []), (e) => {
    assert.ok(e instanceof IntegrityError);
    assert.equal(e.message, 'note has no verifiable signatures');
    assert.deepEqual(e.note.unverified, [peter, enoch]);
    return true;
  });
});

test('TestOpen / TestVerifierList: duplicated verifier is ambiguous only when used', async () => {
  const pk = await parseVerifierKey(peterKey);
  const ek = await parseVerifierKey(enochKey);
  await assert.rejects(open(text + '\n' + enochSig, [ek, pk, ek]), /^FormatError: ambiguous key EnochRoot\+af0cfe78$|ambiguous key EnochRoot\+af0cfe78/);
  await open(text + '\n' + peterSig, [ek, pk, ek]);
});

test('TestOpen: too many signatures, an invalid signature, duplicates dropped', async () => {
  const pk = await parseVerifierKey(peterKey);
  await assert.rejects(open(text + '\n' + peterSig.repeat(101), [pk]), /^malformed note|malformed note: more than 100 signatures/);
  await assert.rejects(open(text + '\n' + peterSig.repeat(101), []), /malformed note/);
  await assert.rejects(open(text + '\n' + spliceBytes(peterSig, 60, 'ABCD'), [pk]),
    (e) => e instanceof IntegrityError && e.message === 'invalid signature for key PeterNeumann+c74f20a3');
  const enochABCD = { ...enoch, base64: 'rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n' + 'ABCD' + '2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=' };
  const n = await open(text + '\n' + peterSig + peterSig + enochSig + enochSig + spliceBytes(enochSig, 60, 'ABCD'), [pk]);
  assert.deepEqual(n.verified, [{ name: peter.name, keyId: peter.keyId }]);
  assert.deepEqual(n.unverified, [enoch, enochABCD]);
});

test('TestOpen: invalid encoded message syntax is a malformed note', async () => {
  const pk = await parseVerifierKey(peterKey);
  const bad = [
    text,
    text + '\n',
    text + '\n' + peterSig.slice(0, -1),
    '\x01' + text + '\n' + peterSig,
    text + '\n' + '— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=',
    text + '\n' + peterSig + 'Unexpected line.\n',
  ];
  for (const m of bad) await assert.rejects(open(m, [pk]), (e) => e instanceof FormatError && /^malformed note/.test(e.message), JSON.stringify(m.slice(-30)));
  // "\xff" + text: not UTF-8
  await assert.rejects(openNote(concatBytes(Uint8Array.of(0xff), utf8(text + '\n' + peterSig)), [pk]), /expected valid UTF-8/);
});

test('TestOpen: a signature whose name or key id differs from the key is not taken as verified', async () => {
  const pk = await parseVerifierKey(peterKey);
  const misnamed = peterSig.replaceAll('PeterNeumann', 'CarmenSandiego');
  await assert.rejects(open(text + '\n' + misnamed, [pk]), /no verifiable signatures/);
  const wrongHash = peterSig.replaceAll('x08g', 'xxxx');
  await assert.rejects(open(text + '\n' + wrongHash, [pk]), /no verifiable signatures/);
});

test('key names follow Go isValidName (Unicode white space and "+" refused)', () => {
  for (const n of ['a', 'sunshine.example/shiyi', '示例市', 'a\ufeffb']) assert.ok(isValidKeyName(n), n);
  for (const n of ['', 'a b', 'a+b', 'a\u3000b', 'a\u0085b', 'a\tb']) assert.ok(!isValidKeyName(n), JSON.stringify(n));
});

test('tlog-cosignature/v1: a witness cosignature made here verifies; tampering is an integrity error', async () => {
  const kp = await webcrypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify']);
  const pub = new Uint8Array(await webcrypto.subtle.exportKey('raw', kp.publicKey));
  const vkey = await formatVerifierKey('witness.example', pub, ALG_COSIGNATURE_V1);
  const wk = await parseVerifierKey(vkey);
  const cp = 'example.com/log\n5\nQ4ZkK6sIzw/0tuyXM1ikzsB0Cg0QcbfdyvKRPWbwV0Q=\n';
  const ts = 1700000000n;
  const tsb = new Uint8Array(8); new DataView(tsb.buffer).setBigUint64(0, ts);
  const sig = new Uint8Array(await webcrypto.subtle.sign('Ed25519', kp.privateKey, utf8(`cosignature/v1\ntime ${ts}\n${cp}`)));
  const idb = new Uint8Array(4); new DataView(idb.buffer).setUint32(0, await keyId('witness.example', ALG_COSIGNATURE_V1, pub));
  const line = `— witness.example ${toBase64(concatBytes(idb, tsb, sig))}\n`;
  assert.deepEqual(await verifyCosignatures(utf8(cp + '\n' + line), [wk]), [{ name: 'witness.example', keyId: wk.keyId, timestamp: 1700000000 }]);
  const forged = cp.replace('\n5\n', '\n6\n');
  await assert.rejects(verifyCosignatures(utf8(forged + '\n' + line), [wk]), /invalid cosignature for witness key witness.example/);
});

test('tlog-checkpoint: parse and format; non-canonical spellings refused', () => {
  const root = fromBase64('Q4ZkK6sIzw/0tuyXM1ikzsB0Cg0QcbfdyvKRPWbwV0Q=');
  const cp = parseCheckpoint('example.com/log\n5\nQ4ZkK6sIzw/0tuyXM1ikzsB0Cg0QcbfdyvKRPWbwV0Q=\nextra line\n');
  assert.deepEqual({ ...cp, root: toBase64(cp.root) }, { origin: 'example.com/log', size: 5, root: toBase64(root), extensions: ['extra line'] });
  assert.equal(formatCheckpoint(cp), 'example.com/log\n5\nQ4ZkK6sIzw/0tuyXM1ikzsB0Cg0QcbfdyvKRPWbwV0Q=\nextra line\n');
  const bad = [
    ['example.com/log\n5\nQ4ZkK6sIzw/0tuyXM1ikzsB0Cg0QcbfdyvKRPWbwV0Q=', /ending in a newline/],
    ['example.com/log\n5\n', /at least 3 lines/],
    ['\n5\nQ4ZkK6sIzw/0tuyXM1ikzsB0Cg0QcbfdyvKRPWbwV0Q=\n', /non-empty origin/],
    ['o\n05\nQ4ZkK6sIzw/0tuyXM1ikzsB0Cg0QcbfdyvKRPWbwV0Q=\n', /line 2: expected the tree size in decimal without leading zeros, got "05"/],
    ['o\n-1\nQ4ZkK6sIzw/0tuyXM1ikzsB0Cg0QcbfdyvKRPWbwV0Q=\n', /line 2/],
    ['o\n18446744073709551615\nQ4ZkK6sIzw/0tuyXM1ikzsB0Cg0QcbfdyvKRPWbwV0Q=\n', /larger than this verifier supports/],
    ['o\n5\nQ4ZkK6sIzw/0tuyXM1ikzsB0Cg0QcbfdyvKRPWbwV0Q\n', /line 3: expected the root hash in base64/],
    ['o\n5\nQ4ZkK6sIzw==\n', /line 3: expected a 32-byte root hash, got 7 bytes/],
    ['o\n5\nQ4ZkK6sIzw/0tuyXM1ikzsB0Cg0QcbfdyvKRPWbwV0Q=\n\n', /line 4: expected a non-empty extension line/],
  ];
  for (const [t, re] of bad) assert.throws(() => parseCheckpoint(t), (e) => e instanceof FormatError && re.test(e.message), t);
});

test('parseNote exposes the signature lines without verifying', () => {
  const n = parseNote(utf8(text + '\n' + peterSig + enochSig));
  assert.equal(n.text, text);
  assert.deepEqual(n.signatures.map((s) => [s.name, s.keyId, s.signature.length]), [['PeterNeumann', 0xc74f20a3, 64], ['EnochRoot', 0xaf0cfe78, 64]]);
});

test('C2SP signed-note example: the spec\'s verifier key verifies the spec\'s note', async () => {
  const section = C2SP_NOTE.slice(C2SP_NOTE.indexOf('### Example'));
  const vkey = /^    (\S+\+[0-9a-f]{8}\+\S+)$/m.exec(section)[1];
  const signed = /```\n([\s\S]*?)```/.exec(section)[1];
  const n = await openNote(utf8(signed), [await parseVerifierKey(vkey)]);
  assert.equal(n.text, 'This is an example message.\n');
  assert.equal(n.verified.length, 1);
  await assert.rejects(openNote(utf8(signed.replace('example message', 'exemplary message')), [await parseVerifierKey(vkey)]), IntegrityError);
});

test('Go tlog TestParseTree golden and bad trees; C2SP tlog-checkpoint example', async () => {
  const golden = goString(GO_TLOG, 'in', 'func TestParseTree');
  const cp = parseCheckpoint(golden);
  assert.equal(cp.origin, 'go.sum database tree');
  assert.equal(cp.size, 123456789012);
  assert.equal(toHex(cp.root), toHex(await leafHash(utf8('hello world')))); // RecordHash([]byte("hello world"))
  assert.equal(formatCheckpoint(cp), golden);
  const bad = [...GO_TLOG.slice(GO_TLOG.indexOf('var badTrees')).matchAll(/^\t\t"(go\.sum[^"]*)",$/gm)].map((m) => JSON.parse(`"${m[1]}"`));
  assert.equal(bad.length, 2);
  for (const t of bad) assert.throws(() => parseCheckpoint(t), FormatError, t);
  const example = /```\n(example\.com\/behind-the-sofa[\s\S]*?)```/.exec(C2SP_CP)[1];
  const { text: cpText, signatures } = parseNote(utf8(example));
  const c = parseCheckpoint(cpText);
  assert.deepEqual([c.origin, c.size, toBase64(c.root)], ['example.com/behind-the-sofa', 20852163, 'CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=']);
  assert.equal(signatures[0].name, 'example.com/behind-the-sofa');
});
