"""`sunshine verify` on sealed strata (docs/spec/draw.md §8): the public checks, and --opening FILE.

* The committed sample ledger (data/ledger): every sealed task passes the public checks (seed, counts,
  cut-offs, tickets of the selected, teams), and the main and the standalone verifier agree task by task.
* A small ledger built here around the draw vectors' "sealed" case (tests/vectors/draw-v1.json, drand TEST
  chain round 17149012): an honest lock passes; locks signed by the right key over a tampered outcome
  document are caught and the task, stratum or target is named; the vector's opening file recomputes the
  draw in full; a wrong opening is an integrity finding in plain words.
"""

from __future__ import annotations

import copy
import hmac
import json
import sys
from pathlib import Path

import pytest

from ledger_fixture import ORIGIN, draw_vector, genesis_body, log_signer, make_identities, read_files
from sunshine import canonical, cli, draw
from sunshine.beacon import ALGORITHM, frame
from sunshine.demo import DEFAULT_SEED
from sunshine.demo_ledger import sealing_key
from sunshine.ledger_store import DirectoryFiles, Ledger
from sunshine.verify import verify_files

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "ledger"
sys.path.insert(0, str(ROOT / "generator" / "sunshine" / "standalone"))
import sunshine_verify as sv  # noqa: E402

PUBLIC_NOTE = ("sealed strata: seed, counts, cut-offs, tickets of the selected and teams checked; "
               "membership needs the opening file")
OPENED_NOTE = "sealed strata opened with the opening file; draw recomputed: matches the lock"


# --------------------------------------------------------------------------- the committed sample ledger

@pytest.fixture(scope="module")
def sample_files():
    files = DirectoryFiles(SAMPLE)
    return files, files.listing()


@pytest.fixture(scope="module")
def sample_main(sample_files):
    files, listing = sample_files
    return verify_files(files, listing=listing)


def _entries(files) -> list:
    from sunshine import ceremony
    from sunshine.entries import parse_entry
    from sunshine.tiles import decode_entry_bundle, entries_path

    size = int(files["checkpoint"].split(b"\n")[1])
    raws = []
    for k in range((size + 255) // 256):
        raws += decode_entry_bundle(files[entries_path(k, min(256, size - k * 256))])
    return ceremony._tracker(parse_entry(r, f"entry {i}") for i, r in enumerate(raws))


def sample_opening(commit_body: dict, get_blob) -> dict:
    """The opening file of a sample task, rebuilt from its public demo sealing key (demo_ledger.sealing_key):
    each member's nonce is HMAC(key, frame(ALG, "nonce", task, label)); its stratum is the one whose
    commitment it opens."""
    c = draw.load_commitment(commit_body, get_blob)
    key = sealing_key(DEFAULT_SEED, c.task)
    members = []
    for label, com in zip(c.labels, c.sealed_commitments):
        nonce = hmac.digest(key, frame(ALGORITHM, "nonce", c.task, label), "sha256")
        sid = next(s.id for s in c.strata if draw.stratum_commitment(c.task, label, s.id, nonce) == com)
        members.append({"label": label, "stratum": sid, "nonce": nonce.hex()})
    return {"algorithm": ALGORITHM, "task": c.task, "members": members}


def test_sample_ledger_every_sealed_task_passes_the_public_checks(sample_main):
    # the only findings on the sample are late results (working-day deadlines), as designed
    assert [f.message for f in sample_main.findings if "deadline" not in f.message] == []
    sealed = sorted(t for t, i in sample_main.tasks.items() if i["note"].startswith("sealed strata"))
    assert len(sealed) == 15
    assert all(sample_main.tasks[t]["note"] == PUBLIC_NOTE for t in sealed)


def test_sample_ledger_main_and_standalone_agree_on_sealed_tasks(sample_files, sample_main):
    files, listing = sample_files
    alone = sv.verify_files({p: files[p] for p in listing})
    assert alone.exit_code == 0 and alone.findings == []
    for task, info in sample_main.tasks.items():
        main_sealed = info["note"].startswith("sealed strata: seed, counts, cut-offs")
        alone_sealed = alone.tasks[task].startswith("sealed strata: seed, counts, cut-offs")
        assert main_sealed == alone_sealed, (task, info["note"], alone.tasks[task])


def test_sample_ledger_opening_files_recompute_in_full(sample_files, tmp_path, capsys):
    files, listing = sample_files
    tracker = _entries(files)
    sealed = [t for t, d in sorted(tracker.tasks.items()) if d.lock is not None and "sealed" in d.commit.body]
    task = sealed[-1]

    def get_blob(ref):
        return files["blob/sha256/" + ref[7:]]

    opening = sample_opening(tracker.tasks[task].commit.body, get_blob)
    path = tmp_path / f"{task}.opening.json"
    path.write_text(json.dumps(opening, ensure_ascii=False), encoding="utf-8")
    code = cli.main(["verify", str(SAMPLE), "--no-state", "--jobs", "1", "--json", "--opening", str(path)])
    rep = json.loads(capsys.readouterr().out)
    assert code == 3 and rep["verdict"] == "policy"  # the sample's late results only
    assert [f for f in rep["findings"] if "deadline" not in f["message"]] == []
    assert rep["tasks"][task]["note"] == OPENED_NOTE
    assert all(rep["tasks"][t]["note"] == PUBLIC_NOTE for t in sealed if t != task)
    # the standalone verifier recomputes it in full with the same file
    alone = sv.verify_files({p: files[p] for p in listing}, openings={task: opening})
    assert alone.exit_code == 0 and alone.tasks[task] == OPENED_NOTE


# --------------------------------------------------------------------------- a small ledger: the "sealed" vector

CASE = draw_vector("sealed")


def build_sealed_ledger(path: Path, outcome: dict | None = None, *, lock_changes: dict | None = None,
                        after: list[tuple[str, dict]] = ()) -> dict:
    """A ledger holding the vector's sealed draw: commit, randomness and a lock over *outcome* (default: the
    honest one), then the entries *after* (bodies get the lock's hash as ``lock``), each signed by the lead
    department's operator. Returns the ledger's files."""
    ids = make_identities()
    led = Ledger.create(path, ORIGIN, log_signer(ORIGIN),
                        genesis_body(ids), "2025-01-02T01:00:00Z", sync=False)
    led.append("key.register", {"key": ids["amr-op"].record()}, ids["amr-root"], "2025-01-02T02:00:00Z")
    for text in CASE["blobs"].values():
        led.put_blob(text.encode("utf-8"))
    outcome = CASE["expected"]["outcome"] if outcome is None else outcome
    ref = led.put_blob(canonical.encode(outcome))
    lock = {**CASE["expected"]["lock"], "outcome": ref, **(lock_changes or {})}
    op = ids["amr-op"]
    items = led.put_blob(canonical.encode({"items": [{"id": i, "class": "general", "ratio_cap": "5%"}
                                                     for i in CASE["commit"]["items"]]}))
    led.append("items.publish", {"version": 1, "published": "2025-01-15", "items": items}, op, "2025-01-15T01:00:00Z")
    plan = led.put_blob("2025年度抽查计划（测试）".encode())
    led.append("plan.publish", {"year": 2025, "version": 1, "published": "2025-02-27", "plan": plan,
                                "tasks": [{"id": "2025-03", "lead": "amr", "participants": []}]},
               op, "2025-02-27T01:00:00Z")
    led.append("draw.commit", CASE["commit"], op, "2025-04-09T02:00:00Z")
    led.append("draw.randomness", CASE["randomness"], op, "2025-04-10T02:05:00Z")
    led.append("draw.lock", lock, op, "2025-04-10T02:10:00Z")
    for i, (type_, body) in enumerate(after):
        led.append(type_, {**body, "lock": draw.body_hash(lock)}, op, f"2025-04-1{1 + i}T02:00:00Z")
    return read_files(path)


def _verify(files: dict, **kw):
    return verify_files(files, listing=list(files), allow_test_chain=True, **kw)


def _alone(files: dict, **kw):
    return sv.verify_files(files, allow_test_chain=True, **kw)


def _messages(rep) -> list[str]:
    return [f.message for f in rep.findings]


def test_honest_sealed_lock_passes_and_both_verifiers_agree(tmp_path):
    files = build_sealed_ledger(tmp_path / "l")
    main, alone = _verify(files), _alone(files)
    assert main.findings == [] and main.verdict == "ok"
    assert main.tasks["2025-03"]["note"] == PUBLIC_NOTE
    assert alone.exit_code == 0 and alone.tasks["2025-03"].startswith("sealed strata: seed, counts, cut-offs")


def _tampered(kind: str) -> tuple[dict, str]:
    """A tampered outcome document and the words that must name the tampering."""
    doc = copy.deepcopy(CASE["expected"]["outcome"])
    c = draw.load_commitment(CASE["commit"], lambda ref: CASE["blobs"][ref].encode("utf-8"))
    prk = bytes.fromhex(doc["seed"])
    if kind == "target":
        # swap a selected target for a pool member whose tickets lie beyond every stratum's cut-off
        cut = {s["id"]: s["cutoff"] for s in doc["strata"]}
        other = next(x for x in c.labels if x not in doc["selected"]
                     and all(draw.ticket(prk, sid, x).hex() > cv for sid, cv in cut.items()))
        old = doc["selected"][1]
        doc["selected"][1] = other
        doc["teams"][1]["target"] = other
        return doc, f"task 2025-03: target {other}: its ticket is beyond the cut-off of every stratum, so it cannot have been drawn"
    if kind == "cutoff":
        doc["strata"][0]["cutoff"] = "ff" * 32
        return doc, "task 2025-03: stratum high: the cutoff " + "ff" * 32 + " is not the ticket of any selected target in that stratum"
    if kind == "low-cutoff":
        # the cut-off of "high" lowered to the smallest ticket any selected target has in "high": still the
        # ticket of a selected target, but fewer than the stratum's sample lie within it
        low = min(draw.ticket(prk, "high", x).hex() for x in doc["selected"])
        doc["strata"][0]["cutoff"] = low
        return doc, "task 2025-03: stratum high: only 1 selected target(s) have a ticket within its cut-off, fewer than its sample of 3"
    if kind == "team":
        t = doc["teams"][0]
        others = [r["id"] for r in c.inspectors if r["kind"] == "officer" and r["id"] not in t["officers"]]
        got = [t["officers"][0], others[0]]
        want = list(t["officers"])
        t["officers"] = got
        return doc, f"task 2025-03: target {t['target']}: the lock's officers is {got!r}, the draw gives {want!r}"
    if kind == "sample":
        doc["strata"][1]["sample"] = 3
        return doc, "task 2025-03: stratum rest: the lock says sample 3, the commitment says 2"
    if kind == "seed":
        doc["seed"] = "00" * 32
        return doc, "task 2025-03: the seed in the lock differs from the seed derived from the commitment and the randomness"
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["target", "cutoff", "low-cutoff", "team", "sample", "seed"])
def test_tampered_but_signed_sealed_lock_is_caught_and_named(tmp_path, kind):
    doc, words = _tampered(kind)
    files = build_sealed_ledger(tmp_path / "l", doc)
    main, alone = _verify(files), _alone(files)
    assert main.verdict == "integrity" and words in _messages(main), _messages(main)
    assert all(f.layer == 3 and f.kind == "integrity" for f in main.findings)
    assert main.tasks["2025-03"]["note"] == "sealed strata: the public checks FAIL"
    # the standalone verifier reaches the same verdict
    assert alone.exit_code == 4 and alone.tasks["2025-03"] == "sealed strata: the public checks FAIL"


def test_lock_announcing_a_wrong_count_is_named(tmp_path):
    files = build_sealed_ledger(tmp_path / "l", lock_changes={"selected_count": 4})
    main = _verify(files)
    assert _messages(main) == ["task 2025-03: the lock announces 4 selected targets; its outcome document selects 5"]
    assert _alone(files).exit_code == 4


def test_opening_recomputes_fully_and_a_wrong_opening_is_an_integrity_finding(tmp_path):
    files = build_sealed_ledger(tmp_path / "l")
    opening = CASE["opening"]
    main = _verify(files, openings={"2025-03": opening})
    assert main.findings == [] and main.tasks["2025-03"]["note"] == OPENED_NOTE
    assert _alone(files, openings={"2025-03": opening}).tasks["2025-03"] == OPENED_NOTE

    bad = copy.deepcopy(opening)
    m = bad["members"][0]
    m["stratum"] = "rest" if m["stratum"] == "high" else "high"
    main = _verify(files, openings={"2025-03": bad})
    assert main.verdict == "integrity"
    assert _messages(main) == [f"task 2025-03: the draw cannot be recomputed: opening.members[0]: {m['label']} "
                               f"does not open its sealed commitment to stratum {m['stratum']!r}"]
    assert _alone(files, openings={"2025-03": bad}).exit_code == 4


def _replacement(type_: str, **kw) -> tuple[str, dict]:
    return type_, {"algorithm": ALGORITHM, "task": "2025-03", "reason": kw.pop("reason"),
                   "approver_role": "deputy_head", **kw}


def test_replacements_of_a_sealed_draw_are_replayed(tmp_path):
    doc, lock = CASE["expected"]["outcome"], CASE["expected"]["lock"]

    def get_blob(ref):
        return canonical.encode(doc) if ref == lock["outcome"] else CASE["blobs"][ref].encode("utf-8")

    check = draw.sealed_public_checks(CASE["commit"], CASE["randomness"], lock, get_blob, allow_test_chain=True)
    assert check.differences == []
    # the public can say only that a replacement target is a pool member never drawn; its team is matched
    c = draw.load_commitment(CASE["commit"], get_blob)
    target, new = doc["selected"][0], next(x for x in c.labels if x not in doc["selected"])
    rt = _replacement("draw.replace_target", target=target, replacement=new, reason="deregistered")
    assert draw.apply_sealed_replacement(check, *rt) == []
    before = check.outcome.state.teams[new]
    officer = before.officers[-1]
    designated = next(i for i in check.outcome.state.replace(new, officer).officers if i not in before.officers)
    ri = _replacement("draw.replace_inspector", target=new, inspector=officer, replacement=designated,
                      reason="work_conflict")
    files = build_sealed_ledger(tmp_path / "ok", after=[rt, ri])
    main, alone = _verify(files), _alone(files)
    assert main.findings == [] and main.tasks["2025-03"]["replacements"] == 2
    assert main.tasks["2025-03"]["note"] == PUBLIC_NOTE
    assert alone.exit_code == 0 and alone.findings == []

    # a replacement target drawn already; an inspector replacement that skips the designated one
    again = _replacement("draw.replace_target", target=doc["selected"][1], replacement=doc["selected"][2],
                         reason="moved_out")
    wrong = next(r["id"] for r in c.inspectors if r["department"] == "amr" and r["kind"] == "officer"
                 and r["id"] not in (*before.officers, designated))
    skip = _replacement("draw.replace_inspector", target=new, inspector=officer, replacement=wrong,
                        reason="work_conflict")
    files = build_sealed_ledger(tmp_path / "bad", after=[again, rt, skip])
    main = _verify(files)
    assert main.verdict == "policy"
    assert _messages(main) == [
        f"task 2025-03: target {doc['selected'][1]}: replaced by {doc['selected'][2]}, which was already drawn",
        f"task 2025-03: target {new}: {officer} replaced by {wrong}, but the next eligible inspector of the same "
        f"ranking is {designated}",
    ]
    assert _alone(files).exit_code == 3


def test_opening_file_for_an_unknown_task_is_a_notice(tmp_path):
    files = build_sealed_ledger(tmp_path / "l")
    other = {**CASE["opening"], "task": "2099-01"}
    main = _verify(files, openings={"2099-01": other})
    assert main.findings == []
    assert "opening file for task 2099-01: the ledger has no locked draw of that task; not used" in main.notices


def test_cli_opening_file_errors_name_the_file(tmp_path, capsys):
    build_sealed_ledger(tmp_path / "l")
    cases = [
        (b"not json", "expected an opening file (JSON), got invalid JSON"),
        (b"[1]", "expected an opening file (a JSON object with algorithm, task, members), got list"),
        (json.dumps({**CASE["opening"], "algorithm": "x"}).encode(), "field 'algorithm': expected 'sunshine.draw/v1', got 'x'"),
        (json.dumps({**CASE["opening"], "members": {}}).encode(), "field 'members': expected a list of {label, stratum, nonce}, got dict"),
    ]
    for i, (data, words) in enumerate(cases):
        p = tmp_path / f"o{i}.json"
        p.write_bytes(data)
        code = cli.main(["verify", str(tmp_path / "l"), "--no-state", "--allow-test-chain", "--opening", str(p)])
        err = capsys.readouterr().err
        assert code == 1 and f"error: {p}: {words}" in err, err
    good = tmp_path / "good.json"
    good.write_text(json.dumps(CASE["opening"]), encoding="utf-8")
    code = cli.main(["verify", str(tmp_path / "l"), "--no-state", "--allow-test-chain", "--opening", str(good),
                     "--opening", str(good)])
    assert code == 1 and "a second opening file for task 2025-03" in capsys.readouterr().err
    code = cli.main(["verify", str(tmp_path / "l"), "--no-state", "--allow-test-chain", "--opening", str(good)])
    out = capsys.readouterr().out
    assert code == 0 and f"task 2025-03: locked — {OPENED_NOTE}" in out, out
