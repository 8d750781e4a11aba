"""HKDF-SHA256 against RFC 5869 Appendix A.1–A.3, and the fast expander against the plain one.

The vectors are RFC 5869's (https://www.rfc-editor.org/rfc/rfc5869#appendix-A); the hex was
copied from the RFC's test cases as reproduced in ring's ``tests/hkdf_tests.txt``
(https://docs.rs/crate/gnir/latest/source/tests/hkdf_tests.txt, "Test Cases from RFC 5869") and,
for A.3's OKM, cross-checked against several independent test suites quoting the RFC.
"""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sunshine import hkdf

RFC5869 = [
    (  # A.1 Basic test case with SHA-256
        "0b" * 22,
        "000102030405060708090a0b0c",
        "f0f1f2f3f4f5f6f7f8f9",
        "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
    ),
    (  # A.2 Test with SHA-256 and longer inputs/outputs
        bytes(range(0x00, 0x50)).hex(),
        bytes(range(0x60, 0xB0)).hex(),
        bytes(range(0xB0, 0x100)).hex(),
        "06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244",
        "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41c65e590e09"
        "da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87",
    ),
    (  # A.3 Test with SHA-256 and zero-length salt/info
        "0b" * 22,
        "",
        "",
        "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04",
        "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8",
    ),
]


def test_a2_inputs_are_the_rfc_byte_ranges():
    # A.2 lists IKM 0x00..0x4f, salt 0x60..0xaf, info 0xb0..0xff (80 octets each).
    assert RFC5869[1][0].startswith("000102") and RFC5869[1][0].endswith("4d4e4f")
    assert RFC5869[1][1].startswith("606162") and RFC5869[1][1].endswith("adaeaf")
    assert RFC5869[1][2].startswith("b0b1b2") and RFC5869[1][2].endswith("fdfeff")


@pytest.mark.parametrize("ikm,salt,info,prk,okm", RFC5869, ids=["A.1", "A.2", "A.3"])
def test_rfc5869_vectors(ikm, salt, info, prk, okm):
    got_prk = hkdf.extract(bytes.fromhex(salt), bytes.fromhex(ikm))
    assert got_prk.hex() == prk
    assert hkdf.expand(got_prk, bytes.fromhex(info), len(okm) // 2).hex() == okm
    assert hkdf.hkdf(bytes.fromhex(salt), bytes.fromhex(ikm), bytes.fromhex(info), len(okm) // 2).hex() == okm


@pytest.mark.parametrize("ikm,salt,info,prk,okm", RFC5869, ids=["A.1", "A.2", "A.3"])
def test_expander_block1_is_the_first_okm_block(ikm, salt, info, prk, okm):
    ex = hkdf.Expander(bytes.fromhex(prk))
    assert ex.block1(bytes.fromhex(info)).hex() == okm[:64]


@given(prk=st.binary(min_size=32, max_size=100), info=st.binary(max_size=300))
def test_expander_matches_stdlib(prk, info):
    ex = hkdf.Expander(prk)
    assert ex.block1(info) == hkdf.expand(prk, info, 32)
    assert ex.mac(info) == hmac.new(prk, info, hashlib.sha256).digest()


@given(prk=st.binary(min_size=32, max_size=40), prefix=st.binary(max_size=40), items=st.lists(st.binary(max_size=40), max_size=5))
def test_block1_many_is_expand_of_prefix_and_framed_item(prk, prefix, items):
    ex = hkdf.Expander(prk)
    expected = [hkdf.expand(prk, prefix + len(i).to_bytes(4, "big") + i, 32) + i for i in items]
    assert ex.block1_many(prefix, items) == expected


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="expected a PRK of at least 32 bytes, got 5"):
        hkdf.expand(b"short", b"", 32)
    with pytest.raises(ValueError, match="expected an output length between 0 and 8160, got 8161"):
        hkdf.expand(bytes(32), b"", 8161)
    with pytest.raises(ValueError, match="at least 32 bytes"):
        hkdf.Expander(b"x")
