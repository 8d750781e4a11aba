"""The draw engine against the shared vectors (tests/vectors/draw-v1.json), plus tamper cases.

The vectors are produced by tests/vectors/make_draw_vectors.py from the spec's algorithm; a
test checks that the file is current. The quicknet case uses a recorded real beacon
(tests/vectors/drand/README.md); the others use the test chain.
"""

from __future__ import annotations

import copy
import hashlib
import importlib.util
import json
import pathlib

import pytest

from sunshine import beacon, canonical, draw
from sunshine.errors import BeaconError, DrawError, FormatError, IntegrityError

VECTORS = pathlib.Path(__file__).parent / "vectors"
DOC = json.loads((VECTORS / "draw-v1.json").read_text(encoding="utf-8"))
CASES = {c["name"]: c for c in DOC["cases"]}


def blobs_of(case) -> dict[str, bytes]:
    return {ref: text.encode("utf-8") for ref, text in case["blobs"].items()}


def recompute(case, **over):
    args = dict(
        list_reveal=case["list_reveal"], opening=case["opening"], allow_test_chain=case["allow_test_chain"]
    )
    args.update(over)
    return draw.recompute(over.pop("commit", case["commit"]), case["randomness"], blobs_of(case).__getitem__, **args)


def test_vector_file_is_current():
    spec = importlib.util.spec_from_file_location("make_draw_vectors", VECTORS / "make_draw_vectors.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.render(mod.build()) == (VECTORS / "draw-v1.json").read_text(encoding="utf-8"), (
        "tests/vectors/draw-v1.json is stale: run .venv/bin/python tests/vectors/make_draw_vectors.py"
    )


def test_frame_examples():
    for ex in DOC["frame_examples"]:
        assert beacon.frame(*ex["parts"]).hex() == ex["hex"]


@pytest.mark.parametrize("name", [n for n, c in CASES.items() if "error" not in c["expected"]])
def test_vector_case(name):
    case = CASES[name]
    exp = case["expected"]
    c = draw.load_commitment(case["commit"], blobs_of(case).__getitem__)
    values = draw.load_randomness(c, case["randomness"], list_reveal=case["list_reveal"], allow_test_chain=case["allow_test_chain"])
    assert draw.salt(case["commit"]).hex() == exp["salt"]
    assert draw.ikm(values).hex() == exp["ikm"]
    prk = draw.seed(case["commit"], values)
    assert prk.hex() == exp["seed"]
    for sid, tickets in exp["tickets"].items():
        for label, t in tickets.items():
            assert draw.ticket(prk, sid, label).hex() == t, (sid, label)
    o = draw.compute(c, values, opening=case["opening"])
    assert o.to_document() == exp["outcome"]
    doc = canonical.encode(o.to_document())
    assert draw.blob_ref(doc) == exp["outcome_ref"]
    assert draw.lock_body(case["commit"], case["randomness"], exp["outcome_ref"], o) == exp["lock"]
    blobs = blobs_of(case) | {exp["outcome_ref"]: doc}
    assert draw.compare_with_lock(o, exp["lock"], blobs.__getitem__, commit_body=case["commit"], randomness_body=case["randomness"]) == []


def test_vector_selection_is_by_smallest_tickets():
    case = CASES["joint"]
    exp = case["expected"]
    for s in exp["outcome"]["strata"]:
        tickets = exp["tickets"][s["id"]]
        order = sorted(tickets, key=lambda lb: (tickets[lb], lb))
        assert s["selected"] == order[: s["sample"]]
        assert s["queue"] == order[s["sample"] : s["sample"] + draw.queue_length(s["size"], s["sample"])]
        assert s["cutoff"] == tickets[order[s["sample"] - 1]]


def test_infeasible_case_fails_with_draw_error():
    case = CASES["infeasible"]
    with pytest.raises(DrawError) as exc:
        recompute(case)
    assert exc.value.message == case["expected"]["error"]["message"]
    assert exc.value.hint


def test_sealed_case_needs_the_opening():
    case = CASES["sealed"]
    with pytest.raises(DrawError, match="the strata are sealed"):
        recompute(case, opening=None)
    doc = case["expected"]["outcome"]
    assert all("selected" not in s and "queue" not in s for s in doc["strata"])
    assert all("members" not in s for s in case["commit"]["strata"])


def test_sealed_opening_must_match_commitments():
    case = CASES["sealed"]
    bad = copy.deepcopy(case["opening"])
    m = bad["members"][0]
    m["stratum"] = "rest" if m["stratum"] == "high" else "high"
    with pytest.raises(IntegrityError, match=r"opening.members\[0\]: .* does not open its sealed commitment"):
        recompute(case, opening=bad)


def test_no_notice_needs_the_list_reveal():
    case = CASES["no-notice"]
    with pytest.raises(DrawError, match="contribution of 'amr' has not been revealed \\(expected in draw.list_reveal\\)"):
        recompute(case, list_reveal=None)


def test_no_notice_secret_must_not_be_in_the_randomness_entry():
    case = copy.deepcopy(CASES["no-notice"])
    case["randomness"]["contributions"] = case["list_reveal"]["contributions"]
    with pytest.raises(DrawError, match="expected it revealed in draw.list_reveal, got it in draw.randomness"):
        recompute(case, list_reveal=None)


def test_no_notice_without_a_late_contribution_is_refused():
    case = copy.deepcopy(CASES["no-notice"])
    case["commit"]["randomness"]["contributions"][0]["reveal"] = "with_randomness"
    with pytest.raises(DrawError, match="a no-notice task needs a contribution revealed with the list"):
        draw.load_commitment(case["commit"], blobs_of(case).__getitem__)


def test_wrong_contribution_secret():
    case = copy.deepcopy(CASES["joint"])
    case["randomness"]["contributions"][0]["secret"] = "00" * 32
    with pytest.raises(IntegrityError, match="contribution of 'health': the revealed secret hashes to"):
        recompute(case)


def test_randomness_must_name_this_commitment():
    case = copy.deepcopy(CASES["single"])
    case["randomness"]["commit"] = "0" * 64
    with pytest.raises(IntegrityError, match="refers to commitment 0000"):
        recompute(case)


def test_beacon_of_another_round_is_refused():
    case = copy.deepcopy(CASES["single"])
    text = (VECTORS / "drand" / "test-1000.json").read_text()
    case["randomness"]["drand"]["beacon"] = text
    with pytest.raises(IntegrityError, match="expected round 17149012 \\(named in the commitment\\), got round 1000"):
        recompute(case)


def test_test_chain_needs_explicit_trust():
    with pytest.raises(BeaconError, match="test chain"):
        recompute(CASES["single"], allow_test_chain=False)


def test_lottery_names_must_match_the_commitment():
    case = copy.deepcopy(CASES["joint"])
    case["randomness"]["lotteries"][0]["name"] = "another lottery"
    with pytest.raises(IntegrityError, match="expected the lotteries named in the commitment"):
        recompute(case)


def test_tampered_blob_is_integrity_error():
    case = CASES["single"]
    blobs = blobs_of(case)
    ref = case["commit"]["pool"]["labels"]
    blobs[ref] = blobs[ref].replace(b"MA0000100X", b"MA0000199X")
    with pytest.raises(IntegrityError, match="blob content does not match its address"):
        draw.load_commitment(case["commit"], blobs.__getitem__)


def test_pool_root_must_match():
    case = copy.deepcopy(CASES["single"])
    case["commit"]["pool"]["root"] = "ab" * 32
    with pytest.raises(IntegrityError, match="the Merkle root of the labels is"):
        draw.load_commitment(case["commit"], blobs_of(case).__getitem__)


def test_sample_counts_are_checked_before_the_draw():
    case = copy.deepcopy(CASES["joint"])
    case["commit"]["strata"][1]["sample"] += 1
    with pytest.raises(DrawError, match=r"expected sample = min\(N, max\(minimum, ceil\(N·ratio\)\)\) = 3 for N = 25"):
        draw.load_commitment(case["commit"], blobs_of(case).__getitem__)


def test_unknown_algorithm_and_fields():
    case = copy.deepcopy(CASES["single"])
    case["commit"]["algorithm"] = "sunshine.draw/v2"
    with pytest.raises(DrawError, match="expected algorithm 'sunshine.draw/v1', got 'sunshine.draw/v2'"):
        draw.load_commitment(case["commit"], blobs_of(case).__getitem__)
    case = copy.deepcopy(CASES["single"])
    case["commit"]["pool_hint"] = 1
    with pytest.raises(FormatError, match="unexpected field\\(s\\) pool_hint"):
        draw.load_commitment(case["commit"], blobs_of(case).__getitem__)


def test_missing_blob_is_a_clear_error():
    case = CASES["single"]
    with pytest.raises(DrawError, match="blob sha256:[0-9a-f]{64} is not available"):
        draw.load_commitment(case["commit"], {}.__getitem__)


@pytest.mark.parametrize(
    "blob,message",
    [
        (b'["B","A"]', r"\[1\]: expected labels in strictly ascending order, got 'A' after 'B'"),
        (b'["A","A"]', r"\[1\]: expected labels in strictly ascending order"),
        (b'["A","b c"]', r"\[1\]: expected a label of 1–64 letters"),
        (b'{"a":1}', "expected a JSON array of labels, got dict"),
        (b'[ "A"]', "canonical"),
    ],
)
def test_labels_blob_parsing(blob, message):
    with pytest.raises(FormatError, match=message):
        draw.decode_labels(blob, "labels")


def test_sample_size_rounding():
    from fractions import Fraction

    assert draw.sample_size(25, Fraction(1, 10), 1) == 3  # ceil(2.5)
    assert draw.sample_size(20, Fraction(1, 10), 1) == 2  # exact
    assert draw.sample_size(12, Fraction(1, 20), 2) == 2  # minimum wins
    assert draw.sample_size(1, Fraction(1, 20), 2) == 1  # capped at N
    assert draw.sample_size(0, Fraction(1, 2), 1) == 0
    assert draw.sample_size(10**6, Fraction(3, 100), 0) == 30000
    with pytest.raises(FormatError, match="lowest terms"):
        draw.parse_ratio("2/10", "r")
    with pytest.raises(FormatError, match="expected a ratio 'p/q'"):
        draw.parse_ratio("0.1", "r")


def _tampered_lock(case, mutate):
    exp = case["expected"]
    doc = copy.deepcopy(exp["outcome"])
    mutate(doc)
    data = canonical.encode(doc)
    ref = draw.blob_ref(data)
    lock = dict(exp["lock"], outcome=ref)
    blobs = blobs_of(case) | {ref: data}
    o = recompute(case)
    return draw.compare_with_lock(o, lock, blobs.__getitem__, commit_body=case["commit"], randomness_body=case["randomness"])


def test_compare_names_a_swapped_target():
    case = CASES["joint"]
    queue_head = case["expected"]["outcome"]["strata"][1]["queue"][0]
    sel = case["expected"]["outcome"]["strata"][1]["selected"][0]

    def swap(doc):
        doc["strata"][1]["selected"][0] = queue_head

    diffs = _tampered_lock(case, swap)
    assert f"stratum rest: the lock selects {queue_head} instead of {sel}" in diffs


def test_compare_names_a_changed_team():
    case = CASES["joint"]
    target = case["expected"]["outcome"]["teams"][0]["target"]
    drawn = case["expected"]["outcome"]["teams"][0]["officers"]

    def change(doc):
        doc["teams"][0]["officers"][1] = "HEALTH-002" if drawn[1] != "HEALTH-002" else "HEALTH-001"

    diffs = _tampered_lock(case, change)
    assert any(d.startswith(f"target {target}: the lock's officers is") and "the draw gives" in d for d in diffs)


def test_compare_detects_other_inputs():
    case = CASES["single"]
    o = recompute(case)
    blobs = blobs_of(case)
    lock = dict(case["expected"]["lock"], randomness="0" * 64, selected_count=99)
    diffs = draw.compare_with_lock(o, lock, blobs.__getitem__, commit_body=case["commit"], randomness_body=case["randomness"])
    assert "the lock refers to a different randomness reveal than the task's draw.randomness entry" in diffs
    assert "the lock announces 99 selected targets; the draw selects 2" in diffs


def test_replace_target_takes_the_queue_head():
    case = CASES["joint"]
    o = recompute(case)
    first = o.selected[0]
    sid = o.stratum_of[first]
    queue = next(s for s in o.strata if s.id == sid).queue
    new, team = draw.replace_target(o, first)
    assert new == queue[0] and team.target == new and first not in o.state.teams
    new2, _ = draw.replace_target(o, new)
    assert new2 == queue[1]  # a replaced target is never drawn again
    with pytest.raises(DrawError, match="not among the task's current targets"):
        draw.replace_target(o, first)


def test_make_commit_refuses_unknown_stratum_and_missing_sealing_key():
    with pytest.raises(DrawError, match="unknown stratum 'x'"):
        draw.make_commit(task="t", year=2025, items=[], lead="amr", participants=[], notice="notified", draw_date="2025-01-01",
                         strata=[{"id": "a", "label": "A", "ratio": "1/2", "minimum": 0}], assignment={"L1": "x"}, exclusions=[],
                         inspectors=[], team={}, drand_round=1)
    with pytest.raises(DrawError, match="sealing key"):
        draw.make_commit(task="t", year=2025, items=[], lead="amr", participants=[], notice="notified", draw_date="2025-01-01",
                         strata=[{"id": "a", "label": "A", "ratio": "1/2", "minimum": 0}], assignment={"L1": "a"}, exclusions=[],
                         inspectors=[], team={}, drand_round=1, sealed=True)


def test_salt_binds_task_and_algorithm():
    body = CASES["single"]["commit"]
    expected = hashlib.sha256(beacon.frame("sunshine.draw/v1", "salt", body["task"], canonical.encode(body))).digest()
    assert draw.salt(body) == expected
    other = dict(body, task="2025-99")
    assert draw.salt(other) != expected


def test_apply_replacement_accepts_the_designated_ones_and_names_others():
    case = CASES["joint"]
    o = recompute(case)
    t0, t1 = o.selected[0], o.selected[1]
    queue = next(s for s in o.strata if s.id == o.stratum_of[t0]).queue
    body = {"task": case["commit"]["task"], "target": t0, "replacement": queue[0], "reason": "deregistered"}
    assert draw.apply_replacement(o, "draw.replace_target", body) == []
    o = recompute(case)
    bad = dict(body, replacement=queue[1], reason="no_reason")
    diffs = draw.apply_replacement(o, "draw.replace_target", bad)
    assert any("is not one of deregistered" in d for d in diffs)
    assert f"target {t0}: replaced by {queue[1]}, but the next unused target in the queue of stratum {o.stratum_of[t0]} is {queue[0]}" in diffs

    o = recompute(case)
    team = o.state.teams[t1]
    out = team.officers[1]
    probe = recompute(case)
    expected_new = [i for i in probe.state.replace(t1, out).officers if i not in team.officers][0]
    ok = {"task": case["commit"]["task"], "target": t1, "inspector": out, "replacement": expected_new, "reason": "health", "approver_role": "deputy_head"}
    assert draw.apply_replacement(o, "draw.replace_inspector", ok) == []
    o = recompute(case)
    wrong = dict(ok, replacement="HEALTH-999", approver_role=None)
    diffs = draw.apply_replacement(o, "draw.replace_inspector", wrong)
    assert any("needs the approval of the 分管负责人" in d for d in diffs)
    assert any(f"{out} replaced by HEALTH-999, but the next eligible inspector of the same ranking is {expected_new}" in d for d in diffs)
    assert draw.apply_replacement(o, "draw.replace_inspector", dict(ok, inspector="NOBODY")) == [
        f"target {t1}: NOBODY is not a member of its team (members: {', '.join(o.state.teams[t1].officers + o.state.teams[t1].experts)})"
    ]


def test_randomness_body_fields_are_exact():
    case = copy.deepcopy(CASES["single"])
    case["randomness"]["note"] = "x"
    with pytest.raises(FormatError, match="draw.randomness: unexpected field\\(s\\) note"):
        recompute(case)
