"""RFC 8785 JSON Canonicalization Scheme (JCS), in a restricted profile.

Every ledger entry and every signed JSON body is the JCS encoding of a JSON value, so that
signatures and hashes are over exactly one byte string per value.

Wire format (RFC 8785 §3.2, restricted):

* the value is ``null``, ``true``, ``false``, an integer, a string, an array or an object;
* **no floating-point numbers**: integers only, within ±(2**53 − 1) (the range in which an
  IEEE 754 double, and so every JSON implementation, represents them exactly); written in
  decimal without leading zeros, ``-0``, fraction or exponent;
* strings are valid Unicode (no lone surrogates), encoded in UTF-8; the only escapes are
  ``\\"``, ``\\\\``, ``\\b``, ``\\t``, ``\\n``, ``\\f``, ``\\r`` and ``\\u00XX`` (lowercase hex) for
  the other control characters below U+0020; everything else is written literally
  (RFC 8785 §3.2.2.2);
* object members are sorted by their names compared as arrays of UTF-16 code units
  (RFC 8785 §3.2.3); member names are unique;
* no whitespace anywhere.

:func:`encode` produces that form and refuses anything outside the profile. :func:`decode` is
strict: it accepts exactly the bytes :func:`encode` would produce for the value it reads, and
raises :class:`~sunshine.errors.FormatError` for anything else (invalid UTF-8, invalid JSON,
duplicate member names, numbers with a fraction or exponent, out-of-range integers, lone
surrogates, or merely non-canonical spelling such as whitespace or unsorted keys).
"""

from __future__ import annotations

import json
import re
from typing import Any

from .errors import FormatError

__all__ = ["MAX_SAFE_INTEGER", "encode", "decode"]

#: Largest integer magnitude allowed (Number.MAX_SAFE_INTEGER in ECMAScript).
MAX_SAFE_INTEGER = 2**53 - 1

_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}
for _c in range(0x20):
    _ESCAPES.setdefault(chr(_c), f"\\u{_c:04x}")
del _c



def _utf16_key(name: str) -> bytes:
    # Big-endian UTF-16 bytes compare exactly like the sequence of UTF-16 code units.
    return name.encode("utf-16-be", "surrogatepass")


_SURROGATE = re.compile("[\ud800-\udfff]")
_TO_ESCAPE = re.compile(r'["\\\x00-\x1f]')
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def _escape(m: re.Match[str]) -> str:
    return _ESCAPES[m.group()]


class _Fail(Exception):
    """An encoding error; the path to the offending value is collected while unwinding."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.parts: list[str | int] = []


def _surrogate_message(s: str) -> str | None:
    m = _SURROGATE.search(s)
    if m:
        return f"expected a valid Unicode string, got a lone surrogate U+{ord(m.group()):04X} at character {m.start()}"
    return None


def _encode_string(s: str) -> str:
    if _SURROGATE.search(s):
        raise _Fail(_surrogate_message(s) or "")
    return '"' + _TO_ESCAPE.sub(_escape, s) + '"'


def _sorted_names(names: list[str]) -> list[str]:
    # Code-point order equals UTF-16 code-unit order unless a name has a character above U+FFFF.
    if any(_ASTRAL.search(n) for n in names):
        return sorted(names, key=_utf16_key)
    return sorted(names)


def _render_path(parts: list[str | int]) -> str:
    out = "$"
    for part in reversed(parts):
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.isascii() and part.isidentifier():
            out += f".{part}"
        else:
            out += f"[{json.dumps(part, ensure_ascii=False)}]"
    return out


def _type_name(obj: object) -> str:
    return type(obj).__name__


def _encode(obj: Any, out: list[str]) -> None:
    if obj is None:
        out.append("null")
    elif obj is True:
        out.append("true")
    elif obj is False:
        out.append("false")
    elif isinstance(obj, str):
        out.append(_encode_string(obj))
    elif isinstance(obj, int):
        if not -MAX_SAFE_INTEGER <= obj <= MAX_SAFE_INTEGER:
            raise _Fail(f"expected an integer within ±(2**53-1), got {obj}", "store large numbers as decimal strings")
        out.append(str(int(obj)))
    elif isinstance(obj, dict):
        names = list(obj)
        for name in names:
            if not isinstance(name, str):
                raise _Fail(f"expected object member names to be strings, got {_type_name(name)} {name!r}")
            problem = _surrogate_message(name) if _SURROGATE.search(name) else None
            if problem:
                raise _Fail(f"member name {name!r}: {problem}")
        out.append("{")
        first = True
        for name in _sorted_names(names):
            if not first:
                out.append(",")
            first = False
            out.append(_encode_string(name))
            out.append(":")
            try:
                _encode(obj[name], out)
            except _Fail as f:
                f.parts.append(name)
                raise
        out.append("}")
    elif isinstance(obj, (list, tuple)):
        out.append("[")
        for i, item in enumerate(obj):
            if i:
                out.append(",")
            try:
                _encode(item, out)
            except _Fail as f:
                f.parts.append(i)
                raise
        out.append("]")
    elif isinstance(obj, float):
        raise _Fail(
            f"expected an integer, got the floating-point number {obj!r}",
            "the canonical JSON profile has no floats; use an integer or a decimal string",
        )
    else:
        raise _Fail(f"expected null, bool, int, str, list or dict, got {_type_name(obj)}")


def encode(obj: object) -> bytes:
    """Return the RFC 8785 canonical JSON encoding of ``obj`` as UTF-8 bytes.

    ``obj`` is built from ``dict`` (string keys), ``list``/``tuple``, ``str``, ``int``,
    ``bool`` and ``None``. Raises :class:`FormatError` naming the offending path (``$`` is
    the root, e.g. ``$.body.items[3]``) on floats, out-of-range integers, lone surrogates,
    non-string keys and any other type.
    """
    out: list[str] = []
    try:
        _encode(obj, out)
    except _Fail as f:
        raise FormatError(f"{_render_path(f.parts)}: {f.message}", hint=f.hint) from None
    except RecursionError:
        raise FormatError("expected JSON nested at most a few hundred levels deep, got deeper nesting") from None
    return "".join(out).encode("utf-8")


class _Reject(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, value in pairs:
        if name in result:
            raise _Reject(f"expected unique object member names, got {name!r} twice")
        result[name] = value
    return result


def _parse_float(text: str) -> Any:
    raise _Reject(f"expected an integer, got the number {text} (fractions and exponents are not allowed)")


def _parse_constant(text: str) -> Any:
    raise _Reject(f"expected a JSON value, got {text}")


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > 16:
        raise _Reject(f"expected an integer within ±(2**53-1), got {text}")
    value = int(text)
    if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
        raise _Reject(f"expected an integer within ±(2**53-1), got {text}")
    return value


def decode(data: bytes) -> object:
    """Parse canonical JSON ``data`` strictly and return the value.

    Raises :class:`FormatError` when ``data`` is not UTF-8, not JSON, has duplicate member
    names, non-integer numbers, integers out of range or lone surrogates, or when it is valid
    but not in canonical form (the message gives the byte offset of the first difference).
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise FormatError(f"expected bytes, got {_type_name(data)}")
    data = bytes(data)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FormatError(
            f"expected UTF-8, got invalid byte(s) at offset {exc.start}: {data[exc.start:exc.end].hex()}"
        ) from None
    # Fast path: the C parser without hooks, then re-encode. Anything unusual (duplicate names,
    # floats, big integers, non-canonical spelling) makes the bytes differ or encode() fail, and is
    # then diagnosed precisely by the strict parse below.
    try:
        value = json.loads(text)
        if encode(value) == data:
            return value
    except (ValueError, RecursionError, FormatError):
        pass
    try:
        value = json.loads(
            text,
            object_pairs_hook=_pairs_hook,
            parse_float=_parse_float,
            parse_int=_parse_int,
            parse_constant=_parse_constant,
        )
    except _Reject as exc:
        raise FormatError(f"invalid canonical JSON: {exc.message}") from None
    except json.JSONDecodeError as exc:
        raise FormatError(f"invalid JSON at character {exc.pos}: {exc.msg}") from None
    except RecursionError:
        raise FormatError("expected JSON nested at most a few hundred levels deep, got deeper nesting") from None
    except ValueError as exc:
        raise FormatError(f"invalid JSON: {exc}") from None
    try:
        again = encode(value)
    except FormatError as exc:
        raise FormatError(f"invalid canonical JSON: {exc.message}") from None
    if again != data:
        n = min(len(again), len(data))
        pos = next((i for i in range(n) if again[i] != data[i]), n)
        got = data[pos : pos + 12]
        want = again[pos : pos + 12]
        raise FormatError(
            f"non-canonical JSON at byte offset {pos}: expected {want!r}…, got {got!r}…",
            hint="re-encode the value with RFC 8785 (sorted keys, no whitespace, minimal escapes)",
        )
    return value
