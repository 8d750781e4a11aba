"""The on-disk ledger: create/open/append, blobs, the lock, immutability, torn writes, refusals."""

import subprocess
import sys

import pytest

from sunshine import checkpoint, tiles
from sunshine.errors import FormatError, IntegrityError, LedgerError, PolicyError
from sunshine.ledger_store import DirectoryFiles, Ledger, blob_path
from sunshine.verify import verify_files

from ledger_fixture import ORIGIN, build_sample_ledger, genesis_body, log_signer, make_identities, read_files


def new_ledger(path, sync=False):
    ids = make_identities()
    led = Ledger.create(path, ORIGIN, log_signer(), genesis_body(ids), "2025-01-01T00:00:00Z", sync=sync)
    return led, ids


def test_create_open_append_round_trip(tmp_path):
    led, ids = new_ledger(tmp_path / "l", sync=True)
    assert led.size == 1 and led.origin == ORIGIN
    e = led.append("key.register", {"key": ids["amr-op"].record()}, ids["amr-root"], "2025-01-02T00:00:00Z")
    assert (e.seq, led.size) == (1, 2)
    again = Ledger.open(tmp_path / "l")
    assert again.size == 2 and [x.raw for x in again.entries()] == [x.raw for x in led.entries()]
    assert again.entries()[1].prev == again.entries()[0].hash
    # the checkpoint is a signed C2SP checkpoint over the entries
    cp, _ = checkpoint.open_checkpoint(again.checkpoint_bytes(), ORIGIN, log_signer().verifier())
    assert cp.size == 2
    # the partial tiles of every checkpointed size stay published (tlog-tiles MUST)
    assert sorted(read_files(tmp_path / "l")) == ["checkpoint", "tile/0/000.p/1", "tile/0/000.p/2",
                                                  "tile/entries/000.p/1", "tile/entries/000.p/2"]
    assert (tmp_path / "l" / ".lock").exists()


def test_blobs_are_content_addressed_and_required(tmp_path):
    led, ids = new_ledger(tmp_path / "l")
    ref = led.put_blob(b"hello")
    assert ref == "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    assert led.put_blob(b"hello") == ref  # idempotent
    assert led.get_blob(ref) == b"hello"
    assert (tmp_path / "l" / blob_path(ref)).read_bytes() == b"hello"
    (tmp_path / "l" / blob_path(ref)).write_bytes(b"HELLO")
    with pytest.raises(IntegrityError, match="does not match its name"):
        led.get_blob(ref)
    with pytest.raises(IntegrityError, match="refusing to rewrite published file"):
        led.put_blob(b"hello")
    missing = "sha256:" + "ab" * 32
    led.append("key.register", {"key": ids["amr-op"].record()}, ids["amr-root"], "2025-01-02T00:00:00Z")
    with pytest.raises(PolicyError, match="not stored"):
        led.append("items.publish", {"version": 1, "published": "2025-01-15", "items": missing},
                   ids["amr-op"], "2025-01-02T00:00:00Z")
    with pytest.raises(FormatError, match="blob reference"):
        led.get_blob("sha256:xyz")


def test_refusals_leave_the_ledger_unchanged(tmp_path):
    led, ids = new_ledger(tmp_path / "l")
    led.append("key.register", {"key": ids["amr-op"].record()}, ids["amr-root"], "2025-01-02T00:00:00Z")
    before = read_files(tmp_path / "l")
    with pytest.raises(PolicyError, match="must be signed by a key with role 'root'"):
        led.append("key.register", {"key": ids["amr-head"].record()}, ids["amr-op"], "2025-01-02T00:00:00Z")
    with pytest.raises(FormatError, match="type: expected one of"):
        led.append("draw.redo", {}, ids["amr-root"], "2025-01-02T00:00:00Z")
    with pytest.raises(FormatError, match="time"):
        led.append("key.register", {"key": ids["amr-head"].record()}, ids["amr-root"], "yesterday")
    # a batch is all or nothing
    with pytest.raises(PolicyError, match="already used"):
        led.append_batch([
            ("key.register", {"key": ids["amr-head"].record()}, ids["amr-root"], "2025-01-02T00:00:00Z"),
            ("key.register", {"key": ids["amr-head"].record()}, ids["amr-root"], "2025-01-02T00:00:00Z"),
        ])
    assert read_files(tmp_path / "l") == before and led.size == 2
    led.append("key.register", {"key": ids["amr-head"].record()}, ids["amr-root"], "2025-01-02T00:00:00Z")
    assert led.size == 3


def test_read_only_and_missing(tmp_path):
    new_ledger(tmp_path / "l")
    ro = Ledger.open(tmp_path / "l")
    ids = make_identities()
    with pytest.raises(LedgerError, match="read-only"):
        ro.append("key.register", {"key": ids["amr-op"].record()}, ids["amr-root"], "2025-01-02T00:00:00Z")
    with pytest.raises(LedgerError, match="not a ledger directory"):
        Ledger.open(tmp_path / "nothing")
    with pytest.raises(LedgerError, match="non-empty directory"):
        new_ledger(tmp_path / "l")


def test_two_writers_see_each_other(tmp_path):
    a, ids = new_ledger(tmp_path / "l")
    b = Ledger.open(tmp_path / "l", log_signer=log_signer(), sync=False)
    a.append("key.register", {"key": ids["amr-op"].record()}, ids["amr-root"], "2025-01-02T00:00:00Z")
    # b's view is stale; under the lock it reloads and appends after a's entry
    e = b.append("key.register", {"key": ids["amr-head"].record()}, ids["amr-root"], "2025-01-02T00:00:01Z")
    assert e.seq == 2 and e.prev == Ledger.open(tmp_path / "l").entries()[1].hash
    assert verify_files(read_files(tmp_path / "l")).integrity_ok


def test_lock_is_exclusive(tmp_path):
    led, ids = new_ledger(tmp_path / "l")
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import fcntl,os,sys,time; fd=os.open(sys.argv[1],os.O_RDWR); fcntl.flock(fd,fcntl.LOCK_EX); "
         "print('locked',flush=True); time.sleep(30)", str(tmp_path / "l" / ".lock")],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(LedgerError, match="locked by another writer"):
            led._acquire(timeout=0.3)
    finally:
        holder.kill()
        holder.wait()
    led.append("key.register", {"key": ids["amr-op"].record()}, ids["amr-root"], "2025-01-02T00:00:00Z")


def test_torn_leftovers_are_ignored_then_removed(tmp_path):
    led, ids = new_ledger(tmp_path / "l")
    led.append("key.register", {"key": ids["amr-op"].record()}, ids["amr-root"], "2025-01-02T00:00:00Z")
    d = tmp_path / "l"
    # what a writer killed before its checkpoint rename leaves behind: files for size 3, a temp file
    (d / "tile/entries/000.p").mkdir(exist_ok=True)
    (d / "tile/entries/000.p/3").write_bytes(b"\x00\x01x" * 3)
    (d / "tile/0/000.p/3").write_bytes(b"\x00" * 96)
    (d / "tile/0/.000.123.tmp").write_bytes(b"junk")
    rep = verify_files(DirectoryFiles(d), listing=DirectoryFiles(d).listing())
    assert rep.exit_code == 0, rep.to_text()
    assert any("beyond the checkpoint" in n for n in rep.notices)
    ro = Ledger.open(d)
    assert ro.size == 2
    w = Ledger.open(d, log_signer=log_signer(), sync=False)
    w.append("key.register", {"key": ids["amr-head"].record()}, ids["amr-root"], "2025-01-02T00:00:01Z")
    assert not (d / "tile/0/.000.123.tmp").exists()
    assert verify_files(DirectoryFiles(d), listing=DirectoryFiles(d).listing()).exit_code == 0


def test_refuses_to_rewrite_published_files(tmp_path):
    led, ids = new_ledger(tmp_path / "l")
    d = tmp_path / "l"
    for i in range(2):
        led.append("key.register", {"key": list(ids.values())[i + 1].record()}, ids["amr-root"],
                   "2025-01-02T00:00:00Z")
    # a published file for the next size already exists with other bytes (e.g. written by someone else)
    # that is within the published range after it: plant a *full-width* bundle that the next append
    # would have to rewrite
    path = d / tiles.entries_path(0, 4)
    path.parent.mkdir(parents=True, exist_ok=True)
    # a leftover beyond the checkpoint is removed, not an error
    path.write_bytes(b"\x00\x01x")
    led.append("key.register", {"key": ids["health-op"].record()}, ids["amr-root"], "2025-01-02T00:00:00Z")
    assert path.read_bytes() != b"\x00\x01x"
    with pytest.raises(IntegrityError, match="refusing to rewrite published file"):
        led._publish(tiles.entries_path(0, 4), b"other bytes")


def test_refuses_checkpoint_inconsistent_with_last_signed(tmp_path):
    led, ids = new_ledger(tmp_path / "l")
    led.append("key.register", {"key": ids["amr-op"].record()}, ids["amr-root"], "2025-01-02T00:00:00Z")
    # someone replaces the checkpoint with a validly signed one for a different tree of the same size
    other, _ = new_ledger(tmp_path / "other")
    other.append("key.register", {"key": ids["amr-head"].record()}, ids["amr-root"], "2025-01-02T00:00:00Z")
    (tmp_path / "l" / "checkpoint").write_bytes(other.checkpoint_bytes())
    with pytest.raises(LedgerError, match="do not hash to the checkpoint's root"):
        Ledger.open(tmp_path / "l", log_signer=log_signer())
    # and the in-memory writer, which re-reads the checkpoint under the lock, refuses too
    with pytest.raises(LedgerError, match="do not hash to the checkpoint's root"):
        led.append("key.register", {"key": ids["health-op"].record()}, ids["amr-root"], "2025-01-03T00:00:00Z")


def test_full_bundles_and_level1_tiles(tmp_path):
    led, ids = new_ledger(tmp_path / "l")
    root = ids["amr-root"]
    items = [("key.register", {"key": {**ids["amr-op"].record(), "name": f"op-{i}"}}, root,
              "2025-01-02T00:00:00Z") for i in range(300)]
    led.append_batch(items[:200])
    led.append_batch(items[200:])
    assert led.size == 301
    files = read_files(tmp_path / "l")
    assert {"tile/entries/000", "tile/entries/001.p/45", "tile/0/000", "tile/0/001.p/45", "tile/1/000.p/1"} \
        <= set(files)
    assert not any(p.startswith("tile/entries/000.p") for p in files)
    rep = verify_files(files, listing=list(files))
    assert rep.exit_code == 0, rep.to_text()
    assert Ledger.open(tmp_path / "l").size == 301


def test_sample_fixture_verifies_at_layers_1_and_2(tmp_path):
    s = build_sample_ledger(tmp_path / "l")
    rep = verify_files(read_files(tmp_path / "l"), vkey=s.vkey, recompute_draws=False)
    assert rep.integrity_ok and rep.exit_code == 0, rep.to_text()
    assert rep.types["result.publish"] == 2 and rep.witnesses[0]["name"] == "witness.example/audit"
    assert Ledger.open(tmp_path / "l").get_blob(s.ledger.entries()[7].body["plan"]).decode() == "2026年度抽查计划（测试）"


def test_refuses_to_sign_a_checkpoint_inconsistent_with_the_last_one(tmp_path):
    led, ids = new_ledger(tmp_path / "l")
    for n in ("amr-op", "amr-head"):
        led.append("key.register", {"key": ids[n].record()}, ids["amr-root"], "2025-01-02T00:00:00Z")
    before = read_files(tmp_path / "l")
    led.tree.tile_hashes[0][1] = bytes(32)  # the writer's view of the tree goes wrong (a bug, bad RAM …)
    with pytest.raises(IntegrityError, match="refusing to sign checkpoint 4: not consistent with the last"):
        led.append("key.register", {"key": ids["health-op"].record()}, ids["amr-root"], "2025-01-03T00:00:00Z")
    after = read_files(tmp_path / "l")
    assert after["checkpoint"] == before["checkpoint"]  # nothing was committed
    assert Ledger.open(tmp_path / "l").size == 3


@pytest.mark.parametrize("ref", ["sha256:" + "ab" * 32 + "\n", "sha256:" + "AB" * 32, "sha256:" + "ab" * 31, "ab" * 32, None])
def test_blob_path_rejects_non_canonical_references(ref):
    with pytest.raises(FormatError, match="blob reference: expected"):
        blob_path(ref)
