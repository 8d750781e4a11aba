"""HKDF-SHA256 (RFC 5869), with the standard library's :mod:`hmac`, and a fast keyed expander.

Wire format (RFC 5869 §2.2 and §2.3), with HashLen = 32::

    PRK = HMAC-SHA256(salt, IKM)                       # Extract; an empty salt means 32 zero bytes
    T(0) = ""
    T(i) = HMAC-SHA256(PRK, T(i-1) || info || i)       # i as one octet, 1..255
    OKM  = first L octets of T(1) || T(2) || …         # L <= 255 * 32

The draw (``docs/spec/draw.md``) derives one 32-byte ticket per pool member with
``HKDF-Expand(PRK, info, 32)``, which is the single block ``HMAC-SHA256(PRK, info || 0x01)``.
:class:`Expander` computes exactly that, a million times over, without re-keying HMAC for each
call: it keeps the two SHA-256 states after the inner and outer pads (RFC 2104) and copies them.
Its output is byte-identical to :func:`expand` (the tests check this).

Pure: no I/O, no clock, no randomness.
"""

from __future__ import annotations

import hashlib
import hmac

HASH_LEN = 32
_BLOCK = 64  # SHA-256 block size in bytes (RFC 2104's B)


def extract(salt: bytes, ikm: bytes) -> bytes:
    """HKDF-Extract: ``PRK = HMAC-SHA256(salt, IKM)``; an empty ``salt`` is 32 zero bytes."""
    if not salt:
        salt = bytes(HASH_LEN)
    return hmac.digest(salt, ikm, "sha256")


def expand(prk: bytes, info: bytes, length: int) -> bytes:
    """HKDF-Expand: ``length`` bytes of output keying material (``length`` ≤ 8160)."""
    if len(prk) < HASH_LEN:
        raise ValueError(f"expected a PRK of at least {HASH_LEN} bytes, got {len(prk)}")
    if not 0 <= length <= 255 * HASH_LEN:
        raise ValueError(f"expected an output length between 0 and {255 * HASH_LEN}, got {length}")
    out = bytearray()
    block = b""
    i = 1
    while len(out) < length:
        block = hmac.digest(prk, block + info + bytes([i]), "sha256")
        out += block
        i += 1
    return bytes(out[:length])


def hkdf(salt: bytes, ikm: bytes, info: bytes, length: int) -> bytes:
    """Extract-then-Expand (RFC 5869 §2)."""
    return expand(extract(salt, ikm), info, length)


class Expander:
    """``HMAC-SHA256(prk, ·)`` with the key schedule computed once.

    ``block1(info)`` is ``HKDF-Expand(prk, info, 32)``; ``mac(msg)`` is ``HMAC-SHA256(prk, msg)``.
    """

    __slots__ = ("_inner", "_outer")

    def __init__(self, prk: bytes) -> None:
        if len(prk) < HASH_LEN:
            raise ValueError(f"expected a PRK of at least {HASH_LEN} bytes, got {len(prk)}")
        key = prk if len(prk) <= _BLOCK else hashlib.sha256(prk).digest()
        key = key.ljust(_BLOCK, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))

    def mac(self, msg: bytes) -> bytes:
        inner = self._inner.copy()
        inner.update(msg)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()

    def block1(self, info: bytes) -> bytes:
        return self.mac(info + b"\x01")

    def block1_many(self, prefix: bytes, items):
        """``[HKDF-Expand(prk, prefix + frame(item), 32) + item for item in items]``.

        ``frame(item)`` is the item's 4-byte big-endian length then its bytes. With
        ``prefix = frame("target", stratum)`` and UTF-8 labels as items, each result is a member's
        ticket followed by its label, so plain ``bytes`` order is (ticket, label) order.
        """
        inner = self._inner.copy()
        inner.update(prefix)  # the inner hash absorbs the common prefix once
        icopy = inner.copy
        ocopy = self._outer.copy
        out = []
        append = out.append
        for item in items:
            a = icopy()
            a.update(len(item).to_bytes(4, "big") + item + b"\x01")
            b = ocopy()
            b.update(a.digest())
            append(b.digest() + item)
        return out
