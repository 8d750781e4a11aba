"""C2SP tlog-tiles (https://c2sp.org/tlog-tiles): a Merkle tree served as static files.

Layout (relative to the log prefix)::

    checkpoint                      the signed checkpoint (see sunshine.checkpoint)
    tile/<L>/<N>[.p/<W>]            hash tiles
    tile/entries/<N>[.p/<W>]        entry bundles

* ``<L>`` is the tile level, decimal 0…63 without leading zeros. Tiles have height 8: the hashes in a
  level-L tile are tree nodes at tree level 8·L, 256 of them in a full tile (8,192 bytes). Tile N at
  level L holds ``MTH(D[(N·256 + i)·256**L : (N·256 + i + 1)·256**L])`` for i = 0…W-1.
* ``<N>`` is the tile index in zero-padded 3-digit groups, every group but the last prefixed with
  ``x``: 1234067 → ``x001/x234/067``, 5 → ``005``. No superfluous leading ``x000`` groups.
* ``.p/<W>`` marks a partial tile of width W (1…255, no leading zeros). A tree of size s has at level
  L the full tiles N < ⌊s/256**(L+1)⌋ and, if ``⌊s/256**L⌋ mod 256`` ≠ 0, one partial tile of that width.
* An entry bundle is the concatenation, for each entry, of its length as a big-endian uint16 and its
  bytes; bundle N holds entries N·256 …, and its widths follow the level-0 tiles.

Everything here is pure: reading goes through a ``get(path) -> bytes`` callback (a directory, an HTTP
client or a dict), so :class:`TileReader` works the same over each. Malformed paths and bundles raise
:class:`~sunshine.errors.FormatError`; data that does not match (a tile of the wrong size, an entry
that does not hash to its leaf, a root that differs from a checkpoint) raises
:class:`~sunshine.errors.IntegrityError`.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from . import merkle
from .errors import FormatError, IntegrityError

__all__ = [
    "TILE_HEIGHT",
    "TILE_WIDTH",
    "MAX_ENTRY_SIZE",
    "Tile",
    "format_tile_index",
    "parse_tile_index",
    "tile_path",
    "entries_path",
    "parse_tile_path",
    "encode_entry_bundle",
    "decode_entry_bundle",
    "tiles_for_size",
    "new_tiles",
    "tile_specs",
    "new_tile_specs",
    "tile_contents",
    "tiles_from_leaf_hashes",
    "TileReader",
]

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
MAX_LEVEL = 63
MAX_ENTRY_SIZE = 0xFFFF
_HASH = merkle.HASH_SIZE

Getter = Callable[[str], bytes]


@dataclass(frozen=True, slots=True, order=True)
class Tile:
    """One tile: ``level`` (or ``-1`` for an entry bundle), ``index`` N and ``width`` W (1…256)."""

    level: int
    index: int
    width: int = TILE_WIDTH

    def __post_init__(self) -> None:
        if not isinstance(self.level, int) or not -1 <= self.level <= MAX_LEVEL:
            raise FormatError(f"tile level: expected -1 (entries) or 0…{MAX_LEVEL}, got {self.level!r}")
        _check_index(self.index)
        if not isinstance(self.width, int) or not 1 <= self.width <= TILE_WIDTH:
            raise FormatError(f"tile width: expected 1…{TILE_WIDTH}, got {self.width!r}")

    @property
    def is_entries(self) -> bool:
        return self.level == -1

    @property
    def is_partial(self) -> bool:
        return self.width < TILE_WIDTH

    @property
    def path(self) -> str:
        if self.is_entries:
            return entries_path(self.index, self.width)
        return tile_path(self.level, self.index, self.width)


def _check_index(index: object) -> int:
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index <= merkle.MAX_TREE_SIZE:
        raise FormatError(f"tile index: expected an integer in [0, 2**63), got {index!r}")
    return index


# --- paths ---------------------------------------------------------------------------------------------


def format_tile_index(index: int) -> str:
    """``1234067`` → ``"x001/x234/067"``; ``5`` → ``"005"``."""
    _check_index(index)
    groups = []
    while True:
        groups.append(f"{index % 1000:03d}")
        index //= 1000
        if index == 0:
            break
    groups.reverse()
    return "/".join(["x" + g for g in groups[:-1]] + [groups[-1]])


_INDEX_RE = re.compile(r"(?:x[0-9]{3}/)*[0-9]{3}")


def parse_tile_index(text: str) -> int:
    """Inverse of :func:`format_tile_index`, strict (rejects ``x000/005``, ``5``, ``0005``)."""
    if not isinstance(text, str) or not _INDEX_RE.fullmatch(text):
        raise FormatError(f"tile index: expected 3-digit groups like 'x001/x234/067', got {text!r}")
    value = int(text.replace("x", "").replace("/", ""))
    if value > merkle.MAX_TREE_SIZE:
        raise FormatError(f"tile index: expected an integer below 2**63, got {value}")
    if format_tile_index(value) != text:
        raise FormatError(f"tile index: expected {format_tile_index(value)!r}, got {text!r} (superfluous leading groups)")
    return value


def _width_suffix(width: int) -> str:
    if not isinstance(width, int) or isinstance(width, bool) or not 1 <= width <= TILE_WIDTH:
        raise FormatError(f"tile width: expected 1…{TILE_WIDTH}, got {width!r}")
    return "" if width == TILE_WIDTH else f".p/{width}"


def tile_path(level: int, index: int, width: int = TILE_WIDTH) -> str:
    """``tile/<L>/<N>[.p/<W>]``."""
    if not isinstance(level, int) or isinstance(level, bool) or not 0 <= level <= MAX_LEVEL:
        raise FormatError(f"tile level: expected 0…{MAX_LEVEL}, got {level!r}")
    return f"tile/{level}/{format_tile_index(index)}{_width_suffix(width)}"


def entries_path(index: int, width: int = TILE_WIDTH) -> str:
    """``tile/entries/<N>[.p/<W>]``."""
    return f"tile/entries/{format_tile_index(index)}{_width_suffix(width)}"


_PATH_RE = re.compile(r"tile/(entries|0|[1-9][0-9]?)/((?:x[0-9]{3}/)*[0-9]{3})(?:\.p/([1-9][0-9]{0,2}))?")


def parse_tile_path(path: str) -> Tile:
    """Parse ``tile/<L>/<N>[.p/<W>]`` or ``tile/entries/<N>[.p/<W>]`` strictly into a :class:`Tile`."""
    if not isinstance(path, str):
        raise FormatError(f"tile path: expected a string, got {type(path).__name__}")
    m = _PATH_RE.fullmatch(path)
    if not m:
        raise FormatError(
            f"tile path: expected 'tile/<L>/<N>[.p/<W>]' or 'tile/entries/<N>[.p/<W>]', got {path!r}"
        )
    level_text, index_text, width_text = m.groups()
    level = -1 if level_text == "entries" else int(level_text)
    if level > MAX_LEVEL:
        raise FormatError(f"tile path {path!r}: expected a level 0…{MAX_LEVEL}, got {level}")
    width = TILE_WIDTH
    if width_text is not None:
        width = int(width_text)
        if width >= TILE_WIDTH:
            raise FormatError(f"tile path {path!r}: expected a partial width 1…{TILE_WIDTH - 1}, got {width}")
    return Tile(level, parse_tile_index(index_text), width)


# --- entry bundles --------------------------------------------------------------------------------------


def encode_entry_bundle(entries: Sequence[bytes]) -> bytes:
    """Concatenate ``uint16 big-endian length || entry`` for 1…256 entries of ≤ 65,535 bytes each."""
    if not 1 <= len(entries) <= TILE_WIDTH:
        raise FormatError(f"entry bundle: expected 1…{TILE_WIDTH} entries, got {len(entries)}")
    out = bytearray()
    for i, e in enumerate(entries):
        if not isinstance(e, (bytes, bytearray)):
            raise FormatError(f"entry bundle, entry {i}: expected bytes, got {type(e).__name__}")
        if len(e) > MAX_ENTRY_SIZE:
            raise FormatError(f"entry bundle, entry {i}: expected at most {MAX_ENTRY_SIZE} bytes, got {len(e)}")
        out += struct.pack(">H", len(e)) + e
    return bytes(out)


def decode_entry_bundle(data: bytes, width: int | None = None) -> list[bytes]:
    """Split an entry bundle; strict: no trailing bytes, 1…256 entries, exactly ``width`` if given."""
    data = bytes(data)
    entries: list[bytes] = []
    pos = 0
    while pos < len(data):
        if len(data) - pos < 2:
            raise FormatError(f"entry bundle, entry {len(entries)}: expected a 2-byte length at offset {pos}, got 1 byte")
        (n,) = struct.unpack_from(">H", data, pos)
        pos += 2
        if len(data) - pos < n:
            raise FormatError(
                f"entry bundle, entry {len(entries)}: expected {n} bytes at offset {pos}, got {len(data) - pos}"
            )
        entries.append(data[pos : pos + n])
        pos += n
    if not 1 <= len(entries) <= TILE_WIDTH:
        raise FormatError(f"entry bundle: expected 1…{TILE_WIDTH} entries, got {len(entries)}")
    if width is not None and len(entries) != width:
        raise FormatError(f"entry bundle: expected {width} entries, got {len(entries)}")
    return entries


# --- which tiles a tree has -----------------------------------------------------------------------------


def _level_tiles(size: int, level: int, height: int) -> tuple[int, int]:
    """(number of full tiles, width of the partial tile or 0) at ``level`` for a tree of ``size``."""
    n = size >> (height * level)
    return n >> height, n & ((1 << height) - 1)


def tile_specs(size: int, *, height: int = TILE_HEIGHT, entries: bool = False) -> list[tuple[int, int, int]]:
    """``(level, index, width)`` of every tile of a tree of ``size`` for tiles of ``height``.

    Level by level, left to right; entry bundles (level -1) first when ``entries``. Heights other
    than 8 exist only to compare with other layouts (Go's tlog); tlog-tiles uses 8.
    """
    size = merkle._check_size(size, "size")
    width = 1 << height
    out: list[tuple[int, int, int]] = []
    for level in ([-1] if entries else []) + list(range(MAX_LEVEL + 1)):
        full, partial = _level_tiles(size, max(level, 0), height)
        if full == 0 and partial == 0:
            break
        out.extend((level, n, width) for n in range(full))
        if partial:
            out.append((level, full, partial))
    return out


def new_tile_specs(
    old_size: int, new_size: int, *, height: int = TILE_HEIGHT, entries: bool = False
) -> list[tuple[int, int, int]]:
    """``(level, index, width)`` of the tiles of ``new_size`` that ``old_size`` did not have at that width."""
    old_size = merkle._check_size(old_size, "old_size")
    new_size = merkle._check_size(new_size, "new_size")
    if old_size > new_size:
        raise FormatError(f"new_tiles: expected old size ≤ new size, got {old_size} > {new_size}")
    width = 1 << height
    out: list[tuple[int, int, int]] = []
    for level in ([-1] if entries else []) + list(range(MAX_LEVEL + 1)):
        lv = max(level, 0)
        full, partial = _level_tiles(new_size, lv, height)
        if full == 0 and partial == 0:
            break
        old_full, old_partial = _level_tiles(old_size, lv, height)
        out.extend((level, n, width) for n in range(old_full, full))
        if partial and (old_full, old_partial) != (full, partial):
            out.append((level, full, partial))
    return out


def tiles_for_size(size: int, *, entries: bool = False) -> list[Tile]:
    """Every hash tile (and entry bundle, if ``entries``) of a tree of ``size``, full and partial."""
    return [Tile(*spec) for spec in tile_specs(size, entries=entries)]


def new_tiles(old_size: int, new_size: int, *, entries: bool = False) -> list[Tile]:
    """The tiles a log writes when it grows from ``old_size`` to ``new_size``.

    Those of ``new_size`` that ``old_size`` did not have with the same width: new full tiles and the
    new partial tile of each level. Published tiles never change; a wider partial tile, or the full
    tile, has a different path from the narrower one it supersedes.
    """
    return [Tile(*spec) for spec in new_tile_specs(old_size, new_size, entries=entries)]


# --- tile contents ---------------------------------------------------------------------------------------


def tile_contents(tile: Tile, node: merkle.NodeReader) -> bytes:
    """The bytes of hash tile ``tile``: the tree nodes ``(8·L, N·256 + i)`` for i < W, concatenated.

    ``node(level, index)`` returns stored subtree hashes (e.g. collected from
    :meth:`merkle.CompactRange.append`, or a :class:`TileReader` of the previous tree).
    """
    if tile.is_entries:
        raise FormatError(f"{tile.path}: an entry bundle has no hashes; use encode_entry_bundle")
    tree_level = TILE_HEIGHT * tile.level
    start = tile.index * TILE_WIDTH
    return b"".join(node(tree_level, start + i) for i in range(tile.width))


def tiles_from_leaf_hashes(leaf_hashes: Sequence[bytes]) -> dict[str, bytes]:
    """``{path: bytes}`` of every hash tile of the tree of ``leaf_hashes`` (for small trees and tests)."""
    cr = merkle.CompactRange()
    stored: dict[tuple[int, int], bytes] = {}
    for h in leaf_hashes:
        for level, index, value in cr.append(h):
            if level % TILE_HEIGHT == 0:
                stored[(level, index)] = value
    return {
        t.path: tile_contents(t, lambda lv, ix: stored[(lv, ix)]) for t in tiles_for_size(len(leaf_hashes))
    }


# --- reading a tree back from tiles ------------------------------------------------------------------------


class TileReader:
    """A tree of ``size`` leaves read from tlog tiles through ``get(path) -> bytes``.

    Tiles are fetched lazily (the width each tile has at ``size``) and cached. Tile contents are not
    trusted by themselves: give the ``root`` of a verified checkpoint and every entry bundle read is
    checked against it (its level-0 tile is proved to be in the tree, and each entry hashes to its
    leaf), or call :meth:`verify_root`. A wrong tile shows up as a root, proof or entry mismatch
    (IntegrityError); a tile of the wrong length is an IntegrityError naming its path.
    """

    def __init__(self, get: Getter, size: int, root: bytes | None = None) -> None:
        self._get = get
        self.size = merkle._check_size(size, "size")
        self.root_hash = None if root is None else merkle._check_hash(root, "root")
        self._cache: dict[str, bytes] = {}
        self._levels: dict[str, list[list[bytes]]] = {}
        self.fetched: list[str] = []

    def tile_for(self, level: int, index: int) -> Tile:
        """The tile (with its width at this tree size) holding hash ``index`` at tile level ``level``."""
        n = index >> TILE_HEIGHT
        full, partial = _level_tiles(self.size, level, TILE_HEIGHT)
        if n < full:
            return Tile(level, n, TILE_WIDTH)
        if n == full and partial and (index & (TILE_WIDTH - 1)) < partial:
            return Tile(level, n, partial)
        raise IntegrityError(f"hash {index} at tile level {level} is not in a tree of size {self.size}")

    def read_tile(self, tile: Tile) -> bytes:
        path = tile.path
        data = self._cache.get(path)
        if data is None:
            data = bytes(self._get(path))
            self.fetched.append(path)
            want = tile.width * _HASH if not tile.is_entries else None
            if want is not None and len(data) != want:
                raise IntegrityError(f"{path}: expected {want} bytes ({tile.width} hashes), got {len(data)}")
            self._cache[path] = data
        return data

    def _pyramid(self, tile: Tile) -> list[list[bytes]]:
        """The tile's hashes and the complete levels above them inside the tile (cached)."""
        path = tile.path
        levels = self._levels.get(path)
        if levels is None:
            data = self.read_tile(tile)
            row = [data[i : i + _HASH] for i in range(0, len(data), _HASH)]
            levels = [row]
            for _ in range(TILE_HEIGHT - 1):
                row = [merkle.node_hash(row[i], row[i + 1]) for i in range(0, len(row) - 1, 2)]
                levels.append(row)
            self._levels[path] = levels
        return levels

    def node(self, level: int, index: int) -> bytes:
        """The hash of the complete subtree ``(level, index)`` of this tree."""
        if level < 0 or index < 0 or (index + 1) << level > self.size:
            raise IntegrityError(f"node ({level}, {index}) is not a complete subtree of a tree of size {self.size}")
        tile_level, sub = divmod(level, TILE_HEIGHT)
        first = index << sub  # first hash at tree level 8·tile_level
        tile = self.tile_for(tile_level, first)
        return self._pyramid(tile)[sub][(first - tile.index * TILE_WIDTH) >> sub]

    def leaf_hash(self, index: int) -> bytes:
        return self.node(0, index)

    def root(self) -> bytes:
        return merkle.root_from_nodes(self.size, self.node)

    def verify_root(self, expected: bytes) -> None:
        """IntegrityError unless the tiles hash to ``expected`` (the root of a verified checkpoint)."""
        got = self.root()
        if got != expected:
            raise IntegrityError(
                f"tiles of the tree of size {self.size} do not match the checkpoint: "
                f"expected root {expected.hex()}, got {got.hex()}"
            )

    def inclusion_proof(self, index: int) -> list[bytes]:
        return merkle.inclusion_proof_from_nodes(self.size, index, self.node)

    def consistency_proof(self, old_size: int) -> list[bytes]:
        return merkle.consistency_proof_from_nodes(old_size, self.size, self.node)

    def verify_leaf_tile(self, n: int, root: bytes) -> None:
        """Prove that level-0 tile ``n`` (at its width for this size) is part of the tree with ``root``.

        The tile's hashes are hashed into their subtree, whose inclusion in the tree is then proved
        from the other tiles (O(log n) of them) and checked against ``root``: IntegrityError if not.
        """
        tile = self.tile_for(0, n * TILE_WIDTH)
        data = self.read_tile(tile)
        chunk = merkle._mth([data[i : i + _HASH] for i in range(0, len(data), _HASH)])
        chunks = (self.size + TILE_WIDTH - 1) >> TILE_HEIGHT

        def chunk_node(level: int, index: int) -> bytes:
            lo = index << (level + TILE_HEIGHT)
            hi = min(self.size, (index + 1) << (level + TILE_HEIGHT))
            if hi - lo == 1 << (level + TILE_HEIGHT):
                return self.node(level + TILE_HEIGHT, index)
            return merkle.subtree_hash_from_nodes(lo, hi, self.node)

        proof = merkle.inclusion_proof_from_nodes(chunks, n, chunk_node)
        try:
            merkle.verify_inclusion(n, chunks, chunk, proof, root)
        except IntegrityError:
            raise IntegrityError(
                f"{tile.path} is not part of the tree of size {self.size} with root {root.hex()}"
            ) from None

    def bundle(self, n: int) -> list[bytes]:
        """Entry bundle ``n`` at this tree size, each entry checked against its level-0 leaf hash.

        With a ``root``, the level-0 tile itself is first proved to be in the tree.
        """
        tile = self.tile_for(0, n * TILE_WIDTH)
        if self.root_hash is not None:
            self.verify_leaf_tile(n, self.root_hash)
        entry_tile = Tile(-1, tile.index, tile.width)
        data = self.read_tile(entry_tile)
        try:
            entries = decode_entry_bundle(data, tile.width)
        except FormatError as exc:
            raise FormatError(f"{entry_tile.path}: {exc.message}") from None
        hashes = self.read_tile(tile)
        for i, e in enumerate(entries):
            want = hashes[i * _HASH : (i + 1) * _HASH]
            if merkle.leaf_hash(e) != want:
                raise IntegrityError(
                    f"{entry_tile.path}: entry {n * TILE_WIDTH + i} does not hash to its leaf in {tile.path}: "
                    f"expected {want.hex()}, got {merkle.leaf_hash(e).hex()}"
                )
        return entries

    def entries(self, start: int = 0, end: int | None = None) -> Iterator[tuple[int, bytes]]:
        """``(index, entry)`` for ``start ≤ index < end`` (default: the whole tree), verified per bundle."""
        end = self.size if end is None else end
        if not 0 <= start <= end <= self.size:
            raise IntegrityError(f"entries [{start}, {end}) are not in a tree of size {self.size}")
        index = start
        while index < end:
            n = index >> TILE_HEIGHT
            bundle = self.bundle(n)
            for i in range(index - n * TILE_WIDTH, len(bundle)):
                if index >= end:
                    break
                yield index, bundle[i]
                index += 1
