"""The draw ceremony (sunshine.ceremony, `sunshine draw …`): every step, every refusal, and verify naming
the cause when an input of a locked draw is changed.

Ledgers are built in tmp from a small generated sample (scale 500). Contributions-only draws (spec §3.5)
keep the tests fast; one test uses the project's TEST chain (its recorded beacon
tests/vectors/drand/test-21296212.json, round time 2025-09-01T02:00:00Z, written by
tests/vectors/drand/make_test_chain.py) for the reveal-time rules. The real quicknet beacons are
exercised by the sample ledger (tests/test_demo_ledger.py).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest

from sunshine import beacon, canonical, cli, demo, draw, draw_parallel, verify
from sunshine.ceremony import Ceremony, DrawTracker, round_time
from sunshine.demo_ledger import Keys, demo_secret
from sunshine.draw_inputs import RandomnessPlan
from sunshine.errors import DrawError, PolicyError
from sunshine.ledger_store import DirectoryFiles, Ledger

ROOT = Path(__file__).resolve().parent.parent
TEST_BEACON = (ROOT / "tests/vectors/drand/test-21296212.json").read_text().strip()
TEST_ROUND = 21296212  # 2025-09-01T02:00:00Z on beacon.TEST_CHAIN
SEED = 7
NOTIFIED = "2025-08"  # housing + eco, public strata (flags), notified
NO_NOTICE = "2025-03"  # eco + emergency, public strata, 不宜告知
SEALED = "2025-01"  # amr + fire, credit-class strata


@pytest.fixture(scope="module")
def ds():
    return demo.generate(demo.Options(scale=500, seed=SEED))


@pytest.fixture(scope="module")
def keys(ds):
    return Keys(ds, SEED)


def _new_ledger(path: Path, ds, keys: Keys) -> Ledger:
    genesis = {"jurisdiction": ds.jurisdiction.id, "name": "测试", "office": "amr",
               "departments": [{"id": d.id, "name": d.name} for d in ds.jurisdiction.departments],
               "keys": [keys.root.record()], "settings": {"publish_within_workdays": 20}}
    led = Ledger.create(path, "sunshine.example/ceremony-test", _log(keys), genesis, "2025-01-02T01:00:00Z", sync=False)
    led.append_batch([("key.register", {"key": i.record()}, keys.root, "2025-01-02T02:00:00Z")
                      for n, i in keys.ids.items() if n != keys.root.name and "2025b" not in n and "2026" not in n])
    for p in ds.plans:
        v = p.current
        led.append("plan.publish", {"year": p.year, "version": 1, "published": "2025-02-28",
                                    "tasks": [{"id": t.id, "lead": t.lead, "participants": list(t.participants)}
                                              for t in v.tasks]}, keys.operator("amr", "2025-02-28T02:00:00Z"),
                   "2025-02-28T02:00:00Z")
    return led


def _log(keys: Keys):
    from sunshine import note

    return note.new_ed25519_signer("sunshine.example/ceremony-test", _log_key(keys))


def _log_key(keys: Keys):
    from sunshine.demo_ledger import demo_key

    return demo_key(SEED, "log:ceremony-test")


def _plan(ds, task: str, attempt: int = 0) -> tuple[RandomnessPlan, list, list]:
    t = ds.task(task)
    contributions, now, held = [], [], []
    for d in t.departments:
        s = demo_secret(SEED, task, d, attempt)
        mode = "with_list" if (t.notice.value == "no_notice" and d == t.lead) else "with_randomness"
        contributions.append((d, beacon.contribution_commitment(task, d, s), mode))
        (held if mode == "with_list" else now).append((d, s))
    return RandomnessPlan(drand_round=None, contributions=tuple(contributions)), now, held


def _op(keys, ds, task):
    return keys.operator(ds.task(task).lead, "2025-01-01T00:00:00Z")


@pytest.fixture
def led(tmp_path, ds, keys):
    return _new_ledger(tmp_path / "ledger", ds, keys)


def _commit(cer, ds, keys, task, time, attempt=0, **kw):
    plan, now, held = _plan(ds, task, attempt)
    sealing = hashlib.sha256(b"sealing " + task.encode()).digest()
    e, bundle = cer.commit(ds, task, signer=_op(keys, ds, task), time=time, plan=kw.pop("plan", plan),
                           office_signer=keys.operator("amr", time), sealing_key=sealing, **kw)
    return e, bundle, now, held


def _verify(path: Path, **kw) -> verify.Report:
    files = DirectoryFiles(path)
    return verify.verify_files(files, listing=files.listing(), **kw)


def _locked(led, ds, keys, task=NOTIFIED):
    cer = Ceremony(led)
    e, bundle, now, held = _commit(cer, ds, keys, task, "2025-06-09T07:00:00Z")
    r = cer.reveal(task, signer=_op(keys, ds, task), time="2025-06-10T02:00:00Z", beacon_text=None,
                   contributions=now, withheld=held, opening=bundle.opening)
    return cer, bundle, r


# --------------------------------------------------------------------------- the happy path


def test_commit_records_the_directories_first_then_the_whole_story_verifies(led, ds, keys):
    cer, bundle, r = _locked(led, ds, keys)
    types = [e.type for e in led.entries()]
    assert types[-4:] == ["directory.snapshot", "draw.commit", "draw.randomness", "draw.lock"]
    snap = led.entries()[-4].body
    assert snap["targets"]["count"] == len(ds.targets) and snap["inspectors"]["count"] == len(ds.inspectors)
    assert b"\xe5" not in led.get_blob(snap["inspectors"]["blob"])  # ids and attributes only, no names
    assert r.outcome.selected and not r.withheld
    cer.dispatch(NOTIFIED, signer=_op(keys, ds, NOTIFIED), time="2025-06-10T07:30:00Z", day=ds.task(NOTIFIED).draw_date)
    o = cer.outcome(NOTIFIED)
    target = o.selected[0]
    e = cer.replace_target(NOTIFIED, target, reason="deregistered", approver="deputy_head",
                           signer=_op(keys, ds, NOTIFIED), time="2025-06-17T02:00:00Z")
    assert e.body["replacement"] not in o.selected and e.body["replacement"] in {x for s in o.strata for x in s.queue}
    o = cer.outcome(NOTIFIED)
    t2 = o.selected[1]
    member = o.state.teams[t2].officers[-1]
    dept = o.state.by_id[member]["department"]
    e = cer.replace_inspector(NOTIFIED, t2, member, reason="post_change", approver="deputy_head",
                              signer=keys.operator(dept, "2025-01-01T00:00:00Z"), time="2025-06-17T03:00:00Z")
    assert e.body["replacement"] != member and e.body["department"] == dept
    # a second commit does not repeat the unchanged directory snapshot
    rep = _verify(led.path)
    assert rep.exit_code == 0, rep.to_text()
    assert "matches the lock" in rep.tasks[NOTIFIED]["note"]
    st = cer.status(NOTIFIED)
    assert st["state"] == "dispatched" and st["replacements"] == 2 and st["drand_round"] is None


def test_no_notice_outcome_is_withheld_until_the_list_reveal(led, ds, keys):
    cer = Ceremony(led)
    e, bundle, now, held = _commit(cer, ds, keys, NO_NOTICE, "2025-04-07T07:00:00Z")
    assert held and held[0][0] == ds.task(NO_NOTICE).lead
    op = _op(keys, ds, NO_NOTICE)
    r = cer.reveal(NO_NOTICE, signer=op, time="2025-04-08T02:00:00Z", beacon_text=None, contributions=now,
                   withheld=held)
    assert r.withheld and not led.has_blob(r.lock.body["outcome"])
    assert hashlib.sha256(r.outcome_bytes).hexdigest() == r.lock.body["outcome"][7:]
    rep = _verify(led.path)
    assert rep.exit_code == 0 and "once the list is revealed" in rep.tasks[NO_NOTICE]["note"], rep.to_text()
    cer.dispatch(NO_NOTICE, signer=op, time="2025-04-08T07:30:00Z", day=ds.task(NO_NOTICE).draw_date)
    with pytest.raises(PolicyError, match="the revealed secret hashes to"):
        cer.list_reveal(NO_NOTICE, signer=op, time="2025-07-01T09:00:00Z", secrets=[(held[0][0], b"\x01" * 32)])
    cer.list_reveal(NO_NOTICE, signer=op, time="2025-07-01T09:00:00Z", secrets=held)
    assert led.has_blob(r.lock.body["outcome"])
    rep = _verify(led.path)
    assert rep.exit_code == 0 and "matches the lock" in rep.tasks[NO_NOTICE]["note"], rep.to_text()
    with pytest.raises(PolicyError, match="already revealed"):
        cer.list_reveal(NO_NOTICE, signer=op, time="2025-07-02T09:00:00Z", secrets=held)


def test_large_pools_are_drawn_by_forked_workers_with_the_same_outcome(led, ds, keys, monkeypatch):
    # every pool counts as large here: reveal, outcome and list_reveal draw through draw_parallel's forked
    # workers; verify recomputes each draw in one process and must find the locked outcome
    monkeypatch.setattr(draw_parallel, "FORK_MIN", 0)
    monkeypatch.setattr(draw, "PARALLEL_MIN", 0)
    forks, real_fork = [], os.fork

    def fork():
        pid = real_fork()
        if pid:
            forks.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", fork)
    monkeypatch.setattr(draw_parallel, "usable_cpus", lambda: 2)
    cer, bundle, r = _locked(led, ds, keys)
    assert len(forks) == 1
    assert cer.outcome(NOTIFIED).to_document() == r.outcome.to_document() and len(forks) == 2
    cer2 = Ceremony(led)
    e, bundle, now, held = _commit(cer2, ds, keys, NO_NOTICE, "2025-06-11T07:00:00Z")
    op = _op(keys, ds, NO_NOTICE)
    cer2.reveal(NO_NOTICE, signer=op, time="2025-06-12T02:00:00Z", beacon_text=None, contributions=now, withheld=held)
    cer2.dispatch(NO_NOTICE, signer=op, time="2025-06-12T07:30:00Z", day=ds.task(NO_NOTICE).draw_date)
    cer2.list_reveal(NO_NOTICE, signer=op, time="2025-07-01T09:00:00Z", secrets=held)
    assert len(forks) == 4
    rep = _verify(led.path)
    assert rep.exit_code == 0, rep.to_text()
    assert "matches the lock" in rep.tasks[NOTIFIED]["note"] and "matches the lock" in rep.tasks[NO_NOTICE]["note"]


def test_sealed_task_needs_the_opening_and_verify_checks_what_is_public(led, ds, keys):
    cer = Ceremony(led)
    e, bundle, now, held = _commit(cer, ds, keys, SEALED, "2025-03-11T07:00:00Z")
    assert bundle.opening is not None and "members" not in e.body["strata"][0]
    with pytest.raises(DrawError, match="opening file"):
        cer.reveal(SEALED, signer=_op(keys, ds, SEALED), time="2025-03-12T02:00:00Z", beacon_text=None,
                   contributions=now)
    assert cer.task_draw(SEALED).state == "committed"  # nothing appended: randomness and lock go together
    cer.reveal(SEALED, signer=_op(keys, ds, SEALED), time="2025-03-12T02:00:00Z", beacon_text=None,
               contributions=now, opening=bundle.opening)
    assert "sealed" in _verify(led.path).tasks[SEALED]["note"]


def test_void_then_commit_again_is_visible(led, ds, keys):
    cer = Ceremony(led)
    op = _op(keys, ds, NOTIFIED)
    _commit(cer, ds, keys, NOTIFIED, "2025-06-06T07:00:00Z")
    with pytest.raises(PolicyError, match="expected a reason"):
        cer.void(NOTIFIED, reason=" ", signer=op, time="2025-06-09T01:00:00Z")
    cer.void(NOTIFIED, reason="参与部门未提交随机数贡献", signer=op, time="2025-06-09T01:00:00Z")
    _, _, now, _ = _commit(cer, ds, keys, NOTIFIED, "2025-06-09T07:00:00Z", attempt=1)
    cer.reveal(NOTIFIED, signer=op, time="2025-06-10T02:00:00Z", beacon_text=None, contributions=now)
    rep = _verify(led.path)
    assert rep.exit_code == 0, rep.to_text()
    assert rep.tasks[NOTIFIED]["commitments"] == 2 and rep.tasks[NOTIFIED]["voided"] == 1


# --------------------------------------------------------------------------- refusals


def test_steps_out_of_order_are_refused(led, ds, keys):
    cer = Ceremony(led)
    op = _op(keys, ds, NOTIFIED)
    with pytest.raises(PolicyError, match="state 'planned'"):
        cer.reveal(NOTIFIED, signer=op, time="2025-06-10T02:00:00Z", beacon_text=None)
    with pytest.raises(PolicyError, match="dispatch in state 'planned'; the list must be locked first"):
        cer.dispatch(NOTIFIED, signer=op, time="2025-06-10T02:00:00Z", day=ds.task(NOTIFIED).draw_date)
    with pytest.raises(PolicyError, match="void in state 'planned'"):
        cer.void(NOTIFIED, reason="x", signer=op, time="2025-06-10T02:00:00Z")
    e, _, now, _ = _commit(cer, ds, keys, NOTIFIED, "2025-06-09T07:00:00Z")
    with pytest.raises(PolicyError, match="a second commitment while one is live"):
        _commit(cer, ds, keys, NOTIFIED, "2025-06-09T08:00:00Z", attempt=1)
    with pytest.raises(PolicyError, match="dispatch in state 'committed'"):
        cer.dispatch(NOTIFIED, signer=op, time="2025-06-09T09:00:00Z", day=ds.task(NOTIFIED).draw_date)
    with pytest.raises(PolicyError, match="replacements come after the lock"):
        cer.replace_target(NOTIFIED, "X", reason="deregistered", approver="deputy_head", signer=op,
                           time="2025-06-09T09:00:00Z")
    with pytest.raises(PolicyError, match="not after the commitment"):
        cer.reveal(NOTIFIED, signer=op, time=e.time, beacon_text=None, contributions=now)
    size = led.size
    cer.reveal(NOTIFIED, signer=op, time="2025-06-10T02:00:00Z", beacon_text=None, contributions=now)
    assert led.size == size + 2
    # nothing but dispatch, list reveal and replacements after the lock
    with pytest.raises(PolicyError, match="void in state 'locked'"):
        cer.void(NOTIFIED, reason="重新抽取", signer=op, time="2025-06-10T03:00:00Z")
    with pytest.raises(PolicyError, match="second commitment while one is live \\(locked\\)"):
        _commit(cer, ds, keys, NOTIFIED, "2025-06-10T03:00:00Z", attempt=1)
    with pytest.raises(PolicyError, match="state 'locked'"):
        cer.reveal(NOTIFIED, signer=op, time="2025-06-10T03:00:00Z", beacon_text=None, contributions=now)
    with pytest.raises(PolicyError, match="notified task"):
        cer.list_reveal(NOTIFIED, signer=op, time="2025-06-10T03:00:00Z", secrets=now)
    assert led.size == size + 2


def test_wrong_signer_is_refused(led, ds, keys):
    cer = Ceremony(led)
    other = keys.operator("fire", "2025-01-01T00:00:00Z")  # not a department of the task
    plan, now, _ = _plan(ds, NOTIFIED)
    with pytest.raises(PolicyError, match="expected a head or operator key of department 'housing'"):
        cer.commit(ds, NOTIFIED, signer=other, time="2025-06-09T07:00:00Z", plan=plan,
                   office_signer=keys.operator("amr", "2025-06-09T07:00:00Z"))
    with pytest.raises(PolicyError, match="expected a head or operator key"):
        cer.commit(ds, NOTIFIED, signer=keys.root, time="2025-06-09T07:00:00Z", plan=plan)
    _, _, now, _ = _commit(cer, ds, keys, NOTIFIED, "2025-06-09T07:00:00Z")
    participant = keys.operator("eco", "2025-01-01T00:00:00Z")
    with pytest.raises(PolicyError, match="department 'housing'"):
        cer.reveal(NOTIFIED, signer=participant, time="2025-06-10T02:00:00Z", beacon_text=None, contributions=now)


def test_directory_change_needs_a_new_snapshot_signed_by_the_office(led, ds, keys):
    from dataclasses import replace

    cer = Ceremony(led)
    _commit(cer, ds, keys, NOTIFIED, "2025-06-09T07:00:00Z")
    changed = replace(ds, inspectors=ds.inspectors[:-1])
    plan, _, _ = _plan(ds, NO_NOTICE)
    with pytest.raises(PolicyError, match="directory changed since the last directory.snapshot"):
        cer.commit(changed, NO_NOTICE, signer=_op(keys, ds, NO_NOTICE), time="2025-06-09T08:00:00Z", plan=plan)
    cer.commit(changed, NO_NOTICE, signer=_op(keys, ds, NO_NOTICE), time="2025-06-09T08:00:00Z", plan=plan,
               office_signer=keys.operator("amr", "2025-06-09T08:00:00Z"))
    assert [e.type for e in led.entries()].count("directory.snapshot") == 2


def test_replacements_need_a_listed_reason_and_the_right_approver(led, ds, keys):
    cer, _, r = _locked(led, ds, keys)
    op = _op(keys, ds, NOTIFIED)
    target = r.outcome.selected[0]
    with pytest.raises(PolicyError, match="--reason: expected one of deregistered, revoked, moved_out, not_in_scope, got 'moved'"):
        cer.replace_target(NOTIFIED, target, reason="moved", approver="deputy_head", signer=op, time="2025-06-11T02:00:00Z")
    with pytest.raises(PolicyError, match="--approver: expected one of deputy_head, head, got 'clerk'"):
        cer.replace_target(NOTIFIED, target, reason="deregistered", approver="clerk", signer=op, time="2025-06-11T02:00:00Z")
    with pytest.raises(PolicyError, match="not among the task's current targets"):
        cer.replace_target(NOTIFIED, "91379900MA0000000X", reason="revoked", approver="head", signer=op,
                           time="2025-06-11T02:00:00Z")
    member = r.outcome.teams[0].leader
    dept = r.outcome.state.by_id[member]["department"]
    sig = keys.operator(dept, "2025-01-01T00:00:00Z")
    with pytest.raises(PolicyError, match="--reason: expected one of post_change, work_conflict, health, recusal"):
        cer.replace_inspector(NOTIFIED, target, member, reason="holiday", approver="deputy_head", signer=sig,
                              time="2025-06-11T02:00:00Z")
    with pytest.raises(PolicyError, match="deputy head"):
        cer.replace_inspector(NOTIFIED, target, member, reason="health", approver="head", signer=sig,
                              time="2025-06-11T02:00:00Z")
    with pytest.raises(PolicyError, match="not a member of its team"):
        cer.replace_inspector(NOTIFIED, target, r.outcome.teams[1].officers[0] if r.outcome.teams[1].officers[0]
                              not in r.outcome.teams[0].officers else "nobody", reason="health",
                              approver="deputy_head", signer=sig, time="2025-06-11T02:00:00Z")
    # the inspector's own department signs, not the lead's (unless it is the lead)
    other = next(d for d in ds.task(NOTIFIED).departments if d != dept)
    with pytest.raises(PolicyError, match=f"department '{dept}'"):
        cer.replace_inspector(NOTIFIED, target, member, reason="health", approver="deputy_head",
                              signer=keys.operator(other, "2025-01-01T00:00:00Z"), time="2025-06-11T02:00:00Z")


def test_reveal_waits_for_the_drand_round_and_commit_must_name_a_future_round(led, ds, keys):
    cer = Ceremony(led, allow_test_chain=True)
    rt = round_time(beacon.TEST_CHAIN.chain_hash, TEST_ROUND)
    assert rt == "2025-09-01T02:00:00Z"
    plan = RandomnessPlan(drand_round=TEST_ROUND, chain=beacon.TEST_CHAIN)
    op = _op(keys, ds, NOTIFIED)
    with pytest.raises(PolicyError, match="exists from 2025-09-01T02:00:00Z; a commitment must name a future round"):
        cer.commit(ds, NOTIFIED, signer=op, time="2025-09-01T02:00:00Z", plan=plan,
                   office_signer=keys.operator("amr", "2025-09-01T02:00:00Z"))
    with pytest.raises(PolicyError, match="test chain is for tests only"):
        Ceremony(led).commit(ds, NOTIFIED, signer=op, time="2025-08-29T07:00:00Z", plan=plan)
    cer.commit(ds, NOTIFIED, signer=op, time="2025-08-29T07:00:00Z", plan=plan,
               office_signer=keys.operator("amr", "2025-08-29T07:00:00Z"))
    assert cer.status(NOTIFIED)["reveal_not_before"] == rt
    with pytest.raises(PolicyError, match="before drand round 21296212 exists \\(2025-09-01T02:00:00Z\\)"):
        cer.reveal(NOTIFIED, signer=op, time="2025-09-01T01:59:59Z", beacon_text=TEST_BEACON)
    with pytest.raises(DrawError, match="its beacon is needed"):
        cer.reveal(NOTIFIED, signer=op, time="2025-09-01T02:00:00Z", beacon_text=None)
    cer.reveal(NOTIFIED, signer=op, time="2025-09-01T02:00:00Z", beacon_text=TEST_BEACON)
    rep = _verify(led.path, allow_test_chain=True)
    assert rep.exit_code == 0, rep.to_text()
    assert _verify(led.path).exit_code != 0  # the test chain is refused unless explicitly allowed


# --------------------------------------------------------------------------- verify names the cause


def _tampered_copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def _rewrite_blob(path: Path, ref: str, data: bytes) -> None:
    (path / "blob/sha256" / ref[7:]).write_bytes(data)


def test_changing_a_pool_member_a_ratio_or_a_beacon_byte_makes_verify_fail_naming_it(tmp_path, ds, keys):
    led = _new_ledger(tmp_path / "ledger", ds, keys)
    cer, bundle, r = _locked(led, ds, keys)
    commit = cer.task_draw(NOTIFIED).commit.body
    assert _verify(led.path).exit_code == 0
    # a pool member replaced in the labels blob (the address no longer matches its content)
    p = _tampered_copy(led.path, tmp_path / "pool")
    labels = json.loads(led.get_blob(commit["pool"]["labels"]))
    labels[0] = labels[0][:-1] + ("X" if labels[0][-1] != "X" else "Y")
    _rewrite_blob(p, commit["pool"]["labels"], canonical.encode(sorted(labels)))
    rep = _verify(p)
    assert rep.exit_code == 4
    assert any(commit["pool"]["labels"][7:] in f.message and "does not match" in f.message for f in rep.findings), \
        [f.message for f in rep.findings]
    # a ratio changed in the commitment: the pure engine names the stratum and the expected sample
    body = json.loads(json.dumps(commit))
    i = next(i for i, st in enumerate(body["strata"]) if st["size"] > st["sample"])
    body["strata"][i]["ratio"] = "1/1"
    with pytest.raises(DrawError, match=f"strata\\[{i}\\] \\({body['strata'][i]['id']}\\): expected sample"):
        draw.load_commitment(body, led.get_blob)
    # one byte of the beacon / a contribution secret in the randomness body
    rnd = cer.task_draw(NOTIFIED).randomness.body
    bad = json.loads(json.dumps(rnd))
    s = bad["contributions"][0]["secret"]
    bad["contributions"][0]["secret"] = ("0" if s[0] != "0" else "1") + s[1:]
    from sunshine.errors import IntegrityError

    with pytest.raises(IntegrityError, match=f"contribution of '{bad['contributions'][0]['department']}': the revealed "
                                             "secret hashes to"):
        draw.recompute(commit, bad, led.get_blob)


def test_a_lock_that_does_not_follow_from_its_inputs_is_named(tmp_path, ds, keys):
    """A dishonest operator signs a lock whose outcome swaps one target: verify names the target."""
    led = _new_ledger(tmp_path / "ledger", ds, keys)
    cer = Ceremony(led)
    _, bundle, now, held = _commit(cer, ds, keys, NOTIFIED, "2025-06-09T07:00:00Z")
    t = cer.task_draw(NOTIFIED)
    rnd = draw.make_randomness_body(t.commit.body, None, contributions=now)
    o = draw.recompute(t.commit.body, rnd, led.get_blob)
    doc = draw.outcome_document(o)
    st = next(st for st in doc["strata"] if st["selected"] and st["queue"])
    queue_head, dropped = st["queue"][0], st["selected"][0]
    st["selected"][0] = queue_head
    data = canonical.encode(doc)
    ref = led.put_blob(data)
    op = _op(keys, ds, NOTIFIED)
    led.append_batch([("draw.randomness", rnd, op, "2025-06-10T02:00:00Z"),
                      ("draw.lock", draw.lock_body(t.commit.body, rnd, ref, o), op, "2025-06-10T02:00:00Z")])
    rep = _verify(led.path)
    assert rep.exit_code == 4
    msgs = " ".join(f.message for f in rep.findings)
    assert queue_head in msgs and dropped in msgs and NOTIFIED in msgs


def test_a_replacement_that_skips_the_queue_is_named(tmp_path, ds, keys):
    led = _new_ledger(tmp_path / "ledger", ds, keys)
    cer, bundle, r = _locked(led, ds, keys)
    o = r.outcome
    s = next(s for s in o.strata if len(s.queue) > 1 and s.selected)
    body = {"algorithm": draw.ALGORITHM, "task": NOTIFIED, "lock": draw.body_hash(r.lock.body),
            "target": s.selected[0], "replacement": s.queue[1], "reason": "deregistered", "approver_role": "deputy_head"}
    led.append("draw.replace_target", body, _op(keys, ds, NOTIFIED), "2025-06-12T02:00:00Z")
    rep = _verify(led.path)
    msgs = " ".join(f.message for f in rep.findings)
    assert rep.exit_code != 0 and s.queue[0] in msgs and s.queue[1] in msgs


def test_tracker_messages_are_the_verifiers(ds):
    tr = DrawTracker()
    assert tr.check("draw.lock", {"task": "T"}, "2025-01-01T00:00:00Z") == [
        "task T: lock in state 'planned'; expected after the randomness"]


# --------------------------------------------------------------------------- the CLI


def _cli_env(monkeypatch, tmp_path, ds, keys):
    """Key files for the CLI (demo keys, encrypted) and a ledger and data directory in tmp."""
    from sunshine import keys as keys_mod

    monkeypatch.setenv("SUNSHINE_PASSPHRASE", "test-pass")
    kd = tmp_path / "demo-keys"
    files = {}
    for name in ("housing-op-demo-2025", "amr-op-demo-2025", "eco-op-demo-2025"):
        files[name] = kd / f"{name}.key"
        keys_mod.write_key_file(files[name], keys.ids[name], b"test-pass")
    from sunshine.keys import SigningIdentity

    log = SigningIdentity("sunshine.example/ceremony-test", "amr", "log", _log_key(keys), demo=False)
    files["log"] = tmp_path / "log.key"
    files["log"].write_bytes(keys_mod.encode_key_file(log, b"test-pass"))
    data = tmp_path / "data"
    demo.write(str(data), demo.Options(scale=500, seed=SEED))
    _new_ledger(tmp_path / "ledger", ds, keys)
    return files, data


def test_cli_ceremony_end_to_end_and_refusals(tmp_path, monkeypatch, ds, keys, capsys):
    files, data = _cli_env(monkeypatch, tmp_path, ds, keys)
    ledger = str(tmp_path / "ledger")
    base = ["--ledger", ledger, "--log-key", str(files["log"])]
    secrets = []
    coms = []
    for dept in ds.task(NOTIFIED).departments:
        out = tmp_path / f"{dept}.secret"
        assert cli.main(["draw", "secret", NOTIFIED, "--department", dept, "--out", str(out)]) == 0
        coms.append(f"{dept}={capsys.readouterr().out.strip()}")
        secrets.append(f"{dept}={out}")
    assert cli.main(["draw", "secret", NOTIFIED, "--department", "eco", "--out", str(out)]) == 1
    assert "refusing to overwrite" in capsys.readouterr().err
    commit = ["draw", "commit", NOTIFIED, "--data", str(data), "--key", str(files["housing-op-demo-2025"]),
              "--office-key", str(files["amr-op-demo-2025"]), "--no-beacon", "--time", "2025-06-09T07:00:00Z", *base]
    args = [x for c in coms for x in ("--contribution", c)]
    # wrong signer: the office's key does not sign the lead's commitment
    bad = list(commit)
    bad[bad.index("--key") + 1] = str(files["eco-op-demo-2025"])
    assert cli.main(bad + args) == 1
    err = capsys.readouterr().err
    assert "error: refused draw.commit of task 2025-08: expected a head or operator key of department 'housing'" in err
    assert cli.main(commit + args) == 0
    out = capsys.readouterr()
    assert "committed task 2025-08" in out.out and "contributions only" in out.out and "… building" in out.err
    assert cli.main(commit + args) == 1
    assert "a second commitment while one is live" in capsys.readouterr().err
    reveal = ["draw", "reveal", NOTIFIED, "--key", str(files["housing-op-demo-2025"]), *base]
    assert cli.main(["draw", "dispatch", NOTIFIED, "--key", str(files["housing-op-demo-2025"]), *base,
                     "--time", "2025-06-09T08:00:00Z"]) == 1
    assert "the list must be locked first" in capsys.readouterr().err
    assert cli.main(reveal + [x for s in secrets for x in ("--secret", s)] + ["--time", "2025-06-10T02:00:00Z"]) == 0
    assert "locked task 2025-08" in capsys.readouterr().out
    assert cli.main(["draw", "void", NOTIFIED, "--reason", "重来", "--key", str(files["housing-op-demo-2025"]), *base,
                     "--time", "2025-06-10T03:00:00Z"]) == 1
    assert "void in state 'locked'" in capsys.readouterr().err
    assert cli.main(["draw", "status", NOTIFIED, "--ledger", ledger]) == 0
    assert "task 2025-08: locked" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:  # a reason outside the closed list is a usage error
        cli.main(["draw", "replace-target", NOTIFIED, "X", "--reason", "moved", "--approver", "deputy_head",
                  "--key", str(files["housing-op-demo-2025"]), *base])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:  # so is a missing approver
        cli.main(["draw", "replace-target", NOTIFIED, "X", "--reason", "revoked",
                  "--key", str(files["housing-op-demo-2025"]), *base])
    assert exc.value.code == 2
    assert _verify(Path(ledger)).exit_code == 0


def test_only_a_no_notice_outcome_may_be_withheld(tmp_path, ds, keys):
    led = _new_ledger(tmp_path / "ledger", ds, keys)
    cer, bundle, r = _locked(led, ds, keys)
    (led.path / "blob/sha256" / r.lock.body["outcome"][7:]).unlink()
    rep = _verify(led.path)
    assert rep.exit_code == 4
    assert any(f"task {NOTIFIED}: the lock's outcome document {r.lock.body['outcome']} is not published" in f.message
               for f in rep.findings), rep.to_text()


def test_verify_names_a_changed_beacon_byte_and_a_changed_ratio(tmp_path, ds, keys):
    """A dishonest operator signs entries the ceremony would refuse: verify names what was changed."""
    op = _op(keys, ds, NOTIFIED)
    # one byte of the beacon's signature changed in the randomness entry
    led = _new_ledger(tmp_path / "a", ds, keys)
    cer = Ceremony(led, allow_test_chain=True)
    cer.commit(ds, NOTIFIED, signer=op, time="2025-08-29T07:00:00Z", plan=RandomnessPlan(TEST_ROUND, beacon.TEST_CHAIN),
               office_signer=keys.operator("amr", "2025-08-29T07:00:00Z"))
    commit = cer.task_draw(NOTIFIED).commit.body
    good = draw.make_randomness_body(commit, TEST_BEACON)
    o = draw.recompute(commit, good, led.get_blob, allow_test_chain=True)
    ref = led.put_blob(canonical.encode(draw.outcome_document(o)))
    sig = json.loads(TEST_BEACON)["signature"]
    bad_text = json.dumps({"round": TEST_ROUND, "signature": sig[:40] + ("0" if sig[40] != "0" else "1") + sig[41:]},
                          separators=(",", ":"))
    bad = draw.make_randomness_body(commit, bad_text)
    led.append_batch([("draw.randomness", bad, op, "2025-09-01T03:00:00Z"),
                      ("draw.lock", draw.lock_body(commit, bad, ref, o), op, "2025-09-01T03:00:00Z")])
    rep = _verify(led.path, allow_test_chain=True)
    assert rep.exit_code == 4
    assert any(f"task {NOTIFIED}: the draw cannot be recomputed" in f.message and "beacon" in f.message
               for f in rep.findings), rep.to_text()
    # a ratio changed in the signed commitment (the sample count left as it was)
    led = _new_ledger(tmp_path / "b", ds, keys)
    cer = Ceremony(led)
    _, bundle, now, _ = _commit(cer, ds, keys, NOTIFIED, "2025-06-09T07:00:00Z")
    body = json.loads(json.dumps(bundle.body))
    i = next(i for i, st in enumerate(body["strata"]) if st["size"] > st["sample"])
    body["strata"][i]["ratio"] = "1/1"
    cer.void(NOTIFIED, reason="x", signer=op, time="2025-06-09T07:10:00Z")
    led.append("draw.commit", body, op, "2025-06-09T07:20:00Z")
    honest = draw.make_randomness_body(bundle.body, None, contributions=now)
    o = draw.recompute(bundle.body, honest, led.get_blob)
    ref = led.put_blob(canonical.encode(draw.outcome_document(o)))
    rnd = draw.make_randomness_body(body, None, contributions=now)
    led.append_batch([("draw.randomness", rnd, op, "2025-06-10T02:00:00Z"),
                      ("draw.lock", draw.lock_body(body, rnd, ref, o), op, "2025-06-10T02:00:00Z")])
    rep = _verify(led.path)
    assert rep.exit_code != 0
    assert any(f"strata[{i}] ({body['strata'][i]['id']}): expected sample" in f.message for f in rep.findings), \
        rep.to_text()


def test_a_change_to_any_directory_field_needs_a_new_snapshot(ds):
    from dataclasses import replace
    from datetime import date

    from sunshine.ceremony import directory_snapshot
    from sunshine.vocabulary import CreditClass

    body, blobs = directory_snapshot(ds, date(2025, 6, 9))
    t0 = ds.targets[0]
    other = CreditClass.A if t0.credit_class is not CreditClass.A else CreditClass.D
    changed = replace(ds, targets=(replace(t0, credit_class=other), *ds.targets[1:]))
    body2, blobs2 = directory_snapshot(changed, date(2025, 6, 9))
    assert body2["targets"]["blob"] != body["targets"]["blob"]  # the credit class is hashed ...
    doc = json.loads(blobs2[body2["targets"]["blob"]])
    assert set(doc) == {"format", "directory", "records", "full_sha256"}
    assert all(len(r) == 3 for r in doc["records"])  # ... but not published: code, kind, status only
    assert body2["inspectors"] == body["inspectors"]
