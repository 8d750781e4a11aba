// Ed25519 verification on both backends (WebCrypto and the vendored @noble/curves, strict RFC 8032).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verifyEd25519, setEd25519Backend, ed25519Backend } from '../../theme/static/js/verify/ed25519.js';
import { fromHex } from '../../theme/static/js/verify/bytes.js';
import { FormatError } from '../../theme/static/js/verify/errors.js';

// RFC 8032 §7.1 (https://www.rfc-editor.org/rfc/rfc8032#section-7.1), TEST 1, TEST 2 and TEST 3:
// public key, message, signature as printed in the RFC.
const RFC8032 = [
  ['d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a', '',
    'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b'],
  ['3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c', '72',
    '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00'],
  ['fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025', 'af82',
    '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a'],
].map(([pk, msg, sig]) => ({ pk: fromHex(pk), msg: fromHex(msg), sig: fromHex(sig) }));

// L, the order of the prime subgroup (RFC 8032 §5.1).
const L = 2n ** 252n + 27742317777372353535851937790883648493n;
function addL(sig) {
  // S is the little-endian second half; S + L < 2^256 is a non-canonical encoding of the same scalar.
  let s = 0n;
  for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(sig[i]);
  s += L;
  const out = sig.slice();
  for (let i = 32; i < 64; i++) { out[i] = Number(s & 255n); s >>= 8n; }
  return out;
}

for (const be of ['webcrypto', 'noble']) {
  test(`[${be}] RFC 8032 TEST 1-3 verify; tampered message, signature or key does not`, async () => {
    setEd25519Backend(be);
    assert.equal(await ed25519Backend(), be);
    for (const { pk, msg, sig } of RFC8032) {
      assert.equal(await verifyEd25519(pk, msg, sig), true);
      const m2 = Uint8Array.of(...msg, 0x78);
      assert.equal(await verifyEd25519(pk, m2, sig), false);
      const s2 = sig.slice(); s2[10] ^= 1;
      assert.equal(await verifyEd25519(pk, msg, s2), false);
      const k2 = pk.slice(); k2[3] ^= 1;
      assert.equal(await verifyEd25519(k2, msg, sig), false);
    }
    setEd25519Backend('auto');
  });

  test(`[${be}] rejects the malleable S + L form (strict RFC 8032, as OpenSSL and Go)`, async () => {
    setEd25519Backend(be);
    for (const { pk, msg, sig } of RFC8032) assert.equal(await verifyEd25519(pk, msg, addL(sig)), false);
    setEd25519Backend('auto');
  });
}

test('wrong key or signature lengths are format errors naming the length', async () => {
  const { pk, msg, sig } = RFC8032[0];
  await assert.rejects(verifyEd25519(pk.subarray(1), msg, sig), (e) => e instanceof FormatError && /expected 32 bytes, got 31/.test(e.message));
  await assert.rejects(verifyEd25519(pk, msg, sig.subarray(0, 63)), /expected 64 bytes, got 63/);
  assert.throws(() => setEd25519Backend('x'), FormatError);
});
