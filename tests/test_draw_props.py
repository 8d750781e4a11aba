"""Property tests (hypothesis) of the draw: exact counts, no duplicates, order independence,
per-member ticket independence, and matching that never breaks a rule (or fails cleanly)."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sunshine import draw, hkdf, matching
from sunshine.errors import DrawError

LABEL = st.from_regex(r"[0-9A-Z]{4,10}", fullmatch=True)
PRKS = st.binary(min_size=32, max_size=32)


@st.composite
def pools(draw_, max_size=60):
    labels = draw_(st.lists(LABEL, min_size=1, max_size=max_size, unique=True))
    n_strata = draw_(st.integers(1, 3))
    ids = [f"s{k}" for k in range(n_strata)]
    assignment = {lb: draw_(st.sampled_from(ids)) for lb in labels}
    strata = []
    for sid in ids:
        q = draw_(st.integers(1, 20))
        p = draw_(st.integers(1, q))
        from math import gcd

        g = gcd(p, q)
        size = sum(1 for v in assignment.values() if v == sid)
        ratio = f"{p // g}/{q // g}"
        minimum = draw_(st.integers(0, 3))
        strata.append(draw.StratumSpec(sid, sid, draw.parse_ratio(ratio, "r"), minimum, size,
                                       draw.sample_size(size, draw.parse_ratio(ratio, "r"), minimum), None))
    members = {sid: sorted(lb for lb, v in assignment.items() if v == sid) for sid in ids}
    return members, tuple(strata)


@settings(max_examples=40, deadline=None)
@given(prk=PRKS, pool=pools())
def test_counts_exact_and_no_duplicates(prk, pool):
    members, strata = pool
    out = draw.select(prk, members, strata)
    seen = set()
    for s, spec in zip(out, strata):
        assert len(s.selected) == spec.sample == draw.sample_size(spec.size, spec.ratio, spec.minimum)
        assert len(s.queue) == draw.queue_length(spec.size, spec.sample)
        both = s.selected + s.queue
        assert len(set(both)) == len(both) and set(both) <= set(members[spec.id])
        assert not (set(both) & seen)
        seen |= set(both)
        keys = [draw.ticket(prk, spec.id, lb) + lb.encode() for lb in both]
        assert keys == sorted(keys)  # ticket order
        rest = set(members[spec.id]) - set(both)
        if s.sample and rest:
            assert min(draw.ticket(prk, spec.id, lb) for lb in rest) >= s.cutoff


@settings(max_examples=40, deadline=None)
@given(prk=PRKS, pool=pools(), seed=st.integers(0, 2**32))
def test_result_independent_of_pool_order(prk, pool, seed):
    members, strata = pool
    shuffled = {sid: random.Random(seed).sample(m, len(m)) for sid, m in members.items()}
    assert draw.select(prk, members, strata) == draw.select(prk, shuffled, strata)


@settings(max_examples=40, deadline=None)
@given(prk=PRKS, pool=pools(max_size=30), extra=LABEL)
def test_adding_a_member_never_changes_another_members_ticket(prk, pool, extra):
    members, strata = pool
    sid = strata[0].id
    if extra in members[sid]:
        return
    ex = hkdf.Expander(prk)
    before = {k[32:].decode(): k[:32] for k in draw.tickets_sorted_keys(ex, sid, members[sid])}
    after = {k[32:].decode(): k[:32] for k in draw.tickets_sorted_keys(ex, sid, sorted(members[sid] + [extra]))}
    assert all(after[lb] == t for lb, t in before.items())


def test_make_commit_is_independent_of_input_order():
    labels = [f"L{k:03d}" for k in range(50)]
    common = dict(task="t", year=2025, items=["I"], lead="amr", participants=[], notice="notified", draw_date="2025-01-01",
                  strata=[{"id": "a", "label": "A", "ratio": "1/5", "minimum": 0}], exclusions=[("X1", "annual_cap"), ("X0", "not_active")],
                  team={"min_officers": 1, "per_department": 1, "experts": 0, "qualifications": []}, drand_round=5)
    insp = [{"id": f"A{k}", "department": "amr", "kind": "officer", "capacity": 3, "qualifications": [], "conflicts": []} for k in range(5)]
    b1 = draw.make_commit(assignment={lb: "a" for lb in labels}, inspectors=insp, **common)
    common["exclusions"] = list(reversed(common["exclusions"]))
    b2 = draw.make_commit(assignment={lb: "a" for lb in reversed(labels)}, inspectors=list(reversed(insp)), **common)
    assert b1 == b2


@st.composite
def matching_setups(draw_):
    depts = ["amr", "health", "tax"][: draw_(st.integers(1, 3))]
    targets = [f"T{k}" for k in range(draw_(st.integers(1, 12)))]
    quals_pool = ["food", "se"]
    insp = []
    for d in depts:
        for k in range(draw_(st.integers(0, 5))):
            insp.append({
                "id": f"{d}-{k}", "department": d, "kind": draw_(st.sampled_from(["officer", "officer", "expert"])),
                "capacity": draw_(st.integers(1, 4)),
                "qualifications": sorted(draw_(st.sets(st.sampled_from(quals_pool)))),
                "conflicts": sorted(draw_(st.sets(st.sampled_from(targets), max_size=2))),
            })
    insp.sort(key=lambda r: r["id"])
    team = {
        "min_officers": draw_(st.integers(1, 4)),
        "per_department": draw_(st.integers(1, 2)),
        "experts": draw_(st.integers(0, 1)),
        "qualifications": sorted(draw_(st.sets(st.sampled_from(quals_pool), max_size=1))),
    }
    return depts, targets, insp, team


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(setup=matching_setups(), prk=PRKS)
def test_matching_never_breaks_a_rule(setup, prk):
    depts, targets, insp, team = setup
    by_id = {r["id"]: r for r in insp}
    st_ = matching.MatchState.create(prk, insp, depts[0], tuple(depts[1:]), team)
    teams = []
    try:
        for t in targets:
            teams.append(st_.assign(t))
    except DrawError as e:
        assert e.message.startswith("target ")  # names the target; no partial team recorded for it
        assert len(st_.teams) == len(teams)
    used = {}
    for tm in teams:
        members = (*tm.officers, *tm.experts)
        assert len(set(members)) == len(members)
        lead = by_id[tm.leader]
        assert lead["department"] == depts[0] and lead["kind"] == "officer"
        assert set(team["qualifications"]) <= set(lead["qualifications"])
        assert len(tm.officers) >= team["min_officers"]
        assert all(by_id[i]["kind"] == "officer" for i in tm.officers)
        assert all(by_id[i]["kind"] == "expert" for i in tm.experts) and len(tm.experts) == team["experts"]
        for d in depts:
            assert sum(by_id[i]["department"] == d for i in tm.officers) >= team["per_department"]
        for i in members:
            assert tm.target not in by_id[i]["conflicts"]
            used[i] = used.get(i, 0) + 1
    assert all(used[i] <= by_id[i]["capacity"] for i in used)
    assert all(st_.remaining[i] == by_id[i]["capacity"] - used.get(i, 0) for i in by_id)


def test_parallel_selection_is_identical():
    prk = bytes(range(32))
    labels = [f"L{k:06d}" for k in range(12000)]
    spec = (draw.StratumSpec("s", "s", draw.parse_ratio("1/100", "r"), 0, len(labels), 120, None),)
    serial = draw.select(prk, {"s": labels}, spec)
    chunked = draw.select(prk, {"s": labels}, spec, starmap=lambda f, args: [f(*a) for a in args], chunks=3)
    assert serial == chunked
