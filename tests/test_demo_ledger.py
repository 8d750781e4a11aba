"""The committed sample ledger (data/ledger) and results (data/results): made by the real ceremony,
complete, verifiable, and exactly what `sunshine demo-data --scale 3000 --out data` rebuilds."""

from __future__ import annotations

import filecmp
import os
from collections import Counter
from pathlib import Path

import pytest

from sunshine import beacon, demo, demo_ledger, draw, loading, verify
from sunshine.ceremony import Ceremony, current_selection, round_time
from sunshine.ledger_store import DirectoryFiles, Ledger

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"


@pytest.fixture(scope="module")
def ledger():
    return Ledger.open(DATA / "ledger")


@pytest.fixture(scope="module")
def dataset():
    return loading.load_dataset(str(DATA))


@pytest.fixture(scope="module")
def report():
    files = DirectoryFiles(DATA / "ledger")
    return verify.verify_files(files, listing=files.listing())


def test_sample_ledger_verifies_with_only_the_deliberately_late_publications(report, dataset):
    assert report.integrity_ok, report.to_text()
    late = [f for f in report.findings if "after the deadline" in f.message]
    assert report.findings == late  # the only findings: results published late on purpose (demo.make_results)
    assert 0 < len(late) <= 0.03 * len(dataset.results)
    assert report.log_key.startswith(demo_ledger.ORIGIN + "+")
    assert set(report.tasks) == {t.id for t in dataset.tasks()}
    assert all(t["state"] == "dispatched" for t in report.tasks.values())
    unsealed = [t.id for t in dataset.tasks() if not t.uses_credit_classes]
    for tid in unsealed:
        assert report.tasks[tid]["note"].startswith("draw recomputed"), (tid, report.tasks[tid])


def test_real_drand_rounds_where_they_exist_and_never_the_test_chain(ledger):
    commits = {}
    for e in ledger.entries():
        if e.type == "draw.commit":
            commits[e.body["task"]] = e
            d = e.body["randomness"]["drand"]
            if d is not None:
                assert d["chain"] == beacon.QUICKNET.chain_hash and d["chain"] != beacon.TEST_CHAIN.chain_hash
                assert e.time < round_time(d["chain"], d["round"])
            else:  # no public beacon: every department of the task contributes (spec §3.5)
                assert len(e.body["randomness"]["contributions"]) == 1 + len(e.body["participants"]) or \
                    e.body["task"] == demo_ledger.VOID_TASK
    rounds = {t: e.body["randomness"]["drand"]["round"] for t, e in commits.items() if e.body["randomness"]["drand"]}
    assert rounds == {"2026-09": 32000000, "2026-10": 32000001}
    for e in ledger.entries():
        if e.type == "draw.randomness" and e.body["drand"] is not None:
            assert e.body["drand"]["beacon"] == demo_ledger.REAL_BEACONS[e.body["drand"]["round"]]
            assert e.time >= round_time(e.body["drand"]["chain"], e.body["drand"]["round"])
    # the recorded real beacons are the same bytes as tests/vectors/drand (their provenance is there)
    for r, text in demo_ledger.REAL_BEACONS.items():
        assert (ROOT / f"tests/vectors/drand/quicknet-{r}.json").read_text().strip() == text


def test_the_whole_story_is_there(ledger, dataset):
    entries = ledger.entries()
    types = Counter(e.type for e in entries)
    assert types["genesis"] == 1 and types["key.rotate"] == 1 and types["key.revoke"] == 1
    assert types["items.publish"] == len(dataset.items.versions)
    assert types["plan.publish"] == sum(len(p.versions) for p in dataset.plans)
    assert types["directory.snapshot"] >= 1
    assert types["draw.commit"] == len(dataset.tasks()) + 1 and types["draw.void"] == 1
    assert types["draw.randomness"] == types["draw.lock"] == types["draw.dispatch"] == len(dataset.tasks())
    assert types["draw.replace_target"] == 2 and types["draw.replace_inspector"] == 2
    no_notice = [t.id for t in dataset.tasks() if t.notice.value == "no_notice"]
    assert types["draw.list_reveal"] == len(no_notice)
    assert types["result.publish"] + types["result.correct"] == len(dataset.results)
    # entry times: never backwards, Beijing working hours (01:00–10:00 UTC) on the key and draw steps
    assert [e.time for e in entries] == sorted(e.time for e in entries)
    for e in entries:
        if e.type.startswith("draw."):
            assert "01:00" <= e.time[11:16] <= "10:00", e.time
    # the list of a no-notice task is revealed before any of its results is published
    first = {}
    for e in entries:
        if e.type == "result.publish":
            first.setdefault(e.body["task"], e.seq)
        if e.type == "draw.list_reveal":
            assert e.seq < first.get(e.body["task"], 10**9)
    # the void came before the randomness; the re-commitment is visible
    void = next(e for e in entries if e.type == "draw.void")
    assert void.body["task"] == demo_ledger.VOID_TASK
    assert void.body["reason"]
    ids = {e.signer for e in entries if e.type == "result.correct"}
    assert ids and all(i.endswith("-head-demo") for i in ids)  # corrections: the department head


def test_results_belong_to_the_locked_selections_after_replacements(ledger, dataset):
    cer = Ceremony(ledger)
    by_task: dict[str, set[str]] = {}
    for r in dataset.results:
        by_task.setdefault(r.task, set()).add(r.target)
    replaced = {e.body["target"]: e.body["replacement"] for e in ledger.entries() if e.type == "draw.replace_target"}
    seen_replacement = False
    for t in dataset.tasks():
        if t.uses_credit_classes:  # sealed: the selection needs the opening file; check the lock's count
            lock = cer.task_draw(t.id).lock
            assert len(by_task.get(t.id, ())) <= lock.body["selected_count"]
            continue
        sel = set(current_selection(cer.outcome(t.id)))
        assert by_task.get(t.id, set()) <= sel, t.id
        for old, new in replaced.items():
            if new in sel:
                seen_replacement = True
                assert old not in by_task.get(t.id, set())
    assert seen_replacement


def test_results_signed_by_their_department(ledger):
    for e in ledger.entries():
        if e.type == "result.publish":
            assert e.signer.startswith(e.body["department"] + "-op-demo"), (e.seq, e.signer)


def test_demo_keys_are_marked_and_the_readme_gives_the_passphrase(ledger):
    readme = (DATA / "demo-keys" / "README.md").read_text(encoding="utf-8")
    assert "DEMO ONLY" in readme and demo_ledger.DEMO_PASSPHRASE in readme
    from sunshine import keys

    ident = keys.load_key_file(DATA / "demo-keys" / "amr-op-demo-2026.key", demo_ledger.DEMO_PASSPHRASE.encode())
    assert ident.demo and ident.name == "amr-op-demo-2026"
    assert ledger.state.keys["amr-op-demo-2026"].public_key == ident.public_key_bytes


def _tree(root: Path) -> list[str]:
    out = []
    for dirpath, _dirs, files in os.walk(root):
        out += [os.path.relpath(os.path.join(dirpath, f), root) for f in files]
    return sorted(out)


@pytest.mark.slow
def test_demo_data_rebuilds_the_committed_ledger_and_results_byte_for_byte(tmp_path):
    from sunshine import cli

    out = tmp_path / "data"
    assert cli.main(["demo-data", "--scale", "3000", "--out", str(out)]) == 0
    for sub in ("ledger", "results"):
        assert _tree(out / sub) == _tree(DATA / sub), sub
        for rel in _tree(out / sub):
            assert filecmp.cmp(out / sub / rel, DATA / sub / rel, shallow=False), f"data/{sub}/{rel} differs"
    assert sorted(p.name for p in (out / "demo-keys").iterdir()) == sorted(p.name for p in (DATA / "demo-keys").iterdir())


def test_no_ledger_writes_stand_in_results_marked_as_such(tmp_path, capsys):
    from sunshine import cli

    out = tmp_path / "d"
    assert cli.main(["demo-data", "--scale", "300", "--out", str(out), "--no-ledger"]) == 0
    assert "STAND-IN" in capsys.readouterr().out
    assert not (out / "ledger").exists() and not (out / "demo-keys").exists()
    assert "STAND-IN selections" in (out / "README.md").read_text(encoding="utf-8")
    v = loading.load_dataset(str(out))
    assert v.results
    from sunshine import rules

    assert not [p for p in rules.check_dataset(v) if p.severity == "error"]


def test_other_demo_options_get_their_own_origin():
    assert demo_ledger.origin_for(3000, 2025) == demo_ledger.ORIGIN
    assert demo_ledger.origin_for(300, 2025) != demo_ledger.origin_for(300, 7) != demo_ledger.ORIGIN
