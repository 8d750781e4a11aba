"""Tamper evidence: every single-byte change to a ledger's files, reordering, truncation, forks.

Verification runs on bytes in memory (pure ``sunshine.verify.verify_files``), so flipping each of the
~10,000 bytes of the sample ledger in turn stays fast.
"""

import json

import pytest

from sunshine import canonical, entries, note
from sunshine.verify import verify_files

from ledger_fixture import ORIGIN, build_sample_ledger, layout_files, read_files


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    s = build_sample_ledger(tmp_path_factory.mktemp("tamper") / "ledger")
    files = read_files(s.ledger.path)
    return s, files


def verdict(files, **kw):
    kw.setdefault("recompute_draws", False)  # the fixture's draw bodies are placeholders, see ledger_fixture
    return verify_files(files, listing=list(files), **kw)


def test_sample_is_valid(sample):
    s, files = sample
    rep = verdict(files)
    assert rep.exit_code == 0, rep.to_text()
    assert {p.split("/")[0] for p in files} == {"checkpoint", "tile", "blob"}


def current(files, path):
    """Whether *path* is one of the files the checkpoint needs (not a kept narrower partial tile)."""
    size = int(files["checkpoint"].split(b"\n")[1])
    return not path.startswith("tile/") or path.endswith(f".p/{size % 256}") or ".p/" not in path


def flip_all(s, files, paths, stride=1):
    flips = missed = 0
    for path in paths:
        data = files[path]
        for i in range(0, len(data), stride):
            mask = 1 << (i % 8)  # one bit of every byte, each bit position in turn
            tampered = dict(files)
            tampered[path] = data[:i] + bytes([data[i] ^ mask]) + data[i + 1:]
            flips += 1
            # trust on first use (the log key read from the genesis entry); the checkpoint also pinned
            for vkey in (None, s.vkey) if path == "checkpoint" else (None,):
                if verdict(tampered, vkey=vkey).integrity_ok:
                    missed += 1
                    print("MISSED", path, i, hex(mask), vkey is not None)
    return flips, missed


@pytest.mark.parametrize("kind", ["tile/entries", "tile/0", "checkpoint", "blob"])
def test_every_single_byte_flip_is_detected(sample, kind):
    """Every byte of every file the checkpoint needs, and of the blobs."""
    s, files = sample
    paths = [p for p in files if p.startswith(kind) and current(files, p)]
    assert paths
    flips, missed = flip_all(s, files, paths)
    assert flips > 0 and missed == 0, f"{missed} of {flips} flips in {kind} not detected"


def test_kept_partial_tiles_flips_sampled(sample):
    """The narrower partial tiles kept for older checkpoints (tlog-tiles): every 31st byte here, all in the slow run."""
    s, files = sample
    paths = [p for p in files if p.startswith("tile/") and not current(files, p)]
    assert len(paths) == 2 * 16  # sizes 1..16 of the level-0 tile and of the entry bundle
    flips, missed = flip_all(s, files, paths, stride=31)
    assert flips > 2000 and missed == 0


@pytest.mark.slow
def test_kept_partial_tiles_every_byte(sample):
    s, files = sample
    paths = [p for p in files if p.startswith("tile/") and not current(files, p)]
    flips, missed = flip_all(s, files, paths)
    assert missed == 0, f"{missed} of {flips} flips not detected"


def test_missing_files_are_detected(sample):
    s, files = sample
    for path in [p for p in files if current(files, p)]:
        tampered = {k: v for k, v in files.items() if k != path}
        assert not verdict(tampered).integrity_ok, path


def blobs(files):
    return {k: v for k, v in files.items() if k.startswith("blob/")}


def raws_of(files):
    from sunshine import tiles
    return tiles.decode_entry_bundle(files["tile/entries/000.p/17"])  # the current bundle


def test_dishonest_operator_reorders_entries(sample):
    s, files = sample
    raws = raws_of(files)
    raws[5], raws[6] = raws[6], raws[5]
    rep = verdict({**layout_files(ORIGIN, raws, s.log), **{k: v for k, v in files.items() if k.startswith("blob/")}},
                  vkey=s.vkey)
    assert not rep.integrity_ok
    assert "expected seq 5, got 6" in rep.to_text()


def test_dishonest_operator_drops_an_entry(sample):
    s, files = sample
    raws = raws_of(files)
    del raws[9]
    rep = verdict(layout_files(ORIGIN, raws, s.log), vkey=s.vkey)
    assert "expected seq 9, got 10" in rep.to_text() and rep.exit_code == 4


def test_dishonest_operator_rewrites_an_entry_it_cannot_sign(sample):
    s, files = sample
    raws = raws_of(files)
    obj = json.loads(raws[11])
    assert obj["type"] == "draw.lock"
    obj["body"]["selected_count"] = 3  # change the locked draw after the fact
    raws[11] = canonical.encode(obj)
    # chain the rest again so that only the signature can tell
    for i in range(12, len(raws)):
        o = json.loads(raws[i])
        o["prev"] = entries.parse_entry(raws[i - 1]).hash
        raws[i] = canonical.encode(o)
    rep = verdict({**layout_files(ORIGIN, raws, s.log), **blobs(files)}, vkey=s.vkey)
    assert rep.exit_code == 4 and "entry 11: signature by 'amr-op' does not verify" in rep.to_text()


def test_truncation_and_rollback_against_remembered_checkpoint(sample):
    s, files = sample
    raws = raws_of(files)
    short = layout_files(ORIGIN, raws[:12], s.log)  # validly signed by the log key, but older/shorter
    assert verdict({**short, **{k: v for k, v in files.items() if k.startswith("blob/")}}, vkey=s.vkey).integrity_ok
    rep = verdict(short, vkey=s.vkey, previous=files["checkpoint"])
    assert rep.exit_code == 4 and "rollback" in rep.to_text()
    # truncating the files without re-signing is caught by layer 1 alone
    cut = dict(files)
    cut["tile/entries/000.p/17"] = files["tile/entries/000.p/17"][:-5]
    assert verdict(cut).exit_code == 4


def test_fork_two_checkpoints_of_one_size(sample):
    s, files = sample
    raws = raws_of(files)
    # the operator signs a second history of the same size: the last entry replaced by another
    other = json.loads(raws[16])
    other["time"] = "2025-06-22T01:00:00Z"
    forged = entries.build_entry(ORIGIN, 16, entries.parse_entry(raws[15]).hash, other["time"], other["type"],
                                 other["body"], s.ids["amr-op"])
    fork = layout_files(ORIGIN, raws[:16] + [forged.raw], s.log)
    fork_files = {**fork, **{k: v for k, v in files.items() if k.startswith("blob/")}}
    alone = verdict(fork_files, vkey=s.vkey)
    assert alone.integrity_ok  # each history is consistent on its own …
    rep = verdict(fork_files, vkey=s.vkey, previous=files["checkpoint"])
    assert rep.exit_code == 4 and "fork" in rep.to_text()  # … but not with what this verifier saw before
    # and a longer fork of it is caught too (the old size's root differs)
    longer = layout_files(ORIGIN, raws[:16] + [forged.raw, raws[16]], s.log)
    rep = verdict({**longer, **{k: v for k, v in files.items() if k.startswith("blob/")}}, vkey=s.vkey,
                  previous=files["checkpoint"])
    assert "fork" in rep.to_text()


def test_another_log_key_is_rejected_when_pinned(sample):
    s, files = sample
    from ledger_fixture import fixed_test_key
    mallory = note.new_ed25519_signer(ORIGIN, fixed_test_key("mallory"))
    resigned = dict(files)
    resigned["checkpoint"] = note.sign_note(note.parse_note(files["checkpoint"]).text, mallory)
    assert verdict(resigned, vkey=s.vkey).exit_code == 4
    assert verdict(resigned).exit_code == 4  # the genesis entry names the real log key
