// SHA-256, HMAC-SHA256 and HKDF-SHA256 on both backends (WebCrypto and the vendored @noble/hashes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  sha256, sha256Sync, hmacSha256, hkdf, hkdfExtract, hkdfExpand, setHashBackend, hashBackend,
} from '../../theme/static/js/verify/hash.js';
import { fromHex, toHex, utf8 } from '../../theme/static/js/verify/bytes.js';
import { FormatError } from '../../theme/static/js/verify/errors.js';

const range = (a, b) => Uint8Array.from({ length: b - a + 1 }, (_, i) => a + i);

// RFC 5869, Appendix A.1-A.3 (https://www.rfc-editor.org/rfc/rfc5869#appendix-A), values copied from the
// RFC text (A.2's inputs are the byte ranges 0x00..0x4f, 0x60..0xaf and 0xb0..0xff as printed there).
const RFC5869 = [
  {
    name: 'A.1 basic',
    ikm: fromHex('0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b'),
    salt: fromHex('000102030405060708090a0b0c'),
    info: fromHex('f0f1f2f3f4f5f6f7f8f9'),
    L: 42,
    prk: '077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5',
    okm: '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865',
  },
  {
    name: 'A.2 longer inputs and outputs',
    ikm: range(0x00, 0x4f),
    salt: range(0x60, 0xaf),
    info: range(0xb0, 0xff),
    L: 82,
    prk: '06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244',
    okm: 'b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c'
      + '59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71'
      + 'cc30c58179ec3e87c14c01d5c1f3434f1d87',
  },
  {
    name: 'A.3 zero-length salt and info',
    ikm: fromHex('0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b'),
    salt: new Uint8Array(0),
    info: new Uint8Array(0),
    L: 42,
    prk: '19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04',
    okm: '8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8',
  },
];

for (const be of ['webcrypto', 'noble']) {
  test(`[${be}] RFC 5869 HKDF-SHA256 test cases A.1-A.3`, async () => {
    setHashBackend(be);
    assert.equal(hashBackend(), be);
    for (const tc of RFC5869) {
      const prk = await hkdfExtract(tc.salt, tc.ikm);
      assert.equal(toHex(prk), tc.prk, `${tc.name} PRK`);
      assert.equal(toHex(await hkdfExpand(prk, tc.info, tc.L)), tc.okm, `${tc.name} OKM`);
      assert.equal(toHex(await hkdf(tc.salt, tc.ikm, tc.info, tc.L)), tc.okm, `${tc.name} HKDF`);
    }
    setHashBackend('auto');
  });

  test(`[${be}] SHA-256 FIPS 180-2 examples and HMAC-SHA256 RFC 4231 test case 2`, async () => {
    setHashBackend(be);
    // FIPS 180-2 Appendix B.1 / B.2 ("abc", the 448-bit message) and the empty string.
    assert.equal(toHex(await sha256(utf8('abc'))), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    assert.equal(toHex(await sha256(utf8('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'))),
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
    assert.equal(toHex(await sha256(new Uint8Array(0))), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    // RFC 4231 §4.3 (test case 2): key "Jefe", data "what do ya want for nothing?".
    assert.equal(toHex(await hmacSha256(utf8('Jefe'), utf8('what do ya want for nothing?'))),
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
    setHashBackend('auto');
  });
}

test('the two backends agree on random inputs, including the empty HMAC key', async () => {
  for (let n = 0; n < 200; n += 7) {
    const data = range(0, n).map((x) => (x * 31 + n) & 255);
    setHashBackend('webcrypto');
    const a = [await sha256(data), await hmacSha256(data.subarray(0, n % 70), data), await hkdf(data.subarray(0, 3), data, data.subarray(1, 9), n + 1)];
    setHashBackend('noble');
    const b = [await sha256(data), await hmacSha256(data.subarray(0, n % 70), data), await hkdf(data.subarray(0, 3), data, data.subarray(1, 9), n + 1)];
    setHashBackend('auto');
    assert.deepEqual(a.map(toHex), b.map(toHex));
    assert.equal(toHex(sha256Sync(data)), toHex(a[0]));
  }
});

test('HKDF-Expand refuses lengths over 255*HashLen and short PRKs', async () => {
  await assert.rejects(hkdfExpand(new Uint8Array(32), new Uint8Array(0), 255 * 32 + 1), FormatError);
  await assert.rejects(hkdfExpand(new Uint8Array(31), new Uint8Array(0), 32), /expected at least 32 bytes, got 31/);
  assert.equal((await hkdfExpand(new Uint8Array(32), new Uint8Array(0), 255 * 32)).length, 8160);
  assert.throws(() => setHashBackend('md5'), /expected 'webcrypto', 'noble' or 'auto', got "md5"/);
});
