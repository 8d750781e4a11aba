"""Tests for sunshine.tiles (C2SP tlog-tiles).

Interop vectors: the tlog-tiles spec examples (tests/vectors/interop/c2sp/tlog-tiles.md), Go's
sumdb/tlog tile path table and TestNewTilesForSize (tests/vectors/interop/go-sumdb/), and the
transparency-dev reference tree (tests/vectors/interop/merkle/constants.go) for tile contents.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sunshine import merkle, tiles
from sunshine.errors import FormatError, IntegrityError
from sunshine.tiles import Tile

INTEROP = Path(__file__).parent / "vectors" / "interop"
SPEC = (INTEROP / "c2sp" / "tlog-tiles.md").read_text()
GO_TLOG = (INTEROP / "go-sumdb" / "tlog_tlog_test.go").read_text()
GO_TILE = (INTEROP / "go-sumdb" / "tlog_tile_test.go").read_text()


# --- spec examples -------------------------------------------------------------------------------------


def test_spec_index_example() -> None:
    m = re.search(r"index (\d+) will be encoded as\n?\s*`([x0-9/]+)`", SPEC)
    assert m, "example sentence not found in tlog-tiles.md"
    index, encoded = int(m.group(1)), m.group(2)
    assert (index, encoded) == (1234067, "x001/x234/067")
    assert tiles.format_tile_index(index) == encoded
    assert tiles.parse_tile_index(encoded) == index


def test_spec_tree_of_70000() -> None:
    # "a tree of size 70,000 will be represented by 273 full level 0 tiles, one partial level 0 tile of
    # width 112, one full level 1 tile, one partial level 1 tile of width 17, and one partial level 2
    # tile of width 1."
    text = " ".join(SPEC.split())
    assert ("a tree of size 70,000 will be represented by 273 full level 0 tiles, one partial level 0 tile of "
            "width 112, one full level 1 tile, one partial level 1 tile of width 17, and one partial level 2 "
            "tile of width 1") in text
    ts = tiles.tiles_for_size(70000)
    assert [t for t in ts if t.level == 0 and not t.is_partial] == [Tile(0, n) for n in range(273)]
    assert [t for t in ts if t.is_partial or t.level > 0] == [Tile(0, 273, 112), Tile(1, 0), Tile(1, 1, 17), Tile(2, 0, 1)]


def test_spec_tree_of_256() -> None:
    assert "a tree of size 256 will be represented by a full level 0 tile and a partial level 1 tile of width 1" in " ".join(SPEC.split())
    assert tiles.tiles_for_size(256) == [Tile(0, 0), Tile(1, 0, 1)]
    assert tiles.tiles_for_size(256, entries=True) == [Tile(-1, 0), Tile(0, 0), Tile(1, 0, 1)]
    assert [t.path for t in tiles.tiles_for_size(256, entries=True)] == ["tile/entries/000", "tile/0/000", "tile/1/000.p/1"]


# --- Go sumdb/tlog ----------------------------------------------------------------------------------------

# Rows of Go's tilePaths table: {"tile/H/L/N[.p/W]", Tile{H, L, N, W}}; Go paths carry the tile height
# H as an extra element, which tlog-tiles drops (its height is always 8).
_GO_ROW = re.compile(r'\{"(tile/[^"]*)", Tile\{([^}]*)\}\}')


def test_go_tile_paths() -> None:
    rows = _GO_ROW.findall(GO_TLOG)
    assert len(rows) >= 8
    for path, fields in rows:
        parts = [p.strip() for p in fields.split(",")] if fields.strip() else []
        rest = path.split("/", 2)[2]  # drop "tile/H/"
        ours = "tile/" + rest.replace("data/", "entries/", 1)
        if not parts:  # Go expects an error
            with pytest.raises(FormatError):
                tiles.parse_tile_path(ours)
            continue
        h, level, n, w = (int(p) for p in parts)
        t = tiles.parse_tile_path(ours)
        assert t.index == n
        assert t.level == level
        assert t.width == (w if ".p/" in path else tiles.TILE_WIDTH)
        assert t.path == ours


def test_go_new_tiles_for_size() -> None:
    # TestNewTilesForSize uses NewTiles(10, old, new): tile height 10.
    cases = re.findall(r"\{(\d+), (\d+), (\d+)\}", GO_TILE[GO_TILE.index("func TestNewTilesForSize") :])
    assert len(cases) == 7
    for old, new, want in cases:
        assert len(tiles.new_tile_specs(int(old), int(new), height=10)) == int(want), (old, new)


# --- paths ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "tile"),
    [
        ("tile/0/000", Tile(0, 0)),
        ("tile/0/005.p/7", Tile(0, 5, 7)),
        ("tile/63/x001/000", Tile(63, 1000)),
        ("tile/entries/x009/x223/372/x036/x854/775/807"[:0] + "tile/entries/x009/x223/x372/x036/x854/x775/807", Tile(-1, 2**63 - 1)),
        ("tile/entries/001.p/255", Tile(-1, 1, 255)),
    ],
)
def test_paths_round_trip(path: str, tile: Tile) -> None:
    assert tiles.parse_tile_path(path) == tile
    assert tile.path == path


@pytest.mark.parametrize(
    "path",
    [
        "tile/0/5", "tile/0/0005", "tile/0/x000/005", "tile/00/000", "tile/64/000", "tile/-1/000",
        "tile/0/000.p/0", "tile/0/000.p/256", "tile/0/000.p/007", "tile/0/000.p/", "tile/0/x001",
        "tile/0/001/x002", "/tile/0/000", "tile/0/000/", "tile/data/000", "tile/0/x009/x223/x372/x036/x854/x775/808",
        "tile/0/000.p/5/", "tiles/0/000",
    ],
)
def test_paths_rejected(path: str) -> None:
    with pytest.raises(FormatError):
        tiles.parse_tile_path(path)


def test_path_error_messages() -> None:
    with pytest.raises(FormatError, match=r"tile index: expected '005', got 'x000/005' \(superfluous leading groups\)"):
        tiles.parse_tile_index("x000/005")
    with pytest.raises(FormatError, match="expected a partial width 1…255, got 256"):
        tiles.parse_tile_path("tile/0/000.p/256")
    with pytest.raises(FormatError, match="tile width: expected 1…256, got 0"):
        tiles.tile_path(0, 0, 0)
    with pytest.raises(FormatError, match="tile level: expected 0…63, got 64"):
        tiles.tile_path(64, 0)


# --- entry bundles -----------------------------------------------------------------------------------------------


def test_entry_bundles() -> None:
    entries = [b"", b"a", b"x" * 65535]
    data = tiles.encode_entry_bundle(entries)
    assert data[:5] == b"\x00\x00\x00\x01a"
    assert tiles.decode_entry_bundle(data) == entries
    assert tiles.decode_entry_bundle(data, 3) == entries
    with pytest.raises(FormatError, match="expected 4 entries, got 3"):
        tiles.decode_entry_bundle(data, 4)
    with pytest.raises(FormatError, match="entry 2: expected 65535 bytes at offset 7, got 65534"):
        tiles.decode_entry_bundle(data[:-1])
    with pytest.raises(FormatError, match="entry 3: expected a 2-byte length at offset 65542, got 1 byte"):
        tiles.decode_entry_bundle(data + b"\x00")
    with pytest.raises(FormatError, match="expected 1…256 entries, got 0"):
        tiles.decode_entry_bundle(b"")
    with pytest.raises(FormatError, match="entry 0: expected at most 65535 bytes, got 65536"):
        tiles.encode_entry_bundle([b"x" * 65536])
    with pytest.raises(FormatError, match="expected 1…256 entries, got 257"):
        tiles.encode_entry_bundle([b""] * 257)


# --- contents and reading back ---------------------------------------------------------------------------------


def _entries(n: int) -> list[bytes]:
    return [f"entry {i}".encode() for i in range(n)]


@functools.lru_cache(maxsize=4)
def _published(n: int) -> dict[str, bytes]:
    return _publish(_entries(n))


def _publish(entries: list[bytes]) -> dict[str, bytes]:
    hashes = [merkle.leaf_hash(e) for e in entries]
    files = tiles.tiles_from_leaf_hashes(hashes)
    for t in tiles.tiles_for_size(len(entries), entries=True):
        if t.is_entries:
            files[t.path] = tiles.encode_entry_bundle(entries[t.index * 256 : t.index * 256 + t.width])
    return files


def test_reference_tree_tile() -> None:
    # The 8-leaf RFC 6962 reference tree: one partial level-0 tile holding the 8 leaf hashes of
    # constants.go NodeHashes()[0].
    src = (INTEROP / "merkle" / "constants.go").read_text()
    block = src[src.index("func LeafInputs") : src.index("func NodeHashes")]
    leaves = [bytes.fromhex(h) for h in re.findall(r'hd\("([0-9a-f]*)"\)', block)]
    level0 = src[src.index("func NodeHashes") :].split("}, {")[0]
    want = b"".join(bytes.fromhex(h) for h in re.findall(r'hd\("([0-9a-f]{64})"\)', level0))
    files = tiles.tiles_from_leaf_hashes([merkle.leaf_hash(x) for x in leaves])
    assert files == {"tile/0/000.p/8": want}
    reader = tiles.TileReader(files.__getitem__, 8)
    assert reader.root() == bytes.fromhex("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")


@pytest.mark.parametrize("n", [1, 2, 255, 256, 257, 511, 512, 513, 1000, 65536, 70000])
def test_reader_matches_merkle(n: int) -> None:
    entries = _entries(n)
    hashes = [merkle.leaf_hash(e) for e in entries]
    files = _published(n)
    reader = tiles.TileReader(files.__getitem__, n)
    root = merkle.root(hashes)
    reader.verify_root(root)
    for i in sorted({0, n // 2, n - 1, min(n - 1, 300)}):
        proof = reader.inclusion_proof(i)
        merkle.verify_inclusion(i, n, hashes[i], proof, root)
    for m in sorted({1, n // 3 or 1, n}):
        merkle.verify_consistency(m, n, merkle.root(hashes[:m]), root, reader.consistency_proof(m))
    if n <= 1000:
        assert [e for _, e in reader.entries()] == entries
        assert [e for _, e in tiles.TileReader(files.__getitem__, n, root).entries()] == entries
    for b in sorted({0, (n - 1) // 256}):
        reader.verify_leaf_tile(b, root)
    assert list(reader.entries(n - 1, n)) == [(n - 1, entries[-1])]


def test_reader_fetches_few_tiles() -> None:
    n = 70000
    files = _published(n)
    reader = tiles.TileReader(files.__getitem__, n)
    reader.root()
    assert len(reader.fetched) <= 4
    reader2 = tiles.TileReader(files.__getitem__, n)
    reader2.inclusion_proof(12345)
    assert len(reader2.fetched) <= 6


def test_reader_older_size_uses_partial_tiles() -> None:
    # A tree of 300 published after one of 200: reading at size 200 needs tile/0/000.p/200.
    e = _entries(300)
    files = {**_publish(e[:200]), **_publish(e)}
    r200 = tiles.TileReader(files.__getitem__, 200)
    assert r200.root() == merkle.root([merkle.leaf_hash(x) for x in e[:200]])
    assert r200.fetched == ["tile/0/000.p/200"]
    new = tiles.new_tiles(200, 300, entries=True)
    assert [t.path for t in new] == ["tile/entries/000", "tile/entries/001.p/44", "tile/0/000", "tile/0/001.p/44", "tile/1/000.p/1"]


def test_reader_detects_tampering() -> None:
    n = 600
    entries = _entries(n)
    files = _publish(entries)
    root = merkle.root([merkle.leaf_hash(e) for e in entries])
    bad = dict(files)
    tile0 = bytearray(bad["tile/0/001"])
    tile0[0] ^= 1
    bad["tile/0/001"] = bytes(tile0)
    # The root of 600 = 512 + 88 leaves reads tile/1/000.p/2 and tile/0/002.p/88, not tile/0/001 …
    tiles.TileReader(bad.__getitem__, n).verify_root(root)
    # … but a proof through it, or its entries, do not verify.
    reader = tiles.TileReader(bad.__getitem__, n)
    with pytest.raises(IntegrityError, match="does not verify"):
        merkle.verify_inclusion(257, n, merkle.leaf_hash(entries[257]), reader.inclusion_proof(257), root)
    with pytest.raises(IntegrityError, match=r"tile/entries/001: entry 256 does not hash to its leaf in tile/0/001"):
        list(tiles.TileReader(bad.__getitem__, n).entries(256, 257))
    bad_top = dict(files)
    top = bytearray(bad_top["tile/1/000.p/2"])
    top[-1] ^= 0x80
    bad_top["tile/1/000.p/2"] = bytes(top)
    with pytest.raises(IntegrityError, match="do not match the checkpoint"):
        tiles.TileReader(bad_top.__getitem__, n).verify_root(root)
    # A consistent forgery of a bundle and its level-0 tile is caught when the reader knows the root.
    forged = dict(files)
    fake = [b"forged %d" % i for i in range(256)]
    forged["tile/entries/001"] = tiles.encode_entry_bundle(fake)
    forged["tile/0/001"] = b"".join(merkle.leaf_hash(e) for e in fake)
    assert [e for _, e in tiles.TileReader(forged.__getitem__, n).entries(256, 258)] == fake[:2]
    with pytest.raises(IntegrityError, match=r"tile/0/001 is not part of the tree of size 600 with root"):
        list(tiles.TileReader(forged.__getitem__, n, root).entries(256, 258))
    assert len(list(tiles.TileReader(files.__getitem__, n, root).entries())) == n
    short = dict(files)
    short["tile/0/002.p/88"] = files["tile/0/002.p/88"][:-1]
    with pytest.raises(IntegrityError, match=r"tile/0/002.p/88: expected 2816 bytes \(88 hashes\), got 2815"):
        tiles.TileReader(short.__getitem__, n).root()
    swapped = dict(files)
    swapped["tile/entries/000"] = tiles.encode_entry_bundle(list(reversed(entries[:256])))
    with pytest.raises(IntegrityError, match="entry 0 does not hash to its leaf"):
        list(tiles.TileReader(swapped.__getitem__, n).entries())
    trunc = dict(files)
    trunc["tile/entries/000"] = tiles.encode_entry_bundle(entries[:255])
    with pytest.raises(FormatError, match="tile/entries/000: entry bundle: expected 256 entries, got 255"):
        list(tiles.TileReader(trunc.__getitem__, n).entries())
    with pytest.raises(IntegrityError, match="leaf index 600 is not in a tree of size 600"):
        tiles.TileReader(files.__getitem__, n).inclusion_proof(600)
    with pytest.raises(IntegrityError, match=r"entries \[0, 601\) are not in a tree of size 600"):
        list(tiles.TileReader(files.__getitem__, n).entries(0, 601))


def test_over_a_directory(tmp_path: Path) -> None:
    files = _publish(_entries(300))
    for path, data in files.items():
        p = tmp_path / path
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    reader = tiles.TileReader(lambda path: (tmp_path / path).read_bytes(), 300)
    assert reader.root() == merkle.root([merkle.leaf_hash(e) for e in _entries(300)])
    assert (tmp_path / "tile" / "0" / "001.p" / "44").is_file()


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 2000), st.data())
def test_incremental_tiles_equal_batch(n: int, data: st.DataObject) -> None:
    # Growing a tree in steps and writing only new_tiles() each time yields the batch tiles.
    hashes = [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(n)]
    cuts = sorted(set(data.draw(st.lists(st.integers(1, n), max_size=4))) | {n})
    cr = merkle.CompactRange()
    stored: dict[tuple[int, int], bytes] = {}
    written: dict[str, bytes] = {}
    size = 0
    for cut in cuts:
        for h in hashes[size:cut]:
            for level, index, value in cr.append(h):
                if level % 8 == 0:
                    stored[(level, index)] = value
        for t in tiles.new_tiles(size, cut):
            assert t.path not in written  # published files are never rewritten
            written[t.path] = tiles.tile_contents(t, lambda lv, ix: stored[(lv, ix)])
        size = cut
        assert tiles.TileReader(written.__getitem__, size).root() == cr.root()
    batch = tiles.tiles_from_leaf_hashes(hashes)
    assert {p: written[p] for p in batch} == batch


def test_sizes_and_tile_checks() -> None:
    assert tiles.tiles_for_size(0) == [] and tiles.new_tiles(0, 0) == []
    assert tiles.tiles_for_size(1, entries=True) == [Tile(-1, 0, 1), Tile(0, 0, 1)]
    assert tiles.new_tiles(5, 5) == []
    assert tiles.new_tiles(5, 6) == [Tile(0, 0, 6)]
    with pytest.raises(FormatError, match="expected old size ≤ new size, got 7 > 6"):
        tiles.new_tiles(7, 6)
    with pytest.raises(FormatError, match="tile width: expected 1…256, got 257"):
        Tile(0, 0, 257)
    with pytest.raises(FormatError, match="tile level: expected -1 \\(entries\\) or 0…63, got 64"):
        Tile(64, 0)
    with pytest.raises(FormatError, match="tile index: expected an integer in \\[0, 2\\*\\*63\\), got -1"):
        Tile(0, -1)
    with pytest.raises(FormatError, match="an entry bundle has no hashes"):
        tiles.tile_contents(Tile(-1, 0), lambda lv, ix: b"")
    # Huge trees: only the tiles that change are listed, without enumerating the others.
    assert tiles.new_tiles(2**63 - 2, 2**63 - 1) == [Tile(0, (2**63 - 1) >> 8, 255)]
    assert tiles.new_tiles(2**63 - 2, 2**63 - 1)[0].path == "tile/0/x036/x028/x797/x018/x963/967.p/255"
    # Reaching 2**56 leaves completes one full tile at each of the levels 0…6 and starts level 7.
    top = tiles.new_tiles(2**56 - 1, 2**56)
    assert [(t.level, t.width) for t in top] == [(lv, 256) for lv in range(7)] + [(7, 1)]
    assert top[0].index == 2**48 - 1 and top[-1] == Tile(7, 0, 1)
