"""draw_inputs: from model objects (a Dataset and a task) to the draw.commit body and blobs."""

from __future__ import annotations

import pathlib
from datetime import date
from fractions import Fraction

import pytest

from sunshine import beacon, canonical, draw, draw_inputs
from sunshine.errors import DrawError
from sunshine.model import (
    Dataset, Department, Inspector, Item, ItemList, ItemListVersion, ItemResult, Jurisdiction, Plan,
    PlanVersion, Result, Scope, Stratum, Task, TeamRules,
)
from sunshine.vocabulary import (
    ApproverRole, CreditClass, InspectorStatus, ItemClass, Method, NoticeMode, PersonType,
    RegistrationStatus, ResultCode, TargetFlag, TargetKind,
)
from sunshine.model import Target

DRAND = pathlib.Path(__file__).parent / "vectors" / "drand"
ROUND = 17149012  # test chain, 2025-04-10T02:00:00Z
D = date(2025, 4, 10)


def target(i, *, kind=TargetKind.ENTERPRISE, status=RegistrationStatus.ACTIVE, division="379902", flags=(), credit=None):
    return Target(code=f"91379900MA{i:07d}X", name=f"示例企业{i}", kind=kind, division=division, industries=("F5211",),
                  status=status, flags=frozenset(flags), credit_class=credit)


def inspector(iid, dept, *, ptype=PersonType.OFFICER, cert="C1", valid=None, status=InspectorStatus.ACTIVE, quals=("food",), conflicts=(), capacity=10):
    return Inspector(id=iid, department=dept, name="内部", person_type=ptype, certificate_no=cert if ptype is PersonType.OFFICER else "",
                     certificate_valid_until=valid, qualifications=frozenset(quals), expertise=frozenset(), status=status,
                     conflicts=frozenset(conflicts), capacity=capacity)


def task(tid="2025-03", *, strata=None, scope=None, participants=("health",), notice=NoticeMode.NOTIFIED, min_officers=2):
    return Task(id=tid, year=2025, name="食品销售联合抽查", items=("AMR-03",), lead="amr", participants=participants,
                scope=scope or Scope(kinds=(TargetKind.ENTERPRISE, TargetKind.INDIVIDUAL), divisions=("379902",)),
                strata=strata or (Stratum("abnormal", "经营异常", Fraction(1, 5), flags=(TargetFlag.ABNORMAL,)),
                                  Stratum("rest", "其他", Fraction(1, 10), minimum=1)),
                notice=notice, team=TeamRules(min_officers=min_officers, per_department=1, experts=0, qualifications=("food",)),
                draw_date=D, start=date(2025, 4, 15), end=date(2025, 5, 30))


def dataset(targets, inspectors, tasks, results=()):
    item = Item(id="AMR-03", department="amr", name="食品销售", item_class=ItemClass.FOCUS, subjects=("amr", "health"),
                target_kinds=(TargetKind.ENTERPRISE,), content="…", legal_basis="…", methods=(Method.ON_SITE,), ratio_cap=None)
    j = Jurisdiction(id="shiyi", name="示例市", division_code="379900", origin="sunshine.example/shiyi", office="amr",
                     departments=(Department("amr", "示例市市场监督管理局", "市场监管局"), Department("health", "示例市卫生健康委员会", "卫健委")))
    plan = Plan(2025, "计划", (PlanVersion(1, date(2025, 2, 20), date(2025, 2, 28), "首次公布", tuple(tasks)),))
    return Dataset(j, ItemList((ItemListVersion(1, date(2025, 1, 15), "首次公布", (item,)),)), tuple(targets), tuple(inspectors), (plan,), tuple(results))


def result(task_id, code):
    return Result(task=task_id, target=code, department="amr", items=(ItemResult("AMR-03", (ResultCode.NO_ISSUE,)),),
                  inspection_end=date(2025, 3, 1), entered=date(2025, 3, 2), published=date(2025, 3, 3), approver_role=ApproverRole.DEPUTY_HEAD)


def base():
    ts = [target(i, flags=(TargetFlag.ABNORMAL,) if i % 5 == 0 else ()) for i in range(40)]
    ts += [
        target(100, status=RegistrationStatus.DEREGISTERED),
        target(101, kind=TargetKind.INDIVIDUAL),  # in the scope, but no task item covers individuals
        target(102, division="379903"),  # outside the scope: not even listed
        target(103),  # checked twice already this year -> annual cap
    ]
    ins = [inspector(f"AMR-{k:03d}", "amr", conflicts=(ts[1].code, "91379900MA9999999X") if k == 0 else ()) for k in range(6)]
    ins += [inspector(f"HEALTH-{k:03d}", "health", quals=()) for k in range(4)]
    ins += [
        inspector("AMR-900", "amr", status=InspectorStatus.SUSPENDED),
        inspector("AMR-901", "amr", valid=date(2025, 1, 1)),  # certificate expired before the draw
        inspector("AMR-902", "amr", cert=""),  # officer without a certificate
        inspector("EXP-001", "amr", ptype=PersonType.EXPERT),
        inspector("TAX-001", "tax"),  # not a task department
    ]
    t = task()
    others = [task("2025-01"), task("2025-02")]
    res = [result("2025-01", ts[-1].code), result("2025-02", ts[-1].code), result("2025-01", ts[2].code)]
    return dataset(ts, ins, [*others, t], res), t


def plan():
    return draw_inputs.RandomnessPlan(drand_round=ROUND, chain=beacon.TEST_CHAIN)


def test_pool_exclusions_and_strata():
    ds, t = base()
    b = draw_inputs.build_commitment(ds, t, plan(), as_of=D)
    labels = canonical.decode(b.blobs[b.body["pool"]["labels"]])
    assert len(labels) == 40 and labels == sorted(labels)
    reasons = dict((lb, r.value) for lb, r in b.exclusions)
    assert reasons == {target(100).code: "not_active", target(101).code: "out_of_scope", target(103).code: "annual_cap"}
    assert target(102).code not in labels and target(102).code not in reasons
    assert target(2).code in labels  # one earlier check is below the cap of two
    excl = canonical.decode(b.blobs[b.body["exclusions"]["list"]])
    assert excl == [{"label": lb, "reason": r} for lb, r in sorted(reasons.items())]
    s = {x["id"]: x for x in b.body["strata"]}
    assert (s["abnormal"]["size"], s["abnormal"]["sample"]) == (8, 2)  # ceil(8/5)
    assert (s["rest"]["size"], s["rest"]["sample"]) == (32, 4)  # ceil(3.2)
    assert canonical.decode(b.blobs[s["abnormal"]["members"]]) == [target(i).code for i in range(0, 40, 5)]
    assert b.opening is None and "sealed" not in b.body


def test_inspector_pool():
    ds, t = base()
    b = draw_inputs.build_commitment(ds, t, plan(), as_of=D)
    recs = canonical.decode(b.blobs[b.body["inspectors"]["list"]])
    ids = [r["id"] for r in recs]
    assert ids == sorted(ids)
    assert "AMR-900" not in ids and "AMR-901" not in ids and "AMR-902" not in ids and "TAX-001" not in ids
    exp = next(r for r in recs if r["id"] == "EXP-001")
    assert exp["kind"] == "expert"
    amr0 = next(r for r in recs if r["id"] == "AMR-000")
    assert amr0["conflicts"] == [target(1).code]  # conflicts outside the pool are not published
    assert b.body["team"] == {"min_officers": 2, "per_department": 1, "experts": 0, "qualifications": ["food"]}


def test_cap_override_keeps_the_target_with_its_reason():
    ds, t = base()
    code = target(103).code
    b = draw_inputs.build_commitment(ds, t, plan(), as_of=D, cap_overrides={code: "投诉举报较多，经分管负责人批准"})
    assert code in canonical.decode(b.blobs[b.body["pool"]["labels"]])
    assert b.body["cap_overrides"] == [{"label": code, "reason": "投诉举报较多，经分管负责人批准"}]
    with pytest.raises(DrawError, match="cap overrides for targets that are not at the cap"):
        draw_inputs.build_commitment(ds, t, plan(), as_of=D, cap_overrides={target(5).code: "x"})


def test_end_to_end_with_the_test_chain():
    ds, t = base()
    b = draw_inputs.build_commitment(ds, t, plan(), as_of=D)
    rb = draw.make_randomness_body(b.body, (DRAND / f"test-{ROUND}.json").read_text())
    o = draw.recompute(b.body, rb, b.blobs.__getitem__, allow_test_chain=True)
    assert len(o.selected) == 6
    for team in o.teams:
        assert len(team.officers) == 2 and team.leader.startswith("AMR-")
        assert any(i.startswith("HEALTH-") for i in team.officers)
        if team.target == target(1).code:
            assert "AMR-000" not in team.officers


def test_sealed_strata_from_credit_classes():
    ts = [target(i, credit=[CreditClass.A, CreditClass.B, CreditClass.C, CreditClass.D][i % 4]) for i in range(30)]
    t = task(strata=(Stratum("high", "高风险", Fraction(1, 2), credit_classes=(CreditClass.C, CreditClass.D)),
                     Stratum("rest", "其他", Fraction(1, 10), minimum=1)), participants=())
    ds = dataset(ts, [inspector(f"AMR-{k:03d}", "amr") for k in range(4)], [t])
    with pytest.raises(DrawError, match="sealed strata need a secret sealing key"):
        draw_inputs.build_commitment(ds, t, plan(), as_of=D)
    b = draw_inputs.build_commitment(ds, t, plan(), as_of=D, sealing_key=bytes(range(32)))
    assert "sealed" in b.body and all("members" not in s for s in b.body["strata"])
    assert [s["size"] for s in b.body["strata"]] == [14, 16]  # classes C, D: i % 4 in (2, 3)
    assert b.opening["members"][2]["stratum"] == "high"  # index 2 -> class C
    rb = draw.make_randomness_body(b.body, (DRAND / f"test-{ROUND}.json").read_text())
    o = draw.recompute(b.body, rb, b.blobs.__getitem__, opening=b.opening, allow_test_chain=True)
    assert [s.sample for s in o.strata] == [7, 2]
    # nothing in the published commitment or blobs names a member's credit class or stratum
    published = canonical.encode(b.body) + b"".join(b.blobs.values())
    assert b'"stratum"' not in published and b"nonce" not in published


def test_min_officers_follows_the_jurisdiction_setting():
    ds, _ = base()
    t1 = task(min_officers=1)
    b = draw_inputs.build_commitment(dataset(ds.targets, ds.inspectors, [t1]), t1, plan(), as_of=D)
    assert b.body["team"]["min_officers"] == 2  # 行政处罚法: at least two officers, whatever the task says


def test_empty_pool_and_unknown_item():
    ds, t = base()
    empty = task(scope=Scope(kinds=(TargetKind.ENTERPRISE,), divisions=("110000",)))
    with pytest.raises(DrawError, match="the pool is empty"):
        draw_inputs.build_commitment(dataset(ds.targets, ds.inspectors, [empty]), empty, plan(), as_of=D)
    bad = Task(**{**{f: getattr(t, f) for f in t.__dataclass_fields__}, "items": ("NOPE-1",)})
    with pytest.raises(DrawError, match="item NOPE-1 is not in the item list in force on 2025-04-10"):
        draw_inputs.build_commitment(dataset(ds.targets, ds.inspectors, [bad]), bad, plan(), as_of=D)


def test_no_notice_task_needs_a_late_contribution():
    ds, _ = base()
    t = task(notice=NoticeMode.NO_NOTICE)
    ds = dataset(ds.targets, ds.inspectors, [t])
    with pytest.raises(DrawError, match="a no-notice task needs a contribution revealed with the list"):
        draw_inputs.build_commitment(ds, t, plan(), as_of=D)
    secret = bytes(32)
    p = draw_inputs.RandomnessPlan(drand_round=ROUND, chain=beacon.TEST_CHAIN,
                                   contributions=(("amr", beacon.contribution_commitment(t.id, "amr", secret), "with_list"),))
    b = draw_inputs.build_commitment(ds, t, p, as_of=D)
    assert b.body["notice"] == "no_notice"
    assert b.body["randomness"]["contributions"][0]["reveal"] == "with_list"
