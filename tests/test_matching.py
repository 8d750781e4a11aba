"""Inspector matching: the uniform-integer stream, rankings, team rules, replacements, errors."""

from __future__ import annotations

import collections
import hashlib
import json
import pathlib

import pytest

from sunshine import beacon, hkdf, matching
from sunshine.errors import DrawError

DOC = json.loads((pathlib.Path(__file__).parent / "vectors" / "draw-v1.json").read_text(encoding="utf-8"))
PRK = hashlib.sha256(b"test_matching").digest()


def rec(iid, dept, kind="officer", capacity=5, quals=(), conflicts=()):
    return {"id": iid, "department": dept, "kind": kind, "capacity": capacity, "qualifications": sorted(quals), "conflicts": sorted(conflicts)}


def rules(**kw):
    r = {"min_officers": 2, "per_department": 1, "experts": 0, "qualifications": []}
    r.update(kw)
    return r


@pytest.mark.parametrize("i", range(3))
def test_stream_vectors(i):
    v = DOC["streams"][i]
    mac = hkdf.Expander(bytes.fromhex(v["prk"])).mac
    prefix = bytes.fromhex(v["prefix"])
    assert [mac(prefix + j.to_bytes(4, "big")).hex() for j in range(4)] == v["blocks"]
    s = matching.Stream(mac, prefix)
    assert [s.uniform(v["n"]) for _ in range(8)] == v["uniform"]
    assert list(matching.Ranking(v["ranking_of"], matching.Stream(mac, prefix))) == v["ranking"]


def test_rejection_sampling_by_hand():
    # Words are the 8-byte big-endian integers of the blocks; a word >= 2**64 - (2**64 mod n) is skipped.
    v = DOC["streams"][2]
    n = v["n"]
    limit = 2**64 - 2**64 % n
    words = [int.from_bytes(bytes.fromhex(b)[k : k + 8], "big") for b in v["blocks"] for k in (0, 8, 16, 24)]
    accepted = [w % n for w in words if w < limit]
    assert accepted[:8] == v["uniform"]
    assert len(accepted) < len(words)  # this vector really exercises a rejection


def test_uniform_bounds():
    s = matching.Stream(hkdf.Expander(PRK).mac, b"x")
    assert all(s.uniform(1) == 0 for _ in range(10))
    with pytest.raises(ValueError, match="expected n >= 1, got 0"):
        s.uniform(0)


def test_ranking_is_a_permutation_and_roughly_uniform():
    mac = hkdf.Expander(PRK).mac
    firsts = collections.Counter()
    for t in range(3000):
        r = list(matching.Ranking(list("abcde"), matching.Stream(mac, beacon.frame("match", "amr", f"T{t}"))))
        assert sorted(r) == list("abcde")
        firsts[r[0]] += 1
    # each of 5 items first ~600 times; 5-sigma band (sd ≈ 22) keeps this deterministic test robust
    assert all(480 < firsts[x] < 720 for x in "abcde"), firsts


def test_team_rules_are_met():
    insp = [rec(f"A{k}", "amr", quals={"food"} if k % 2 else ()) for k in range(6)] + [rec(f"H{k}", "health") for k in range(4)] + [rec("E1", "amr", kind="expert", capacity=20)]
    st = matching.MatchState.create(PRK, insp, "amr", ("health",), rules(min_officers=3, experts=1, qualifications=["food"]))
    for t in range(10):
        team = st.assign(f"T{t}")
        assert team.leader.startswith("A") and int(team.leader[1:]) % 2 == 1  # leader holds "food"
        assert len(team.officers) == 3 and team.officers[0] == team.leader
        assert sum(i.startswith("H") for i in team.officers) == 1
        assert team.experts == ("E1",) and "E1" not in team.officers


def test_conflicts_and_capacity():
    insp = [rec("A0", "amr", capacity=1), rec("A1", "amr", capacity=1, conflicts={"T0"}), rec("A2", "amr", capacity=1)]
    st = matching.MatchState.create(PRK, insp, "amr", (), rules())
    team = st.assign("T0")
    assert "A1" not in team.officers and set(team.officers) == {"A0", "A2"}
    with pytest.raises(DrawError, match="target T1: expected at least 2 certified officers in the group, got 1"):
        st.assign("T1")  # only A1 has capacity left


def test_no_leader_error_names_the_qualification():
    st = matching.MatchState.create(PRK, [rec("A0", "amr"), rec("A1", "amr")], "amr", (), rules(qualifications=["special_equipment"]))
    with pytest.raises(DrawError, match="target T: no eligible group leader in the lead department amr: expected a certified officer holding special_equipment"):
        st.assign("T")


def test_participant_shortage_error():
    st = matching.MatchState.create(PRK, [rec("A0", "amr"), rec("A1", "amr"), rec("H0", "health", conflicts={"T"})], "amr", ("health",), rules())
    with pytest.raises(DrawError, match="target T: department health must contribute 1 officer\\(s\\) .* only 0 eligible"):
        st.assign("T")


def test_experts_never_count_and_shortage():
    insp = [rec("A0", "amr"), rec("E1", "amr", kind="expert"), rec("E2", "amr", kind="expert")]
    st = matching.MatchState.create(PRK, insp, "amr", (), rules(min_officers=2))
    with pytest.raises(DrawError, match="expected at least 2 certified officers"):
        st.assign("T")
    st = matching.MatchState.create(PRK, insp + [rec("A1", "amr")], "amr", (), rules(experts=3))
    with pytest.raises(DrawError, match="expected 3 expert\\(s\\) on top of the officers, got 2"):
        st.assign("T")


def test_failed_assignment_leaves_capacity_untouched():
    st = matching.MatchState.create(PRK, [rec("A0", "amr"), rec("A1", "amr")], "amr", (), rules(experts=1))
    with pytest.raises(DrawError):
        st.assign("T")
    assert st.remaining == {"A0": 5, "A1": 5} and "T" not in st.teams


def test_replacement_is_next_in_the_same_ranking():
    insp = [rec(f"A{k}", "amr") for k in range(6)]
    st = matching.MatchState.create(PRK, insp, "amr", (), rules())
    team = st.assign("T")
    order = list(st.ranking("match", "amr", "T"))
    assert list(team.officers) == order[:2]
    t2 = st.replace("T", team.officers[1])
    assert t2.officers == (order[0], order[2])
    t3 = st.replace("T", order[2])  # replaced inspectors never come back
    assert t3.officers == (order[0], order[3])
    t4 = st.replace("T", order[0])  # the leader's replacement becomes leader
    assert t4.leader == order[4] and t4.officers == (order[4], order[3])
    assert st.remaining[order[1]] == 5 and st.remaining[order[4]] == 4


def test_replacement_errors():
    st = matching.MatchState.create(PRK, [rec("A0", "amr"), rec("A1", "amr")], "amr", (), rules())
    st.assign("T")
    with pytest.raises(DrawError, match="A9 is not a member of its team"):
        st.replace("T", "A9")
    with pytest.raises(DrawError, match="no eligible replacement for A0"):
        st.replace("T", "A0")
    assert st.teams["T"].officers and "A0" in (*st.teams["T"].officers,)
    with pytest.raises(DrawError, match="has no team"):
        st.replace("U", "A0")
    with pytest.raises(DrawError, match="already has a team"):
        st.assign("T")
