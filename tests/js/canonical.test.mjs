// RFC 8785 canonical JSON (integers-only profile): the same interop vectors the Python side uses
// (tests/vectors/interop/jcs/, cyberphone/json-canonicalization testdata, see its README), the RFC's
// examples, the same rejections as tests/test_canonical.py, and a differential test against the Python
// encoder (sunshine.canonical.encode) when the project's virtualenv is present.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { encodeCanonical, decodeCanonical, canonicalString } from '../../theme/static/js/verify/canonical.js';
import { FormatError } from '../../theme/static/js/verify/errors.js';

const root = new URL('../../', import.meta.url);
const JCS = new URL('tests/vectors/interop/jcs/', root);
const read = (p) => new Uint8Array(readFileSync(new URL(p, JCS)));
const str = (b) => new TextDecoder().decode(b);
const bytes = (s) => new TextEncoder().encode(s);

test('cyberphone vectors: arrays, french, unicode, weird encode to the reference output', () => {
  for (const name of ['arrays', 'french', 'unicode', 'weird']) {
    const value = JSON.parse(str(read(`input/${name}.json`)));
    const expected = read(`output/${name}.json`);
    assert.equal(str(encodeCanonical(value)), str(expected), name);
    assert.deepEqual(decodeCanonical(expected), value, name);
  }
});

test('cyberphone vectors: structures output is canonical; values output is rejected for its floats', () => {
  const out = read('output/structures.json');
  assert.deepEqual(encodeCanonical(decodeCanonical(out)), out);
  assert.throws(() => decodeCanonical(read('output/values.json')), /fractions and exponents are not allowed/);
});

test('RFC 8785 §3.2.3 sorting example (float members left out) and §3.2.2.2 string escapes', () => {
  const obj = {
    '\u20ac': 'Euro Sign', '\r': 'Carriage Return', '\ufb33': 'Hebrew Letter Dalet With Dagesh', 1: 'One',
    '\u{1f600}': 'Emoji: Grinning Face', '\u0080': 'Control', '\u00f6': 'Latin Small Letter O With Diaeresis',
  };
  assert.equal(canonicalString(obj),
    '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis",'
    + '"\u20ac":"Euro Sign","\u{1f600}":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}');
  const value = JSON.parse('"\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/"');
  assert.equal(canonicalString(value), '"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"');
});

test('basic values and escapes', () => {
  assert.equal(canonicalString(null), 'null');
  assert.equal(canonicalString([true, false, 0, -12, '', [], {}]), '[true,false,0,-12,"",[],{}]');
  assert.equal(canonicalString({ b: [1, { z: null, a: false }], a: 'x' }), '{"a":"x","b":[1,{"a":false,"z":null}]}');
  assert.equal(canonicalString('\x00\x1f\x7f\u2028</>'), '"\\u0000\\u001f\x7f\u2028</>"');
  assert.equal(canonicalString('阳光抽查'), '"阳光抽查"');
  assert.equal(canonicalString(9007199254740991), '9007199254740991');
  assert.equal(canonicalString({ __proto__: null, x: 1 }), '{"x":1}');
  assert.deepEqual(Object.keys(decodeCanonical(bytes('{"__proto__":1}'))), ['__proto__']);
});

test('encode refuses what the profile forbids, naming the path', () => {
  const cases = [
    [1.5, /^\$: expected an integer, got the floating-point number 1.5$/],
    [{ a: { b: NaN } }, /^\$\.a\.b: expected an integer, got the floating-point number NaN/],
    [[9007199254740992], /^\$\[0\]: expected an integer within ±\(2\*\*53-1\), got 9007199254740992/],
    ['a\ud800b', /lone surrogate U\+D800 at code unit 1/],
    [{ '\udfff': 1 }, /lone surrogate U\+DFFF/],
    [new Uint8Array(1), /expected null, boolean, integer, string, array or plain object, got Uint8Array/],
    [{ d: new Date(0) }, /^\$\.d: expected null/],
    [undefined, /got undefined/],
  ];
  for (const [v, re] of cases) assert.throws(() => encodeCanonical(v), (e) => e instanceof FormatError && re.test(e.message), String(re));
});

test('decode rejects the same inputs as the Python decoder', () => {
  const cases = [
    ['{"a":1,"a":2}', /expected unique object member names, got "a" twice/],
    ['1.5', /expected an integer, got the number 1\.5/],
    ['1e3', /got the number 1e3/],
    ['NaN', /expected a JSON value, got NaN/],
    ['Infinity', /got Infinity/],
    ['9007199254740992', /expected an integer within ±\(2\*\*53-1\), got 9007199254740992/],
    ['1' + '0'.repeat(5000), /expected an integer within/],
    ['"\\ud800"', /lone surrogate U\+D800/],
    ['{"a":', /unexpected end of input/],
    ['', /unexpected end of input/],
    ['{"b":1,"a":2}', /non-canonical JSON at byte offset 2: expected "a/],
    ['{"a": 1}', /non-canonical JSON at byte offset 5/],
    ['[1,2] ', /non-canonical JSON at byte offset 5/],
    ['-0', /non-canonical JSON at byte offset 0/],
    ['"\\u00e9"', /non-canonical JSON at byte offset 1/],
    ['"\\/"', /non-canonical JSON at byte offset 1/],
    ['"\\u001F"', /non-canonical JSON at byte offset 6/],
    ['\ufeff{}', /expected a JSON value/],
    ['[1]x', /trailing data/],
  ];
  for (const [s, re] of cases) assert.throws(() => decodeCanonical(bytes(s)), (e) => e instanceof FormatError && re.test(e.message), `${s.slice(0, 20)} ${re}`);
  assert.throws(() => decodeCanonical(Uint8Array.of(0xed, 0xa0, 0x80)), /expected UTF-8/);
  assert.throws(() => decodeCanonical(Uint8Array.of(0xff)), /expected UTF-8/);
  assert.throws(() => decodeCanonical('{}'), /expected bytes, got string/);
  assert.deepEqual(decodeCanonical(bytes('{"a":[1,-2,true,null],"b":"\\u001f"}')), { a: [1, -2, true, null], b: '\x1f' });
});

// A small deterministic generator (xorshift32) of values in the profile.
function generator(seed) {
  let x = seed >>> 0 || 1;
  const next = () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x; };
  const pool = ['a', 'B', '0', '\u0000', '\u001f', '"', '\\', '\u007f', 'é', '€', '阳', '光', '\u2028', '\ufb33', '\u{1f600}', '\u{10ffff}', ' ', '/'];
  const text = () => Array.from({ length: next() % 6 }, () => pool[next() % pool.length]).join('');
  const value = (d) => {
    const k = next() % (d > 3 ? 4 : 6);
    if (k === 0) return [null, true, false][next() % 3];
    if (k === 1) return [0, -1, 7, 9007199254740991, -9007199254740991, next(), -next()][next() % 7];
    if (k === 2 || k === 3) return text();
    if (k === 4) return Array.from({ length: next() % 4 }, () => value(d + 1));
    const o = {};
    for (let i = next() % 5; i > 0; i--) o[text()] = value(d + 1);
    return o;
  };
  return () => value(0);
}

test('round trip on generated values', () => {
  const gen = generator(12345);
  for (let i = 0; i < 500; i++) {
    const v = gen();
    const b = encodeCanonical(v);
    assert.deepEqual(decodeCanonical(b), v);
    assert.deepEqual(encodeCanonical(decodeCanonical(b)), b);
  }
});

const python = new URL('.venv/bin/python', root).pathname;
test('byte-for-byte equal to the Python encoder (sunshine.canonical) on 300 generated values',
  { skip: !existsSync(python) && 'no .venv/bin/python' }, () => {
    const gen = generator(987654321);
    const values = Array.from({ length: 300 }, gen);
    const script = 'import json,sys\nfrom sunshine.canonical import encode\n'
      + 'for line in sys.stdin.buffer.read().split(b"\\n"): sys.stdout.write(encode(json.loads(line)).hex()+"\\n")\n';
    const r = spawnSync(python, ['-c', script], { input: values.map((v) => JSON.stringify(v)).join('\n'), encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, values.length);
    values.forEach((v, i) => assert.equal(Buffer.from(encodeCanonical(v)).toString('hex'), lines[i], JSON.stringify(v)));
  });
