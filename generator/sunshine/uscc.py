"""统一社会信用代码 (USCC, GB 32100-2015) and legacy 15-digit registration numbers.

A USCC is 18 characters over ``0123456789ABCDEFGHJKLMNPQRTUWXY`` (values 0–30; I, O, Z, S, V
are never used)::

    position 1     登记管理部门代码 (registration authority)
    position 2     机构类别代码 (organisation kind)
    positions 3–8  登记管理机关行政区划码 (6-digit division code)
    positions 9–17 主体标识码 (organisation code, GB 11714)
    position 18    check character

Check character: with weights w_i = 3^(i-1) mod 31 for positions 1–17,
``c18 = (31 - Σ value(c_i)·w_i mod 31) mod 31``. Some real early codes fail this check, so a
well-formed code with a wrong check character is a *warning*, not an error.

Legacy 工商注册号 are 15 digits (GB 12405 check digit, ISO 7064 MOD 11,10), accepted as labels.
"""

from __future__ import annotations

import re

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
_USCC_SHAPE = re.compile(r"[0-9A-HJ-NP-RTUWXY]{2}[0-9]{6}[0-9A-HJ-NP-RTUWXY]{10}")
_LEGACY_SHAPE = re.compile(r"[0-9]{15}")


def check_character(first17: str) -> str:
    """The check character for the first 17 characters of a USCC."""
    if len(first17) != 17:
        raise ValueError(f"expected 17 characters, got {len(first17)}")
    try:
        total = sum(_VALUE[c] * w for c, w in zip(first17, _WEIGHTS))
    except KeyError as exc:
        raise ValueError(f"character {exc.args[0]!r} is not in the USCC alphabet") from None
    return ALPHABET[(31 - total % 31) % 31]


def is_uscc_shape(code: str) -> bool:
    """18 characters from the alphabet, positions 3–8 digits (check character not tested)."""
    return len(code) == 18 and _USCC_SHAPE.fullmatch(code) is not None


def uscc_check_ok(code: str) -> bool:
    """True when a well-shaped USCC carries the right check character."""
    return is_uscc_shape(code) and check_character(code[:17]) == code[17]


def is_legacy_registration_number(code: str) -> bool:
    """15 digits (old 工商注册号)."""
    return _LEGACY_SHAPE.fullmatch(code) is not None


def legacy_check_ok(code: str) -> bool:
    """GB 12405 check digit of a 15-digit registration number (ISO 7064 MOD 11,10)."""
    if not is_legacy_registration_number(code):
        return False
    p = 10
    for ch in code[:14]:
        s = (p + int(ch)) % 10 or 10
        p = (2 * s) % 11
    return (p + int(code[14])) % 10 == 1


def describe_problem(code: str) -> tuple[str, str] | None:
    """Return ``(severity, message)`` for a target code, or ``None`` when it is fine.

    Opaque ids ``P-…`` (products, projects, behaviours) are accepted as they are.
    """
    if code.startswith("P-") and len(code) > 2 and code.isascii() and code.isprintable():
        return None
    if len(code) == 15 and code.isdigit():
        if legacy_check_ok(code):
            return None
        return ("warning", "legacy 15-digit registration number with a wrong check digit")
    if is_uscc_shape(code):
        expected = check_character(code[:17])
        if expected == code[17]:
            return None
        return ("warning", f"USCC check character: expected {expected!r}, got {code[17]!r} (GB 32100)")
    return (
        "error",
        "expected an 18-character USCC (GB 32100), a 15-digit registration number "
        f"or an opaque id 'P-…', got {code!r}",
    )
