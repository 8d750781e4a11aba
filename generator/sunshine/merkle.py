"""RFC 6962 / RFC 9162 §2.1 Merkle tree hashing, proofs and their verification.

Hashing (RFC 9162 §2.1.1), with SHA-256 and ``HASH_SIZE`` = 32 bytes:

* the hash of an empty tree is ``SHA-256("")``;
* a leaf hash is ``SHA-256(0x00 || entry)``;
* an interior node hash is ``SHA-256(0x01 || left || right)``;
* the tree hash MTH(D[n]) of n > 1 leaves splits at k, the largest power of two smaller than n:
  ``node_hash(MTH(D[0:k]), MTH(D[k:n]))``.

Node coordinates: ``(level, index)`` names the perfect subtree of height ``level`` covering the
leaves ``[index * 2**level, (index + 1) * 2**level)``; level 0 are the leaf hashes themselves. These
are the hashes tlog-tiles stores (tiles hold the levels that are multiples of 8).

Two families of functions:

* over a list of leaf hashes: :func:`root`, :func:`inclusion_proof`, :func:`consistency_proof`;
* over a ``node(level, index) -> bytes`` callback returning stored perfect-subtree hashes (for
  instance read from tiles): :func:`root_from_nodes`, :func:`inclusion_proof_from_nodes`,
  :func:`consistency_proof_from_nodes`. They touch O(log n) nodes.

Verification (:func:`verify_inclusion`, :func:`verify_consistency`) follows RFC 9162 §2.1.3.2 and
§2.1.4.2. Malformed arguments (a hash that is not 32 bytes, a negative size, a size ≥ 2**63) raise
:class:`~sunshine.errors.FormatError`; a proof that does not verify (wrong number of hashes, index not
in the tree, a hash that does not match) raises :class:`~sunshine.errors.IntegrityError`.

:class:`CompactRange` is the incremental form used when appending: the hashes of the perfect
subtrees that make up a tree of size n (one per set bit of n), O(log n) per append, and each append
reports the complete subtrees it finished so a store can write them to tiles.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

from .errors import FormatError, IntegrityError

__all__ = [
    "HASH_SIZE",
    "MAX_TREE_SIZE",
    "EMPTY_ROOT",
    "leaf_hash",
    "node_hash",
    "root",
    "inclusion_proof",
    "consistency_proof",
    "root_from_nodes",
    "subtree_hash_from_nodes",
    "inclusion_proof_from_nodes",
    "consistency_proof_from_nodes",
    "verify_inclusion",
    "verify_consistency",
    "inclusion_proof_size",
    "consistency_proof_size",
    "perfect_subtrees",
    "CompactRange",
    "NodeReader",
]

HASH_SIZE = 32
#: Tree sizes and indexes are below 2**63 (they are int64 in Go's tlog and most other logs).
MAX_TREE_SIZE = 2**63 - 1
EMPTY_ROOT = hashlib.sha256(b"").digest()

NodeReader = Callable[[int, int], bytes]
"""``node(level, index)``: the hash of the perfect subtree at those coordinates."""


def leaf_hash(data: bytes) -> bytes:
    """``SHA-256(0x00 || data)``: the RFC 6962 hash of one log entry."""
    return hashlib.sha256(b"\x00" + bytes(data)).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 || left || right)``: the RFC 6962 hash of an interior node."""
    return hashlib.sha256(b"\x01" + left + right).digest()


# --- argument checks ----------------------------------------------------------------------------


def _check_hash(value: object, what: str) -> bytes:
    if not isinstance(value, (bytes, bytearray)):
        raise FormatError(f"{what}: expected a {HASH_SIZE}-byte hash, got {type(value).__name__}")
    if len(value) != HASH_SIZE:
        raise FormatError(f"{what}: expected a {HASH_SIZE}-byte hash, got {len(value)} bytes")
    return bytes(value)


def _check_size(value: object, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise FormatError(f"{what}: expected an integer, got {type(value).__name__}")
    if not 0 <= value <= MAX_TREE_SIZE:
        raise FormatError(f"{what}: expected an integer in [0, 2**63), got {value}")
    return value


def _check_hashes(hashes: Iterable[bytes], what: str) -> list[bytes]:
    return [_check_hash(h, f"{what}[{i}]") for i, h in enumerate(hashes)]


# --- tree hashing over a list of leaf hashes ---------------------------------------------------


def _mth(hashes: Sequence[bytes]) -> bytes:
    """MTH of a non-empty list of leaf hashes, iteratively, O(n)."""
    # Collapse perfect subtrees left to right (the compact range), then fold from the right.
    stack: list[tuple[int, bytes]] = []
    for h in hashes:
        level = 0
        while stack and stack[-1][0] == level:
            h = node_hash(stack.pop()[1], h)
            level += 1
        stack.append((level, h))
    result = stack[-1][1]
    for _, h in reversed(stack[:-1]):
        result = node_hash(h, result)
    return result


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """The RFC 6962 tree hash of ``leaf_hashes`` (``SHA-256("")`` for an empty list)."""
    hashes = _check_hashes(leaf_hashes, "leaf_hashes")
    if not hashes:
        return EMPTY_ROOT
    return _mth(hashes)


def _leaf_node_reader(hashes: Sequence[bytes]) -> NodeReader:
    def node(level: int, index: int) -> bytes:
        lo = index << level
        hi = lo + (1 << level)
        if hi > len(hashes):
            raise IndexError(f"node ({level}, {index}) is outside a tree of size {len(hashes)}")
        if level == 0:
            return hashes[lo]
        return _mth(hashes[lo:hi])

    return node


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int) -> list[bytes]:
    """The RFC 9162 §2.1.3.1 inclusion proof PATH(index, D[n]) for the leaf at ``index``."""
    hashes = _check_hashes(leaf_hashes, "leaf_hashes")
    return inclusion_proof_from_nodes(len(hashes), index, _leaf_node_reader(hashes))


def consistency_proof(leaf_hashes: Sequence[bytes], old_size: int) -> list[bytes]:
    """The RFC 9162 §2.1.4.1 consistency proof PROOF(old_size, D[n]) from ``old_size`` to ``len(leaf_hashes)``."""
    hashes = _check_hashes(leaf_hashes, "leaf_hashes")
    return consistency_proof_from_nodes(old_size, len(hashes), _leaf_node_reader(hashes))


# --- over stored perfect-subtree hashes ----------------------------------------------------------


def perfect_subtrees(lo: int, hi: int) -> list[tuple[int, int]]:
    """The ``(level, index)`` of the maximal perfect subtrees covering leaves ``[lo, hi)``, left to right.

    For ``lo = 0`` these are the nodes of the compact range of a tree of size ``hi``, one per set
    bit of ``hi``, largest first.
    """
    nodes: list[tuple[int, int]] = []
    while lo < hi:
        # The largest aligned power of two starting at lo that fits in [lo, hi).
        level = (lo & -lo).bit_length() - 1 if lo else (hi - lo).bit_length() - 1
        while (1 << level) > hi - lo:
            level -= 1
        nodes.append((level, lo >> level))
        lo += 1 << level
    return nodes


def subtree_hash_from_nodes(lo: int, hi: int, node: NodeReader) -> bytes:
    """MTH of the leaves ``[lo, hi)``, where ``lo`` is a multiple of the smallest power of two ≥ ``hi - lo``.

    Those are the ranges that occur inside an RFC 6962 tree (the whole tree is ``lo = 0``).
    """
    parts = perfect_subtrees(lo, hi)
    if not parts:
        return EMPTY_ROOT
    result = node(*parts[-1])
    for level, index in reversed(parts[:-1]):
        result = node_hash(node(level, index), result)
    return result


def root_from_nodes(size: int, node: NodeReader) -> bytes:
    """The tree hash of a tree of ``size`` leaves from its stored perfect-subtree hashes."""
    _check_size(size, "size")
    return subtree_hash_from_nodes(0, size, node)


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n ≥ 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def _path(m: int, lo: int, hi: int, node: NodeReader) -> list[bytes]:
    # RFC 9162 PATH(m, D[lo:hi]), m relative to the whole tree.
    proof: list[bytes] = []
    stack: list[tuple[int, int]] = []
    while hi - lo > 1:
        k = _split(hi - lo)
        if m - lo < k:
            stack.append((lo + k, hi))
            hi = lo + k
        else:
            stack.append((lo, lo + k))
            lo = lo + k
    for a, b in reversed(stack):
        proof.append(subtree_hash_from_nodes(a, b, node))
    return proof


def inclusion_proof_from_nodes(size: int, index: int, node: NodeReader) -> list[bytes]:
    """The inclusion proof of leaf ``index`` in a tree of ``size`` leaves, from stored node hashes."""
    _check_size(size, "size")
    _check_size(index, "index")
    if index >= size:
        raise IntegrityError(f"leaf index {index} is not in a tree of size {size} (expected index < size)")
    return _path(index, 0, size, node)


def consistency_proof_from_nodes(old_size: int, new_size: int, node: NodeReader) -> list[bytes]:
    """The consistency proof from ``old_size`` to ``new_size``, from stored node hashes.

    Empty when ``old_size`` is 0 or equals ``new_size`` (nothing to prove).
    """
    _check_size(old_size, "old_size")
    _check_size(new_size, "new_size")
    if old_size > new_size:
        raise IntegrityError(f"cannot prove consistency: expected old size ≤ new size, got {old_size} > {new_size}")
    if old_size == 0 or old_size == new_size:
        return []
    # RFC 9162 SUBPROOF(m, D[lo:hi], b), iteratively.
    m, lo, hi, b = old_size, 0, new_size, True
    tail: list[tuple[int, int]] = []
    head: list[bytes] = []
    while True:
        n = hi - lo
        if m - lo == n:
            if not b:
                head.append(subtree_hash_from_nodes(lo, hi, node))
            break
        k = _split(n)
        if m - lo <= k:
            tail.append((lo + k, hi))
            hi = lo + k
        else:
            tail.append((lo, lo + k))
            lo, b = lo + k, False
    return head + [subtree_hash_from_nodes(a, c, node) for a, c in reversed(tail)]


# --- proof sizes -------------------------------------------------------------------------------


def _decomp_inclusion(index: int, size: int) -> tuple[int, int]:
    inner = (index ^ (size - 1)).bit_length()
    border = bin(index >> inner).count("1")
    return inner, border


def inclusion_proof_size(index: int, size: int) -> int:
    """How many hashes an inclusion proof of ``index`` in a tree of ``size`` has (index < size)."""
    inner, border = _decomp_inclusion(index, size)
    return inner + border


def consistency_proof_size(old_size: int, new_size: int) -> int:
    """How many hashes a consistency proof from ``old_size`` to ``new_size`` has."""
    if old_size == 0 or old_size == new_size:
        return 0
    shift = (old_size & -old_size).bit_length() - 1
    inner, border = _decomp_inclusion(old_size - 1, new_size)
    inner -= shift
    start = 0 if old_size == 1 << shift else 1
    return start + inner + border


# --- verification --------------------------------------------------------------------------------


def verify_inclusion(index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes], root: bytes) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of ``size`` leaves with tree hash ``root``.

    RFC 9162 §2.1.3.2. Returns None on success; raises IntegrityError otherwise.
    """
    _check_size(index, "index")
    _check_size(size, "size")
    leaf = _check_hash(leaf_hash, "leaf hash")
    want_root = _check_hash(root, "root")
    path = _check_hashes(proof, "proof")
    if index >= size:
        raise IntegrityError(f"leaf index {index} is not in a tree of size {size} (expected index < size)")
    want_len = inclusion_proof_size(index, size)
    if len(path) != want_len:
        raise IntegrityError(
            f"inclusion proof of leaf {index} in a tree of size {size}: expected {want_len} hashes, got {len(path)}"
        )
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:  # unreachable after the length check; kept from the RFC algorithm
            raise IntegrityError("inclusion proof is longer than the path to the root")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0 or r != want_root:
        raise IntegrityError(
            f"inclusion proof of leaf {index} in a tree of size {size} does not verify: "
            f"expected root {want_root.hex()}, got {r.hex()}"
        )


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> None:
    """Check that the tree of ``new_size`` with hash ``new_root`` extends the one of ``old_size`` / ``old_root``.

    RFC 9162 §2.1.4.2, plus the trivial cases: equal sizes need equal roots and an empty proof;
    an old size of 0 needs the empty-tree hash as old root and an empty proof (nothing else can be
    proved about an empty tree). Returns None on success; raises IntegrityError otherwise.
    """
    _check_size(old_size, "old_size")
    _check_size(new_size, "new_size")
    first = _check_hash(old_root, "old root")
    second = _check_hash(new_root, "new root")
    path = _check_hashes(proof, "proof")
    if old_size > new_size:
        raise IntegrityError(f"the tree shrank: expected old size ≤ new size, got {old_size} > {new_size}")
    want_len = consistency_proof_size(old_size, new_size)
    if len(path) != want_len:
        raise IntegrityError(
            f"consistency proof from size {old_size} to {new_size}: expected {want_len} hashes, got {len(path)}"
        )
    if old_size == new_size:
        if first != second:
            raise IntegrityError(
                f"two different roots for the same size {old_size}: {first.hex()} and {second.hex()}"
            )
        return
    if old_size == 0:
        if first != EMPTY_ROOT:
            raise IntegrityError(f"a tree of size 0 has root {EMPTY_ROOT.hex()}, got {first.hex()}")
        return
    if old_size & (old_size - 1) == 0:
        path = [first, *path]
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:  # unreachable after the length check; kept from the RFC algorithm
            raise IntegrityError("consistency proof is longer than needed")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise IntegrityError(f"consistency proof from size {old_size} to {new_size} is too short")
    if fr != first:
        raise IntegrityError(
            f"consistency proof from size {old_size} to {new_size} does not verify: "
            f"expected old root {first.hex()}, got {fr.hex()}"
        )
    if sr != second:
        raise IntegrityError(
            f"consistency proof from size {old_size} to {new_size} does not verify: "
            f"expected new root {second.hex()}, got {sr.hex()}"
        )


# --- incremental appends -------------------------------------------------------------------------


class CompactRange:
    """The right edge of a Merkle tree: enough to append leaves and compute the root.

    Holds the hashes of the perfect subtrees covering ``[0, size)`` (see :func:`perfect_subtrees`),
    largest first. :meth:`append` is O(log n) amortised O(1) hashing; it returns the
    ``(level, index, hash)`` of every complete subtree the new leaf finished, level 0 first —
    exactly the hashes a tile store must write.
    """

    __slots__ = ("_size", "_hashes")

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        _check_size(size, "size")
        checked = _check_hashes(hashes, "hashes")
        want = bin(size).count("1")
        if len(checked) != want:
            raise FormatError(f"compact range of size {size}: expected {want} hashes, got {len(checked)}")
        self._size = size
        self._hashes = checked

    @classmethod
    def from_nodes(cls, size: int, node: NodeReader) -> "CompactRange":
        """Resume from stored hashes (e.g. tiles): reads the ``perfect_subtrees(0, size)`` nodes."""
        _check_size(size, "size")
        return cls(size, [node(level, index) for level, index in perfect_subtrees(0, size)])

    @property
    def size(self) -> int:
        return self._size

    @property
    def hashes(self) -> tuple[bytes, ...]:
        return tuple(self._hashes)

    def nodes(self) -> list[tuple[int, int, bytes]]:
        """``(level, index, hash)`` of the perfect subtrees covering the tree, largest first."""
        return [(lv, ix, h) for (lv, ix), h in zip(perfect_subtrees(0, self._size), self._hashes)]

    def append(self, leaf_hash: bytes) -> list[tuple[int, int, bytes]]:
        """Add one leaf hash; return the complete subtrees ``(level, index, hash)`` it finished."""
        h = _check_hash(leaf_hash, "leaf hash")
        if self._size >= MAX_TREE_SIZE:
            raise FormatError(f"tree is full: expected size < 2**63 - 1, got {self._size}")
        index = self._size
        finished = [(0, index, h)]
        level = 0
        while (index >> level) & 1:
            h = node_hash(self._hashes.pop(), h)
            level += 1
            finished.append((level, index >> level, h))
        self._hashes.append(h)
        self._size += 1
        return finished

    def root(self) -> bytes:
        """The tree hash of the leaves appended so far."""
        if not self._hashes:
            return EMPTY_ROOT
        result = self._hashes[-1]
        for h in reversed(self._hashes[:-1]):
            result = node_hash(h, result)
        return result

    def copy(self) -> "CompactRange":
        return CompactRange(self._size, self._hashes)

    def __repr__(self) -> str:
        return f"CompactRange(size={self._size}, root={self.root().hex()})"
