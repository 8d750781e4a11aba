"""The fast and the parallel draw give exactly the one-process, spec-literal draw.

* ``draw.select`` keeps only tickets below ``candidate_bound`` and splits the pool into parts for a
  ``starmap``: checked against a reference written straight from docs/spec/draw.md §6 with
  ``draw.ticket`` (stdlib ``hmac`` HKDF-Expand), including the fall-back when too few tickets fall
  below the bound.
* ``draw_parallel`` forks workers: same outcome bytes as ``draw.compute`` on the shared vectors
  (tests/vectors/draw-v1.json) and on larger generated pools; a worker's exception is raised in the
  caller; a worker that dies is replaced by computing its part in the caller; no fork with threads.
"""

from __future__ import annotations

import gc
import json
import os
import pathlib
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sunshine import beacon, canonical, draw, draw_parallel, hkdf, matching
from sunshine.errors import DrawError

VECTORS = pathlib.Path(__file__).parent / "vectors"
CASES = {c["name"]: c for c in json.loads((VECTORS / "draw-v1.json").read_text(encoding="utf-8"))["cases"]}
PRK = bytes(range(32))


def spec_selection(prk: bytes, stratum: str, labels: list[str], sample: int) -> tuple[list[str], list[str]]:
    """docs/spec/draw.md §6, literally: sort all (ticket, label); first sample selected, then the queue."""
    order = sorted((draw.ticket(prk, stratum, lb), lb.encode()) for lb in labels)
    q = min(len(labels) - sample, max(sample, 10))
    return [lb.decode() for _, lb in order[:sample]], [lb.decode() for _, lb in order[sample : sample + q]]


def strata_of(sizes: dict[str, tuple[int, int]]):
    members = {sid: [f"9137{sid}{k:08d}X" for k in range(n)] for sid, (n, _) in sizes.items()}
    spec = tuple(draw.StratumSpec(sid, sid, draw.parse_ratio("1/2", "r"), 0, n, sample, None) for sid, (n, sample) in sizes.items())
    return members, spec


def serial_starmap(func, arglist):
    return [func(*a) for a in arglist]


@pytest.mark.parametrize("chunks", [1, 2, 3])
def test_select_matches_the_spec_reference(chunks):
    members, spec = strata_of({"hi": (700, 40), "mid": (4000, 90), "lo": (9000, 3), "empty": (0, 0), "all": (5, 5)})
    got = draw.select(PRK, members, spec, starmap=serial_starmap, chunks=chunks)
    for s, o in zip(spec, got):
        sel, queue = spec_selection(PRK, s.id, members[s.id], s.sample)
        assert list(o.selected) == sel and list(o.queue) == queue
        assert o.cutoff == (draw.ticket(PRK, s.id, sel[-1]) if sel else None)


def test_too_few_tickets_below_the_bound_falls_back_to_all(monkeypatch):
    members, spec = strata_of({"a": (3000, 60), "b": (2500, 1)})
    expected = draw.select(PRK, members, spec)
    # a bound so low that almost no ticket falls below it: every stratum must be recomputed in full
    monkeypatch.setattr(draw, "candidate_bound", lambda size, k: bytes(2) + b"\x01" + bytes(29))
    assert draw.select(PRK, members, spec) == expected
    assert draw.select(PRK, members, spec, starmap=serial_starmap, chunks=2) == expected
    for s, o in zip(spec, expected):
        assert (list(o.selected), list(o.queue)) == spec_selection(PRK, s.id, members[s.id], s.sample)


def test_candidate_bound():
    assert draw.candidate_bound(100, 20) is None  # 20 + 8·4 + 64 >= 100: keep everything
    assert draw.candidate_bound(0, 0) is None
    b = int.from_bytes(draw.candidate_bound(850_000, 20_000), "big")
    expected = 20_000 + 8 * 141 + 64
    assert b == (expected << 256) // 850_000
    assert abs(b * 850_000 / 2**256 - expected) < 1  # the mean number of tickets below it


@settings(max_examples=60, deadline=None)
@given(
    labels=st.lists(st.text(min_size=1, max_size=140), max_size=8),
    bound=st.none() | st.binary(min_size=32, max_size=32),
)
def test_block1_keys_below_is_a_filter_of_block1_many(labels, bound):
    ex = hkdf.Expander(PRK)
    prefix = beacon.frame("target", "s")
    every = ex.block1_many(prefix, [lb.encode("utf-8") for lb in labels])
    assert ex.block1_keys_below(prefix, labels, bound) == [k for k in every if bound is None or k[:32] < bound]


@given(prefix=st.binary(max_size=80), msg=st.binary(max_size=80))
def test_mac_prefixed(prefix, msg):
    ex = hkdf.Expander(PRK)
    assert ex.mac_prefixed(prefix)(msg) == ex.mac(prefix + msg) == hkdf.hmac.digest(PRK, prefix + msg, "sha256")


def test_openssl_and_builtin_sha256_agree(monkeypatch):
    labels = [f"L{k}" for k in range(300)]
    fast = hkdf.Expander(PRK).block1_keys_below(b"p", labels, None)
    monkeypatch.setattr(hkdf, "_sha256", hkdf.hashlib.sha256)
    assert hkdf.Expander(PRK).block1_keys_below(b"p", labels, None) == fast


# --------------------------------------------------------------------------- fork_starmap

def _square_and_pid(x):
    return x * x, os.getpid()


def test_fork_starmap_runs_parts_in_children():
    out = draw_parallel.fork_starmap(_square_and_pid, [(k,) for k in range(4)])
    assert [v for v, _ in out] == [0, 1, 4, 9]
    pids = [p for _, p in out]
    assert pids[0] == os.getpid() and len(set(pids)) == 4


def test_a_worker_exception_is_raised_in_the_caller():
    parent = os.getpid()

    def fail_in_child(x):
        if os.getpid() != parent:
            raise DrawError(f"part {x} failed", hint="the hint travels too")
        return x

    with pytest.raises(DrawError, match="part 1 failed") as e:
        draw_parallel.fork_starmap(fail_in_child, [(0,), (1,)])
    assert e.value.hint == "the hint travels too"


def test_a_dead_worker_is_recomputed_in_the_caller():
    parent = os.getpid()

    def die_in_child(x):
        if os.getpid() != parent:
            os._exit(9)  # killed: no result on the pipe
        return x + 100

    assert draw_parallel.fork_starmap(die_in_child, [(1,), (2,), (3,)]) == [101, 102, 103]


def test_caller_exception_leaves_no_child_behind():
    parent = os.getpid()

    def fail_in_parent(x):
        if os.getpid() == parent:
            raise ValueError("caller's part")
        return x

    with pytest.raises(ValueError, match="caller's part"):
        draw_parallel.fork_starmap(fail_in_parent, [(0,), (1,)])
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # every child was reaped


def test_no_fork_while_other_threads_run(monkeypatch):
    def no_fork():
        raise AssertionError("must not fork a threaded process")

    stop = threading.Event()
    t = threading.Thread(target=stop.wait)
    t.start()
    try:
        monkeypatch.setattr(os, "fork", no_fork)
        assert not draw_parallel.can_fork()
        assert draw_parallel.fork_starmap(_square_and_pid, [(2,), (3,)]) == [(4, os.getpid()), (9, os.getpid())]
    finally:
        stop.set()
        t.join()


# --------------------------------------------------------------------------- whole draws

def counting_fork(monkeypatch) -> list[int]:
    """Make os.fork record the pid of each child it makes (in the parent) in the returned list."""
    real, calls = os.fork, []

    def fork():
        pid = real()
        if pid:
            calls.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", fork)
    return calls


def blobs_of(case) -> dict[str, bytes]:
    return {ref: text.encode("utf-8") for ref, text in case["blobs"].items()}


@pytest.mark.parametrize("name", [n for n, c in CASES.items() if "error" not in c["expected"]])
def test_vectors_forced_through_forked_workers(name, monkeypatch):
    monkeypatch.setattr(draw_parallel, "FORK_MIN", 0)
    monkeypatch.setattr(draw, "PARALLEL_MIN", 0)
    forks = counting_fork(monkeypatch)
    case = CASES[name]
    o = draw_parallel.recompute(case["commit"], case["randomness"], blobs_of(case).__getitem__, list_reveal=case["list_reveal"],
                                opening=case["opening"], allow_test_chain=case["allow_test_chain"], workers=2)
    assert o.to_document() == case["expected"]["outcome"]
    assert draw.blob_ref(canonical.encode(o.to_document())) == case["expected"]["outcome_ref"]
    assert len(forks) == 1  # really computed by a forked worker and this process


def test_infeasible_vector_fails_the_same_way(monkeypatch):
    monkeypatch.setattr(draw_parallel, "FORK_MIN", 0)
    monkeypatch.setattr(draw, "PARALLEL_MIN", 0)
    case = CASES["infeasible"]
    with pytest.raises(DrawError) as serial:
        draw.recompute(case["commit"], case["randomness"], blobs_of(case).__getitem__, allow_test_chain=True)
    with pytest.raises(DrawError) as forked:
        draw_parallel.recompute(case["commit"], case["randomness"], blobs_of(case).__getitem__, allow_test_chain=True, workers=2)
    assert str(forked.value) == str(serial.value)


def _big_commit(n: int):
    labels = [f"9137{i:014d}" for i in range(n)]
    assignment = {lb: ("high" if i % 20 == 0 else "abnormal" if i % 10 == 1 else "rest") for i, lb in enumerate(labels)}
    inspectors = [
        {"id": f"{d.upper()}-{k:04d}", "department": d, "kind": "officer", "capacity": 30,
         "qualifications": ["food"] if d == "amr" or k % 3 == 0 else [], "conflicts": []}
        for d in ("amr", "health") for k in range(60)
    ] + [{"id": f"EXP-{k:03d}", "department": "amr", "kind": "expert", "capacity": 100, "qualifications": [], "conflicts": []} for k in range(20)]
    body, blobs, _ = draw.make_commit(
        task="par", year=2025, items=["AMR-03"], lead="amr", participants=["health"], notice="notified",
        draw_date="2025-04-10", strata=[
            {"id": "high", "label": "高", "ratio": "1/5", "minimum": 0},
            {"id": "abnormal", "label": "异常", "ratio": "1/10", "minimum": 0},
            {"id": "rest", "label": "其他", "ratio": "1/85", "minimum": 1},
        ], assignment=assignment, exclusions=[], inspectors=inspectors,
        team={"min_officers": 2, "per_department": 1, "experts": 1, "qualifications": ["food"]},
        drand_round=17149012, chain=beacon.TEST_CHAIN,
    )
    randomness = draw.make_randomness_body(body, (VECTORS / "drand" / "test-17149012.json").read_text())
    return body, randomness, blobs


@pytest.mark.parametrize("workers", [2, 3])
def test_large_pool_forked_equals_one_process(workers, monkeypatch):
    body, randomness, blobs = _big_commit(30_000)
    c = draw.load_commitment(body, blobs.__getitem__)
    values = draw.load_randomness(c, randomness, allow_test_chain=True)
    one = canonical.encode(draw.compute(c, values).to_document())
    monkeypatch.setattr(draw_parallel, "FORK_MIN", 10_000)
    forks = counting_fork(monkeypatch)
    forked = draw_parallel.compute(c, values, workers=workers)
    assert len(forks) == workers - 1
    assert canonical.encode(forked.to_document()) == one
    # the spec's selection, literally, for the stratum of 150 members … and the big one
    for s, o in zip(c.strata, forked.strata):
        if s.size <= 3000:
            assert (list(o.selected), list(o.queue)) == spec_selection(forked.seed, s.id, c.members[s.id], s.sample)
    # matching from the outcome's draw order, one team per selected target
    state = matching.MatchState.create(forked.seed, c.inspectors, c.lead, c.participants, c.team)
    assert tuple(state.assign(t) for t in forked.selected) == forked.teams


def test_small_pools_and_one_cpu_stay_in_process(monkeypatch):
    case = CASES["joint"]
    c = draw.load_commitment(case["commit"], blobs_of(case).__getitem__)
    values = draw.load_randomness(c, case["randomness"], list_reveal=case["list_reveal"], allow_test_chain=True)

    def no_fork():
        raise AssertionError("a 30-member pool must not fork")

    monkeypatch.setattr(os, "fork", no_fork)
    assert draw_parallel.processes(c, 2) == 1
    assert draw_parallel.compute(c, values).to_document() == case["expected"]["outcome"]
    monkeypatch.setattr(draw_parallel, "FORK_MIN", 0)
    assert draw_parallel.processes(c, 1) == 1 and draw_parallel.processes(c, 2) == 2
    assert draw_parallel.compute(c, values, workers=1).to_document() == case["expected"]["outcome"]


def test_compute_pauses_the_cyclic_collector_and_restores_it(monkeypatch):
    case = CASES["single"]
    c = draw.load_commitment(case["commit"], blobs_of(case).__getitem__)
    values = draw.load_randomness(c, case["randomness"], allow_test_chain=True)
    seen, real = [], draw.compute

    def spy(*a, **k):
        seen.append(gc.isenabled())
        return real(*a, **k)

    monkeypatch.setattr(draw, "compute", spy)
    try:
        assert gc.isenabled()
        assert draw_parallel.compute(c, values).to_document() == case["expected"]["outcome"]
        assert seen == [False] and gc.isenabled()
        gc.disable()
        draw_parallel.compute(c, values)
        assert not gc.isenabled()  # left as the caller had it
    finally:
        gc.enable()
