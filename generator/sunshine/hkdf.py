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

Speed note: for these one-block messages much of the cost is per-call overhead rather than the
compression function. CPython's built-in SHA-256 (``_sha2`` from 3.12, ``_sha256`` in 3.11) copies
its state with a ``memcpy``, while an OpenSSL hash object allocates a new EVP context on every
``copy()``; the built-in one is about 15 % faster per ticket on the reference machine. Both compute
SHA-256, so the bytes are the same; when the built-in module is absent (a build configured
``--without-builtin-hashlib-hashes``) :func:`hashlib.sha256` is used.

Pure: no I/O, no clock, no randomness.
"""

from __future__ import annotations

import hashlib
import hmac

try:  # CPython >= 3.12
    from _sha2 import sha256 as _sha256
except ImportError:  # pragma: no cover - depends on the interpreter
    try:  # CPython 3.11
        from _sha256 import sha256 as _sha256
    except ImportError:
        _sha256 = hashlib.sha256

HASH_LEN = 32
_BLOCK = 64  # SHA-256 block size in bytes (RFC 2104's B)
# frame()'s 4-byte big-endian length of a short ASCII item, as text (block1_keys_below's fast path)
_LEN4 = tuple(n.to_bytes(4, "big").decode("ascii") for n in range(128))


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
        self._inner = _sha256(bytes(b ^ 0x36 for b in key))
        self._outer = _sha256(bytes(b ^ 0x5C for b in key))

    def mac(self, msg: bytes) -> bytes:
        inner = self._inner.copy()
        inner.update(msg)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()

    def mac_prefixed(self, prefix: bytes):
        """A function ``f(msg) = HMAC-SHA256(prk, prefix + msg)`` that absorbs ``prefix`` once."""
        inner = self._inner.copy()
        inner.update(prefix)
        icopy = inner.copy
        ocopy = self._outer.copy

        def mac(msg: bytes) -> bytes:
            a = icopy()
            a.update(msg)
            b = ocopy()
            b.update(a.digest())
            return b.digest()

        return mac

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

    def block1_keys_below(self, prefix: bytes, labels, bound: bytes | None) -> list[bytes]:
        """``[t + label for label in labels if t < bound]`` with ``t = HKDF-Expand(prk, prefix + frame(label), 32)``.

        ``labels`` are ``str`` (encoded as UTF-8; ``frame`` as in :meth:`block1_many`), ``bound``
        a 32-byte big-endian number or ``None`` (keep every key), in the order of ``labels``. The
        selection keeps only the few keys below a bound, so this skips building the other
        ``ticket + label`` objects. ASCII labels shorter than 128 characters (every pool label)
        take a path that frames and encodes them in one step; the result is the same.
        """
        inner = self._inner.copy()
        inner.update(prefix)
        icopy = inner.copy
        ocopy = self._outer.copy
        out: list[bytes] = []
        append = out.append
        len4 = _LEN4
        try:
            if bound is None:
                for lb in labels:
                    a = icopy()
                    a.update((len4[len(lb)] + lb + "\x01").encode("ascii"))
                    b = ocopy()
                    b.update(a.digest())
                    append(b.digest() + lb.encode("ascii"))
            else:
                for lb in labels:
                    a = icopy()
                    a.update((len4[len(lb)] + lb + "\x01").encode("ascii"))
                    b = ocopy()
                    b.update(a.digest())
                    t = b.digest()
                    if t < bound:
                        append(t + lb.encode("ascii"))
            return out
        except (IndexError, UnicodeEncodeError):  # a long or non-ASCII label: the general path
            pass
        keys = self.block1_many(prefix, [lb.encode("utf-8") for lb in labels])
        return keys if bound is None else [k for k in keys if k[:HASH_LEN] < bound]
