"""From a ``Dataset`` and one task to the ``draw.commit`` body and its blobs (``docs/spec/draw.md`` §4).

This is the operator side: it reads the directories, decides the pool (with every exclusion and
its reason), assigns strata, computes the sample sizes before any randomness exists, and builds
the inspector pool with declared conflicts. The engine (:mod:`sunshine.draw`) never sees the
``Dataset``.

* Pool: targets matching the task's scope (kinds, divisions, industries) whose kind is a target
  kind of one of the task's items. Of those, excluded with a reason (``vocabulary.ExclusionReason``):
  a registration status outside the scope's statuses (``not_active``); already checked
  ``max_checks_per_target_per_year`` times this year by other tasks (``annual_cap``, 淄博 第八条)
  unless an override with a recorded reason is given; no stratum matches (``out_of_scope``).
* Strata: first match wins (credit classes or flags, any of); a stratum with neither takes the rest.
  A task using credit classes is **sealed**: no stratum member lists are published; each pool
  member carries ``SHA-256(frame(ALG, "stratum", task, label, stratum, nonce))`` and the opening
  file (label, stratum, nonce) goes to oversight bodies only. Nonces are
  ``HMAC-SHA256(sealing_key, frame(ALG, "nonce", task, label))`` with a secret key from the caller.
* Inspectors: active members of the task's departments; officers must be certified with a
  certificate valid on the draw date; experts and third parties are ``kind: expert``. Declared
  conflicts are kept for pool members only.

Pure (no I/O, no clock: the caller passes ``as_of``, the sealing key and the randomness plan).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from . import beacon
from .draw import LABEL_RE, make_commit
from .errors import DrawError
from .model import Dataset, Inspector, Stratum, Target, Task
from .vocabulary import ExclusionReason, InspectorStatus, PersonType


@dataclass(frozen=True, slots=True)
class RandomnessPlan:
    """The randomness sources named in advance."""

    drand_round: int | None  # None: no public beacon, contributions only (docs/spec/draw.md §3.5)
    chain: beacon.Chain = beacon.QUICKNET
    lotteries: tuple[str, ...] = ()  # names, e.g. "中国福利彩票双色球 2025040期"
    contributions: tuple[tuple[str, str, str], ...] = ()  # (department, commitment hex, reveal mode)


@dataclass(frozen=True, slots=True)
class CommitBundle:
    body: dict  # the draw.commit body
    blobs: dict[str, bytes]  # ref -> bytes, to be stored with Ledger.put_blob
    opening: dict | None  # sealed strata only: never published
    exclusions: tuple[tuple[str, ExclusionReason], ...]


def checks_this_year(ds: Dataset, task: Task) -> dict[str, int]:
    """How many other tasks of ``task.year`` have a result for each target code."""
    year_tasks = {t.id for t in ds.tasks() if t.year == task.year and t.id != task.id}
    seen: dict[str, set[str]] = {}
    for r in ds.results:
        if r.task in year_tasks:
            seen.setdefault(r.target, set()).add(r.task)
    return {code: len(tasks) for code, tasks in seen.items()}


def _stratum_for(t: Target, strata: tuple[Stratum, ...]) -> Stratum | None:
    for s in strata:
        if s.remainder:
            return s
        if (s.credit_classes and t.credit_class in s.credit_classes) or (s.flags and t.flags & set(s.flags)):
            return s
    return None


def _ratio(r) -> str:
    return f"{r.numerator}/{r.denominator}"


def _inspector_record(i: Inspector, as_of: date, pool: set[str]) -> dict | None:
    if i.status is not InspectorStatus.ACTIVE:
        return None
    if i.person_type is PersonType.OFFICER:
        if not i.certified_officer or (i.certificate_valid_until is not None and i.certificate_valid_until < as_of):
            return None
        kind = "officer"
    else:
        kind = "expert"
    return {
        "id": i.id,
        "department": i.department,
        "kind": kind,
        "capacity": i.capacity,
        "qualifications": sorted(i.qualifications),
        "conflicts": sorted(c for c in i.conflicts if c in pool),
    }


def build_commitment(
    ds: Dataset,
    task: Task,
    plan: RandomnessPlan,
    *,
    as_of: date,
    sealing_key: bytes | None = None,
    cap_overrides: dict[str, str] | None = None,
) -> CommitBundle:
    """The ``draw.commit`` body for ``task``, its blobs, and (sealed strata) the opening file."""
    cap_overrides = dict(cap_overrides or {})
    try:
        items = ds.items.in_force(as_of) or ds.items.current
        kinds = {k for iid in task.items for k in items.item(iid).target_kinds}
    except KeyError as e:
        raise DrawError(f"task {task.id}: item {e.args[0]} is not in the item list in force on {as_of}") from None
    cap = ds.jurisdiction.settings.max_checks_per_target_per_year
    counts = checks_this_year(ds, task)
    scope_no_status = type(task.scope)(kinds=task.scope.kinds, divisions=task.scope.divisions, industries=task.scope.industries, statuses=())

    pool: dict[str, Stratum] = {}
    exclusions: list[tuple[str, ExclusionReason]] = []
    overrides: list[dict] = []
    for t in ds.targets:
        if not scope_no_status.matches(t):
            continue
        if not LABEL_RE.fullmatch(t.code):
            raise DrawError(f"target {t.code!r}: expected a code usable as a pool label (letters, digits, '.', '_', '-')")
        if task.scope.statuses and t.status not in task.scope.statuses:
            exclusions.append((t.code, ExclusionReason.NOT_ACTIVE))
            continue
        if t.kind not in kinds:
            exclusions.append((t.code, ExclusionReason.OUT_OF_SCOPE))
            continue
        if counts.get(t.code, 0) >= cap:
            if t.code in cap_overrides:
                overrides.append({"label": t.code, "reason": cap_overrides.pop(t.code)})
            else:
                exclusions.append((t.code, ExclusionReason.ANNUAL_CAP))
                continue
        s = _stratum_for(t, task.strata)
        if s is None:
            exclusions.append((t.code, ExclusionReason.OUT_OF_SCOPE))
            continue
        if t.code in pool:
            raise DrawError(f"target {t.code}: appears twice in the target directory")
        pool[t.code] = s
    if cap_overrides:
        raise DrawError(f"task {task.id}: cap overrides for targets that are not at the cap or not in scope: {sorted(cap_overrides)}")
    if not pool:
        raise DrawError(f"task {task.id}: the pool is empty (no active target matches the scope)")

    pool_set = set(pool)
    depts = set(task.departments)
    records = [r for i in sorted(ds.inspectors, key=lambda i: i.id) if i.department in depts and (r := _inspector_record(i, as_of, pool_set))]
    body, blobs, opening = make_commit(
        task=task.id,
        year=task.year,
        items=list(task.items),
        lead=task.lead,
        participants=list(task.participants),
        notice=task.notice.value,
        draw_date=task.draw_date.isoformat(),
        strata=[{"id": s.id, "label": s.label, "ratio": _ratio(s.ratio), "minimum": s.minimum} for s in task.strata],
        assignment={lb: s.id for lb, s in pool.items()},
        exclusions=[(lb, r.value) for lb, r in exclusions],
        inspectors=records,
        team={
            "min_officers": max(task.team.min_officers, ds.jurisdiction.settings.min_officers_per_group),
            "per_department": task.team.per_department,
            "experts": task.team.experts,
            "qualifications": sorted(set(task.team.qualifications)),
        },
        drand_round=plan.drand_round,
        chain=plan.chain,
        lotteries=list(plan.lotteries),
        contributions=list(plan.contributions),
        cap_overrides=overrides,
        sealed=task.uses_credit_classes,
        sealing_key=sealing_key,
    )
    return CommitBundle(body, blobs, opening, tuple(sorted(exclusions)))
