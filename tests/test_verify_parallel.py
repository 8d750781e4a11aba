"""verify_files with its work split into chunks and run in worker processes (commands.verify.ParallelChecker)
gives exactly the report of the in-process run: the first failure in ledger order, every bad signature,
signatures re-checked when the key guessed before the replay is not the one the replay resolves."""

import pytest

from sunshine import entries, tiles, verify
from sunshine.commands.verify import ParallelChecker
from sunshine.merkle import CompactRange, leaf_hash, root

from sunshine.keys import SigningIdentity

from ledger_fixture import ORIGIN, build_sample_ledger, fixed_test_key, identity, layout_files, read_files


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    s = build_sample_ledger(tmp_path_factory.mktemp("vpar") / "ledger")
    files = read_files(s.ledger.path)
    raws = tiles.decode_entry_bundle(files["tile/entries/000.p/17"])
    return s, files, raws


@pytest.fixture(scope="module")
def pool():
    with ParallelChecker(2) as checker:
        yield checker


def relayout(s, files, raws):
    """The files of a log holding *raws*, re-signed by the log key (layer 1 passes), blobs kept."""
    return {**layout_files(ORIGIN, raws, s.log), **{k: v for k, v in files.items() if k.startswith("blob/")}}


def append(raws, type_, body, signer, time):
    prev = entries.parse_entry(raws[-1]).hash
    return [*raws, entries.build_entry(ORIGIN, len(raws), prev, time, type_, body, signer).raw]


def both(files, pool, monkeypatch):
    """The report in process (no runner) and through the pool in chunks of 3 entries; they must agree."""
    alone = verify.verify_files(files, listing=list(files), check_signatures=verify.check_signatures_serial)
    with monkeypatch.context() as m:
        m.setattr(verify, "PARALLEL_MIN_ENTRIES", 1)
        m.setattr(verify, "ENTRY_CHUNK", 3)
        split = verify.verify_files(files, listing=list(files), check_signatures=pool)
    assert split.to_json() == alone.to_json()
    return alone


def test_the_sample_verifies_the_same_split(sample, pool, monkeypatch):
    s, files, _ = sample
    rep = both(files, pool, monkeypatch)
    assert rep.verdict == "ok" and rep.size == 17


def test_every_bad_signature_is_reported_in_order(sample, pool, monkeypatch):
    s, files, raws = sample
    fake_op = SigningIdentity("amr-op", "amr", "operator", fixed_test_key("forger"))  # the operator's name, another key
    more = list(raws)
    for k, signer in enumerate((fake_op, s.ids["amr-op"], fake_op, fake_op)):
        more = append(more, "draw.list_reveal", {"task": "2026-07"}, signer, f"2026-10-22T0{k}:00:00Z")
    rep = both(relayout(s, files, more), pool, monkeypatch)
    assert rep.verdict == "integrity"
    assert [(f.seq, f.message) for f in rep.findings if f.kind == "integrity"] == [
        (seq, "signature by 'amr-op' does not verify") for seq in (17, 19, 20)]


def test_the_first_failure_in_ledger_order_is_reported(sample, pool, monkeypatch):
    s, files, raws = sample
    bad = list(raws)
    bad[9] = bad[9].replace(b'{"body":{', b'{"body": {', 1)  # not canonical (entry 10's prev breaks too)
    bad[13] = b"{}"  # not an entry at all, in a later chunk
    rep = both(relayout(s, files, bad), pool, monkeypatch)
    assert [(f.kind, f.seq) for f in rep.findings] == [("integrity", 9)]
    assert "entry 9: non-canonical JSON" in rep.findings[0].message
    # a bad signature is reported only once the replay has got through every entry
    fake_op = SigningIdentity("amr-op", "amr", "operator", fixed_test_key("forger"))
    more = append(list(raws), "draw.list_reveal", {"task": "2026-07"}, fake_op, "2026-10-22T01:00:00Z")
    rep = both(relayout(s, files, [*more, b'{"body":{}}']), pool, monkeypatch)
    assert [(f.kind, f.seq) for f in rep.findings] == [("integrity", 18)]
    swapped = list(raws)
    swapped[10], swapped[11] = swapped[11], swapped[10]
    rep = both(relayout(s, files, swapped), pool, monkeypatch)
    assert [(f.kind, f.seq) for f in rep.findings] == [("integrity", 10)]
    assert "expected seq 10, got 11" in rep.findings[0].message


def test_signer_not_registered_and_the_log_key_name_registered_later(sample, pool, monkeypatch):
    s, files, raws = sample
    ghost = identity("ghost", "amr", "operator")
    rep = both(relayout(s, files, append(raws, "draw.dispatch", {"task": "2026-07"}, ghost,
                                         "2026-10-22T01:00:00Z")), pool, monkeypatch)
    assert rep.findings[-1].message == "entry 17: signed by 'ghost', which is not a registered key"
    # An entry signed by the log key, then a key registered under the log key's name, then an entry signed
    # by that key: the guess before the replay gives the registered key for both, so the first one's
    # signature is checked again with the log key during the replay; no signature failure.
    more = append(raws, "draw.list_reveal", {"task": "2026-07"}, s.log, "2026-10-22T01:00:00Z")
    impostor = identity(s.log.name, "amr", "operator")
    more = append(more, "key.register", {"key": impostor.record()}, s.ids["amr-root"], "2026-10-22T02:00:00Z")
    more = append(more, "draw.list_reveal", {"task": "2026-07"}, impostor, "2026-10-22T03:00:00Z")
    rep = both(relayout(s, files, more), pool, monkeypatch)
    assert rep.verdict == "policy", rep.to_text()
    assert not [f for f in rep.findings if "does not verify" in f.message]
    messages = [f.message for f in rep.findings if f.layer == 2]
    assert any("signed by the log key" in m for m in messages) and any("already used" in m for m in messages)


def test_signing_keys_guess(sample):
    s, _, raws = sample
    keys = verify.signing_keys(raws)
    assert keys[s.log.name] == s.log.public_key and keys["amr-op"] == s.ids["amr-op"].public_key_bytes
    assert set(keys) == {s.log.name, "amr-root", "amr-op", "amr-head", "health-op", "health-head",
                         "witness.example/audit"}
    assert verify.signing_keys([]) == {} and verify.signing_keys([b"not json"]) == {}


@pytest.mark.parametrize("n", [0, 1, 2, 255, 256, 257, 511, 1000, 65536 + 300])
def test_tree_levels_match_the_compact_range(n):
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(n)]
    tree = verify._Tree(leaves)
    rng = CompactRange()
    levels = [[]]
    for h in leaves:
        for level, _index, node in rng.append(h):
            if level % 8 == 0:
                if level // 8 == len(levels):
                    levels.append([])
                levels[level // 8].append(node)
    assert tree.levels == levels
    for size in {0, 1, n // 3, n - 1, n} - {-1}:
        if 0 <= size <= n:
            assert tree.root_at(size) == root(leaves[:size])
