// RFC 8785 JSON Canonicalization Scheme, in the project's restricted profile (docs/spec/ledger.md §2,
// generator/sunshine/canonical.py): null, booleans, integers within ±(2^53 − 1), strings, arrays, objects.
// No floating-point numbers. Object members sorted by UTF-16 code units; no whitespace; the only
// escapes are \" \\ \b \t \n \f \r and \u00XX (lowercase) for the other controls below U+0020.
//
// encodeCanonical(value) -> Uint8Array    refuses anything outside the profile (FormatError naming the path)
// decodeCanonical(bytes) -> value          strict: accepts exactly the bytes encodeCanonical would produce
import { FormatError } from './errors.js';
import { utf8 } from './bytes.js';

export const MAX_SAFE_INTEGER = Number.MAX_SAFE_INTEGER; // 2^53 - 1

const ESC = { '"': '\\"', '\\': '\\\\', '\b': '\\b', '\t': '\\t', '\n': '\\n', '\f': '\\f', '\r': '\\r' };

function memberPath(where, name) {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? `${where}.${name}` : `${where}[${JSON.stringify(name)}]`;
}

const SURROGATE = /[\uD800-\uDFFF]/;
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const NEEDS_ESCAPE = /["\\\u0000-\u001f]/;

function checkString(s, where) {
  if (!SURROGATE.test(s)) return;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) { i++; continue; }
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      throw new FormatError(`${where}: expected a valid Unicode string, got a lone surrogate U+${c.toString(16).toUpperCase()} at code unit ${i}`);
    }
  }
}

function encodeString(s, where) {
  checkString(s, where);
  if (!NEEDS_ESCAPE.test(s)) return '"' + s + '"';
  let out = '"';
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    if (ESC[ch]) out += ESC[ch];
    else if (c < 0x20) out += '\\u' + c.toString(16).padStart(4, '0');
    else out += ch;
  }
  return out + '"';
}

function typeName(v) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (v instanceof Uint8Array) return 'Uint8Array';
  return typeof v;
}

function enc(v, where, out) {
  if (v === null) out.push('null');
  else if (v === true) out.push('true');
  else if (v === false) out.push('false');
  else if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new FormatError(`${where}: expected an integer, got the floating-point number ${v}`);
    if (!Number.isSafeInteger(v)) throw new FormatError(`${where}: expected an integer within ±(2**53-1), got ${v}`);
    out.push(Object.is(v, -0) ? '0' : String(v));
  } else if (typeof v === 'bigint') {
    if (v > BigInt(MAX_SAFE_INTEGER) || v < -BigInt(MAX_SAFE_INTEGER)) {
      throw new FormatError(`${where}: expected an integer within ±(2**53-1), got ${v}`);
    }
    out.push(v.toString());
  } else if (typeof v === 'string') out.push(encodeString(v, where));
  else if (Array.isArray(v)) {
    out.push('[');
    v.forEach((item, i) => { if (i) out.push(','); enc(item, `${where}[${i}]`, out); });
    out.push(']');
  } else if (typeof v === 'object' && [Object.prototype, null].includes(Object.getPrototypeOf(v))) {
    const names = Object.keys(v);
    for (const n of names) checkString(n, `${where} member name ${JSON.stringify(n)}`);
    names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)); // JS string order = UTF-16 code unit order
    out.push('{');
    names.forEach((n, i) => {
      if (i) out.push(',');
      out.push(encodeString(n, where), ':');
      enc(v[n], memberPath(where, n), out);
    });
    out.push('}');
  } else {
    throw new FormatError(`${where}: expected null, boolean, integer, string, array or plain object, got ${typeName(v)}`);
  }
}

/** The canonical encoding of `value` as a string. */
export function canonicalString(value) {
  const out = [];
  enc(value, '$', out);
  return out.join('');
}

/** The canonical encoding of `value` as UTF-8 bytes. */
export function encodeCanonical(value) {
  return utf8(canonicalString(value));
}

// A strict JSON reader over the decoded text. It rejects what the profile forbids with a precise
// message; anything it accepts is then re-encoded and compared byte for byte with the input.
class Reader {
  constructor(text) { this.s = text; this.i = 0; }
  fail(msg) { throw new FormatError(`invalid canonical JSON at character ${this.i}: ${msg}`); }
  ws() { while (/[ \t\n\r]/.test(this.s[this.i] || '')) this.i++; }
  value(depth) {
    if (depth > 1000) this.fail('nesting deeper than 1000');
    this.ws();
    const c = this.s[this.i];
    if (c === '{') return this.object(depth);
    if (c === '[') return this.array(depth);
    if (c === '"') return this.string();
    if (c === '-' || (c >= '0' && c <= '9')) return this.number();
    for (const [lit, val] of [['true', true], ['false', false], ['null', null]]) {
      if (this.s.startsWith(lit, this.i)) { this.i += lit.length; return val; }
    }
    if (c === undefined) this.fail('unexpected end of input');
    const word = /^[A-Za-z]+/.exec(this.s.slice(this.i));
    this.fail(`expected a JSON value, got ${word ? word[0] : JSON.stringify(c)}`);
  }
  object(depth) {
    this.i++;
    const obj = {};
    const seen = new Set();
    this.ws();
    if (this.s[this.i] === '}') { this.i++; return obj; }
    for (;;) {
      this.ws();
      if (this.s[this.i] !== '"') this.fail('expected a member name');
      const name = this.string();
      if (seen.has(name)) this.fail(`expected unique object member names, got ${JSON.stringify(name)} twice`);
      seen.add(name);
      this.ws();
      if (this.s[this.i] !== ':') this.fail("expected ':'");
      this.i++;
      Object.defineProperty(obj, name, { value: this.value(depth + 1), enumerable: true, writable: true, configurable: true });
      this.ws();
      const c = this.s[this.i++];
      if (c === '}') return obj;
      if (c !== ',') { this.i--; this.fail("expected ',' or '}'"); }
    }
  }
  array(depth) {
    this.i++;
    const arr = [];
    this.ws();
    if (this.s[this.i] === ']') { this.i++; return arr; }
    for (;;) {
      arr.push(this.value(depth + 1));
      this.ws();
      const c = this.s[this.i++];
      if (c === ']') return arr;
      if (c !== ',') { this.i--; this.fail("expected ',' or ']'"); }
    }
  }
  number() {
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(this.s.slice(this.i, this.i + 400));
    if (!m) this.fail('expected a number');
    if (m[2] || m[3]) this.fail(`expected an integer, got the number ${m[0]} (fractions and exponents are not allowed)`);
    const digits = m[0].replace('-', '');
    if (digits.length > 16 || !Number.isSafeInteger(Number(m[0]))) this.fail(`expected an integer within ±(2**53-1), got ${m[0]}`);
    this.i += m[0].length;
    return Number(m[0]);
  }
  string() {
    const start = this.i;
    this.i++;
    let out = '';
    for (;;) {
      const c = this.s[this.i];
      if (c === undefined) this.fail('unterminated string');
      if (c === '"') { this.i++; break; }
      if (c < ' ') this.fail('unescaped control character in string');
      if (c === '\\') {
        const e = this.s[this.i + 1];
        const simple = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' }[e];
        if (simple !== undefined) { out += simple; this.i += 2; continue; }
        if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(this.s.substr(this.i + 2, 4))) {
          out += String.fromCharCode(parseInt(this.s.substr(this.i + 2, 4), 16));
          this.i += 6;
          continue;
        }
        this.fail('invalid escape');
      }
      out += c;
      this.i++;
    }
    try {
      checkString(out, 'string');
    } catch (e) {
      this.i = start;
      this.fail(e.message.replace(/^string: /, ''));
    }
    return out;
  }
}

/**
 * Parse canonical JSON bytes strictly. FormatError for invalid UTF-8, invalid JSON, duplicate names,
 * non-integers, out-of-range integers, lone surrogates, or valid JSON not in canonical form (the message
 * gives the byte offset of the first difference).
 */
export function decodeCanonical(bytes, what = 'canonical JSON') {
  if (!(bytes instanceof Uint8Array)) throw new FormatError(`${what}: expected bytes, got ${typeName(bytes)}`);
  let text;
  try {
    text = STRICT_UTF8.decode(bytes);
  } catch {
    throw new FormatError(`${what}: expected UTF-8, got invalid bytes`);
  }
  let value;
  try {
    const r = new Reader(text);
    value = r.value(0);
    r.ws();
    if (r.i !== text.length) r.fail('trailing data');
  } catch (e) {
    if (e instanceof FormatError) throw new FormatError(`${what}: ${e.message}`);
    throw e;
  }
  const again = encodeCanonical(value);
  let same = again.length === bytes.length;
  for (let i = 0; same && i < again.length; i++) if (again[i] !== bytes[i]) same = false;
  if (!same) {
    let pos = 0;
    while (pos < again.length && pos < bytes.length && again[pos] === bytes[pos]) pos++;
    const show = (b) => JSON.stringify(new TextDecoder().decode(b.subarray(pos, pos + 12)));
    throw new FormatError(`${what}: non-canonical JSON at byte offset ${pos}: expected ${show(again)}…, got ${show(bytes)}…`);
  }
  return value;
}
