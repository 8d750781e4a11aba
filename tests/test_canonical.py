"""Tests for sunshine.canonical (RFC 8785 JCS, restricted profile: no floats).

Interop vectors: tests/vectors/interop/jcs/ (cyberphone/json-canonicalization testdata, see its
README). RFC 8785 examples are cited inline. The `rfc8785` PyPI package is an independent oracle
for the hypothesis test.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from sunshine.canonical import MAX_SAFE_INTEGER, decode, encode
from sunshine.errors import FormatError

JCS = Path(__file__).parent / "vectors" / "interop" / "jcs"


# --- interop: cyberphone/json-canonicalization testdata ---------------------------------------


@pytest.mark.parametrize("name", ["arrays", "french", "unicode", "weird"])
def test_cyberphone_vectors_encode(name: str) -> None:
    value = json.loads((JCS / "input" / f"{name}.json").read_bytes())
    expected = (JCS / "output" / f"{name}.json").read_bytes()
    assert encode(value) == expected
    assert decode(expected) == value


def test_cyberphone_structures_output_is_canonical_but_input_has_float() -> None:
    out = (JCS / "output" / "structures.json").read_bytes()
    assert encode(decode(out)) == out
    with pytest.raises(FormatError, match=r'\$\["1"\]\["\\n"\]: expected an integer, got the floating-point number 56\.0'):
        encode(json.loads((JCS / "input" / "structures.json").read_bytes()))


def test_cyberphone_values_output_rejected_for_floats() -> None:
    with pytest.raises(FormatError, match="fractions and exponents are not allowed"):
        decode((JCS / "output" / "values.json").read_bytes())


# --- RFC 8785 examples ------------------------------------------------------------------------


def test_rfc8785_section_3_2_3_sorting_example() -> None:
    # RFC 8785 §3.2.3: property names sorted by UTF-16 code units. The RFC's example object, minus the
    # float-valued members our profile forbids, with values replaced by the names' descriptions there.
    obj = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    # The RFC's output lists the values in the order: Carriage Return, One, Control, Latin Small Letter O
    # With Diaeresis, Euro Sign, Emoji: Grinning Face, Hebrew Letter Dalet With Dagesh.
    expected = (
        '{"\\r":"Carriage Return","1":"One","\u0080":"Control",'
        '"\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign",'
        '"\U0001f600":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}'
    )
    assert encode(obj) == expected.encode("utf-8")


def test_rfc8785_section_3_2_2_2_string_escapes() -> None:
    # RFC 8785 §3.2.2.2 example: "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/"
    # serializes as "€$\u000f\nA'B\"\\\\\"/"
    value = json.loads(r'"\u20ac$\u000F\u000aA\'\u0042\u0022\u005c\\\"\/"'.replace("\\'", "'"))
    assert encode(value) == '"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"'.encode("utf-8")


# --- encode ------------------------------------------------------------------------------------


def test_encode_basic_values() -> None:
    assert encode(None) == b"null"
    assert encode(True) == b"true"
    assert encode(False) == b"false"
    assert encode(0) == b"0"
    assert encode(-12) == b"-12"
    assert encode("") == b'""'
    assert encode([]) == b"[]"
    assert encode({}) == b"{}"
    assert encode((1, "a")) == b'[1,"a"]'
    assert encode({"b": [1, {"z": None, "a": False}], "a": "x"}) == b'{"a":"x","b":[1,{"a":false,"z":null}]}'


def test_encode_escapes_only_what_rfc8785_requires() -> None:
    assert encode("\x00\x1f\x7f\u2028</>") == '"\\u0000\\u001f\x7f\u2028</>"'.encode("utf-8")
    assert encode("\b\t\n\f\r\"\\") == b'"\\b\\t\\n\\f\\r\\"\\\\"'
    assert encode("阳光抽查") == '"阳光抽查"'.encode("utf-8")


def test_encode_integer_range() -> None:
    assert encode(MAX_SAFE_INTEGER) == b"9007199254740991"
    assert encode(-MAX_SAFE_INTEGER) == b"-9007199254740991"
    with pytest.raises(FormatError, match=r"\$\[0\]: expected an integer within ±\(2\*\*53-1\), got 9007199254740992"):
        encode([MAX_SAFE_INTEGER + 1])
    with pytest.raises(FormatError, match="got -9007199254740992"):
        encode(-MAX_SAFE_INTEGER - 1)


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        (1.0, r"\$: expected an integer, got the floating-point number 1\.0"),
        ({"a": {"b": float("nan")}}, r"\$\.a\.b: expected an integer, got the floating-point number nan"),
        ({1: "x"}, r"\$: expected object member names to be strings, got int 1"),
        (b"x", r"\$: expected null, bool, int, str, list or dict, got bytes"),
        ({"s": {1, 2}}, r"\$\.s: expected null, bool, int, str, list or dict, got set"),
        ("a\ud800b", r"\$: expected a valid Unicode string, got a lone surrogate U\+D800 at character 1"),
        ({"\udfff": 1}, r"lone surrogate U\+DFFF"),
    ],
)
def test_encode_rejects(obj: object, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        encode(obj)


# --- decode ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"a":1,"a":2}', r"expected unique object member names, got 'a' twice"),
        (b"1.5", r"expected an integer, got the number 1\.5"),
        (b"1e3", r"got the number 1e3"),
        (b"NaN", r"expected a JSON value, got NaN"),
        (b"Infinity", r"got Infinity"),
        (b"9007199254740992", r"expected an integer within ±\(2\*\*53-1\), got 9007199254740992"),
        (b"1" + b"0" * 5000, r"expected an integer within"),
        (b'"\\ud800"', r"lone surrogate U\+D800"),
        (b'"\xed\xa0\x80"', r"expected UTF-8, got invalid byte\(s\) at offset 1"),
        (b"\xff", r"expected UTF-8, got invalid byte\(s\) at offset 0: ff"),
        (b'{"a":', r"invalid JSON at character 5"),
        (b"", r"invalid JSON at character 0"),
        (b'{"b":1,"a":2}', r"non-canonical JSON at byte offset 2: expected b'a"),
        (b'{"a": 1}', r"non-canonical JSON at byte offset 5"),
        (b"[1,2] ", r"non-canonical JSON at byte offset 5"),
        (b"-0", r"non-canonical JSON at byte offset 0"),
        (b'"\\u00e9"', r"non-canonical JSON at byte offset 1"),
        (b'"\\/"', r"non-canonical JSON at byte offset 1"),
        (b'"\\u001F"', r"non-canonical JSON at byte offset 6"),
        (b"\xef\xbb\xbf{}", r"invalid JSON"),
    ],
)
def test_decode_rejects(data: bytes, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        decode(data)


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    deep: list = []
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(FormatError, match="nested at most"):
        encode(deep)
    with pytest.raises(FormatError, match="nested at most"):
        decode(b"[" * 100_000 + b"]" * 100_000)
    assert decode(b"[" * 200 + b"]" * 200) is not None


def test_decode_rejects_non_bytes() -> None:
    with pytest.raises(FormatError, match="expected bytes, got str"):
        decode("{}")  # type: ignore[arg-type]


def test_decode_accepts_canonical() -> None:
    assert decode(b'{"a":[1,-2,true,null],"b":"\\u001f"}') == {"a": [1, -2, True, None], "b": "\x1f"}
    assert decode(bytearray(b"[]")) == []


# --- properties ------------------------------------------------------------------------------

_ints = st.integers(min_value=-MAX_SAFE_INTEGER, max_value=MAX_SAFE_INTEGER)
_text = st.text(st.characters(blacklist_categories=("Cs",)))
json_values = st.recursive(
    st.none() | st.booleans() | _ints | _text,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(_text, children, max_size=5),
    max_leaves=30,
)


@settings(max_examples=150, deadline=None)
@given(json_values)
def test_round_trip(value: object) -> None:
    data = encode(value)
    assert decode(data) == value
    assert encode(decode(data)) == data


@settings(max_examples=150, deadline=None)
@given(json_values)
def test_agrees_with_rfc8785_package(value: object) -> None:
    assert encode(value) == rfc8785.dumps(value)


@settings(max_examples=100, deadline=None)
@given(json_values)
def test_pretty_printed_is_rejected_unless_identical(value: object) -> None:
    pretty = json.dumps(value, indent=1, ensure_ascii=True).encode()
    if pretty != encode(value):
        with pytest.raises(FormatError):
            decode(pretty)
