// Ledger entry envelope (docs/spec/ledger.md §6): strict parsing, the unsigned bytes, signatures and the
// replay of keys, on entries made here with WebCrypto Ed25519 keys. (Entries made by the Python side are
// covered by tests/js/site.test.mjs and sample-data.test.mjs.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import { parseEntry, withoutSig, signedMessage, LedgerState, ZERO_HASH } from '../../theme/static/js/verify/entries.js';
import { encodeCanonical } from '../../theme/static/js/verify/canonical.js';
import { formatVerifierKey } from '../../theme/static/js/verify/note.js';
import { toBase64, utf8 } from '../../theme/static/js/verify/bytes.js';
import { FormatError, IntegrityError } from '../../theme/static/js/verify/errors.js';

const ORIGIN = 'sunshine.example/js-test';
async function keypair() {
  const k = await webcrypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify']);
  return { priv: k.privateKey, pub: new Uint8Array(await webcrypto.subtle.exportKey('raw', k.publicKey)) };
}
async function entry(key, fields) {
  const unsigned = encodeCanonical({ v: 1, ...fields });
  const sig = new Uint8Array(await webcrypto.subtle.sign('Ed25519', key.priv, signedMessage(ORIGIN, unsigned)));
  return encodeCanonical({ v: 1, ...fields, sig: toBase64(sig) });
}

test('a chain of entries made here replays; withoutSig equals the canonical encoding without sig', async () => {
  const log = await keypair();
  const root = await keypair();
  const vkey = await formatVerifierKey(ORIGIN, log.pub);
  const rec = { name: 'amr-root', department: 'amr', role: 'root', alg: 'ed25519', public_key: toBase64(root.pub) };
  const g = await entry(log, { seq: 0, prev: ZERO_HASH, time: '2025-01-02T01:00:00Z', type: 'genesis', signer: ORIGIN,
    body: { origin: ORIGIN, jurisdiction: 'x', name: '示例', office: 'amr', departments: [{ id: 'amr', name: '市场监管局' }], log_key: vkey, keys: [rec] } });
  const e0 = await parseEntry(g);
  const second = await entry(root, { seq: 1, prev: e0.hash, time: '2025-01-02T02:00:00Z', type: 'key.register', signer: 'amr-root',
    body: { key: { ...rec, name: 'amr-op', role: 'operator', public_key: toBase64((await keypair()).pub) } } });
  const e1 = await parseEntry(second);
  for (const e of [e0, e1]) {
    const obj = JSON.parse(new TextDecoder().decode(e.raw));
    delete obj.sig;
    assert.deepEqual(withoutSig(e.raw), encodeCanonical(obj));
  }
  const state = new LedgerState(ORIGIN);
  await state.apply(e0);
  await state.apply(e1, { defer: true });
  await state.verifyPending();
  assert.deepEqual([...state.keys.keys()], ['amr-root', 'amr-op']);
  assert.equal(state.findings.length, 0);
  // the same second entry with a changed body no longer verifies
  const tampered = await parseEntry(utf8(new TextDecoder().decode(second).replace('"operator"', '"head"')));
  const s2 = new LedgerState(ORIGIN);
  await s2.apply(e0);
  await assert.rejects(s2.apply(tampered), /entry 1: signature by amr-root does not verify/);
  // a broken link
  const s3 = new LedgerState(ORIGIN);
  await s3.apply(e0);
  await assert.rejects(s3.apply({ ...e1, prev: '1'.repeat(64) }), (e) => e instanceof IntegrityError && /hash chain broken/.test(e.message));
});

test('parseEntry is strict about the envelope', async () => {
  const base = { body: {}, prev: ZERO_HASH, seq: 3, sig: 'A'.repeat(86) + '==', signer: 'amr-op', time: '2025-01-02T01:00:00Z', type: 'items.publish', v: 1 };
  await parseEntry(encodeCanonical(base));
  const bad = [
    [{ ...base, v: 2 }, /entry\.v: expected 1, got 2/],
    [{ ...base, extra: 1 }, /unexpected extra/],
    [{ ...base, time: '2025-02-30T01:00:00Z' }, /entry\.time/],
    [{ ...base, prev: 'AB'.repeat(32) }, /entry\.prev: expected 64 lowercase hex digits/],
    [{ ...base, type: 'draw.redo' }, /entry\.type: expected one of/],
    [{ ...base, sig: 'AAAA' }, /entry\.sig/],
    [{ ...base, signer: 'a b' }, /entry\.signer/],
    [{ ...base, type: 'draw.commit' }, /expected member 'task'/],
  ];
  for (const [obj, re] of bad) await assert.rejects(parseEntry(encodeCanonical(obj)), (e) => e instanceof FormatError && re.test(e.message), String(re));
  await assert.rejects(parseEntry(utf8('{"v":1, "seq":0}')), /non-canonical JSON/);
  await assert.rejects(parseEntry(new Uint8Array(16 * 1024 + 1)), /expected at most 16384 bytes/);
});
