"""The sample jurisdiction's signed ledger, made by running the REAL draw ceremony (``sunshine demo-data``).

Everything here is fictional and deterministic in the demo seed, so ``sunshine demo-data`` rebuilds
``data/ledger/`` byte for byte (Ed25519 signatures are deterministic):

* **Keys** are derived from the seed (``SHA-256("sunshine-demo/<seed>/key/<name>")`` as the Ed25519
  seed) and are DEMO keys: anyone can recompute them. They are also written, encrypted with the
  published passphrase :data:`DEMO_PASSPHRASE`, to ``data/demo-keys/`` so that the CLI can be tried
  on the sample (those files differ on every run: the encryption is salted).
* **Contributions** (each department's secret for draws without a public beacon) are
  ``SHA-256("sunshine-demo/<seed>/contribution/<task>/<department>/<attempt>")`` — public, so the
  sample's contribution-only draws show the mechanics but not the unpredictability of a real one.
* **drand**: tasks whose draw falls on 2026-09-08 (Beijing) commit on 2026-09-07 before 17:49:24 UTC
  and use the REAL quicknet round 32000000 (``tests/vectors/drand/quicknet-32000000.json``), or
  32000001 for a second task. No real quicknet round of 2025 or of other 2026 dates is available
  to this project (``tests/vectors/drand/README.md``), so every other task draws from department
  contributions only and its commitment names no drand round (``docs/spec/draw.md`` §3.5). The
  test chain is never used here.

The story, in time order (Beijing working hours, UTC in the ledger): genesis with the office's root
key; operator and head keys of every department; item lists and plan versions as published; the
directory snapshot; for each task commit → randomness + lock → dispatch (list reveal after the
inspection for no-notice tasks); one commitment voided visibly and made again; two targets replaced
(found deregistered) and two inspectors replaced (岗位调整, approved by the 分管负责人); a key rotation
and a revocation; then every inspection result published by its department (谁检查、谁录入、谁公开)
and corrections signed by the department head. Results come from :func:`sunshine.demo.make_results`
over the LOCKED selections after replacements, and are written to ``results/<year>.csv``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Callable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from . import beacon, canonical, demo, draw, note, writing
from .ceremony import Ceremony, current_selection
from .draw_inputs import RandomnessPlan, build_commitment
from .keys import SigningIdentity, write_key_file
from .model import Dataset, Result, Task
from .vocabulary import ApproverRole

ORIGIN = "sunshine.example/shiyi-demo"


def origin_for(scale: int, seed: int, tasks: int | None = None, inspectors: int | None = None) -> str:
    """The sample ledger's origin: :data:`ORIGIN` for the committed sample, a distinct one for other
    options (a different ledger under the same origin would look like a fork to a verifier that
    remembers checkpoints)."""
    if (scale, seed, tasks, inspectors) == (demo.DEFAULT_SCALE, demo.DEFAULT_SEED, None, None):
        return ORIGIN
    tag = f"{scale}-{seed}" + (f"-t{tasks}" if tasks is not None else "") + (f"-i{inspectors}" if inspectors is not None else "")
    return f"{ORIGIN}-{tag}"
DEMO_PASSPHRASE = "sunshine-demo-only"
#: The sample ledger stops here: results published later are not in it (tasks still under way).
AS_OF = date(2026, 11, 20)
OFFICE = "amr"

#: REAL drand quicknet beacons available to the sample, verbatim (v2 relay shape). Source: a Foundry fork
#: test quoting https://api.drand.sh/v2/beacons/quicknet/rounds/{round}; recorded with their provenance in
#: tests/vectors/drand/quicknet-<round>.json and README.md. They verify under the pinned quicknet key.
REAL_BEACONS = {
    32000000: '{"round":32000000,"signature":"b1c90cc3c290ae966b9b5230cd3c93389bd95ae0274f7dce8ef43979745fa747'
              'c72fbebe7ddafb79088120565d91b91f"}',
    32000001: '{"round":32000001,"signature":"aa5153f0a3f6601a2f7df7b99159cbc9ce55e9885a91e878f26b8396add36502'
              '09d2502e856f801c0bb59a4b50638046"}',
}
REAL_ROUNDS = tuple(REAL_BEACONS)

#: Deliberate story elements (tasks of the catalogue; skipped when a task is missing).
VOID_TASK = "2025-04"
TARGET_REPLACEMENTS = ("2025-08", "2026-04")
INSPECTOR_REPLACEMENTS = ("2025-11", "2026-04")
ROTATE = ("amr-op-demo-2025", "amr-op-demo-2026", "2026-01-05T01:30:00Z")
REVOKE = ("culture-op-demo-2025", "culture-op-demo-2025b", "2025-09-30T02:00:00Z", "操作人员调离，停用其签名密钥")


def demo_key(seed: int, name: str) -> Ed25519PrivateKey:
    """The DEMO key *name* (public derivation: never use for real data)."""
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(f"sunshine-demo/{seed}/key/{name}".encode()).digest())


def demo_secret(seed: int, task: str, department: str, attempt: int) -> bytes:
    """A department's contribution secret in the sample (public derivation, documented)."""
    return hashlib.sha256(f"sunshine-demo/{seed}/contribution/{task}/{department}/{attempt}".encode()).digest()


def sealing_key(seed: int, task: str) -> bytes:
    return hashlib.sha256(f"sunshine-demo/{seed}/sealing/{task}".encode()).digest()


def real_beacon(round_: int) -> str:
    """The recorded beacon JSON of a real quicknet round."""
    return REAL_BEACONS[round_]


def _t(day: date, hhmm: str) -> str:
    return f"{day.isoformat()}T{hhmm}:00Z"


def _weekday_before(day: date, n: int = 1) -> date:
    d = day
    while n:
        d -= timedelta(days=1)
        if d.weekday() < 5:
            n -= 1
    return d


def _weekday_after(day: date, n: int = 1) -> date:
    d = day
    while n:
        d += timedelta(days=1)
        if d.weekday() < 5:
            n -= 1
    return d


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, date):
        return obj.isoformat()
    return obj


# --------------------------------------------------------------------------- keys


class Keys:
    """The sample's demo identities, by name, and which one a department signs with at a time."""

    def __init__(self, ds: Dataset, seed: int, origin: str = ORIGIN) -> None:
        self.seed = seed
        self.origin = origin
        self.log = note.new_ed25519_signer(origin, demo_key(seed, "log:" + origin))
        self.ids: dict[str, SigningIdentity] = {}
        self.root = self._add(f"{OFFICE}-root-demo", OFFICE, "root")
        self.departments = [d.id for d in ds.jurisdiction.departments]
        for d in self.departments:
            self._add(f"{d}-op-demo-2025", d, "operator")
            self._add(f"{d}-head-demo", d, "head")
        self._add(ROTATE[1], OFFICE, "operator")
        self._add(REVOKE[1], "culture", "operator")

    def _add(self, name: str, department: str, role: str) -> SigningIdentity:
        ident = SigningIdentity(name, department, role, demo_key(self.seed, name), demo=True)
        self.ids[name] = ident
        return ident

    def operator(self, department: str, time: str) -> SigningIdentity:
        if department == OFFICE and time >= ROTATE[2]:
            return self.ids[ROTATE[1]]
        if department == "culture" and time >= REVOKE[2]:
            return self.ids[REVOKE[1]]
        return self.ids[f"{department}-op-demo-2025"]

    def head(self, department: str) -> SigningIdentity:
        return self.ids[f"{department}-head-demo"]

    def write_files(self, directory: Path) -> list[str]:
        """Encrypted key files (DEMO ONLY; passphrase :data:`DEMO_PASSPHRASE`) and a README."""
        directory.mkdir(parents=True, exist_ok=True)
        names = []
        log_ident = SigningIdentity(self.origin, OFFICE, "log", demo_key(self.seed, "log:" + self.origin), demo=True)
        for ident in [log_ident, *self.ids.values()]:
            fname = "log-demo.key" if ident is log_ident else ident.name + ".key"
            write_key_file(directory / fname, ident, DEMO_PASSPHRASE.encode())
            names.append(fname)
        (directory / "README.md").write_text(_KEYS_README.format(passphrase=DEMO_PASSPHRASE, origin=self.origin),
                                             encoding="utf-8")
        return names


_KEYS_README = """# DEMO KEYS — 示例密钥，仅供演示

**These keys sign the fictional sample ledger in `data/ledger/`. They are DEMO ONLY and public:**
every private key is derived from the demo seed (`SHA-256("sunshine-demo/<seed>/key/<name>")`, see
`generator/sunshine/demo_ledger.py`), so anyone can sign as them. Never register them in a real ledger.

The files are encrypted with the published passphrase `{passphrase}` (set `SUNSHINE_PASSPHRASE={passphrase}`
to try the CLI on the sample, e.g. `sunshine draw status 2026-10`). They are rewritten with a new salt
every time `sunshine demo-data` runs, so they are excluded from the byte-for-byte determinism check.

The log key (`log-demo.key`, role `log`, key name `{origin}`) signs the checkpoints; `amr-root-demo`
is the office's root key; each department has an operator key (`<dept>-op-demo-2025`) and a head key
(`<dept>-head-demo`). `amr-op-demo-2025` was rotated to `amr-op-demo-2026` on 2026-01-05 and
`culture-op-demo-2025` was revoked on 2025-09-30 (replaced by `culture-op-demo-2025b`).
"""


# --------------------------------------------------------------------------- the schedule


@dataclass
class _TaskPlan:
    task: Task
    drand_round: int | None
    attempts: int  # 2 for the voided-then-recommitted task


def _randomness_plan(seed: int, tp: _TaskPlan, attempt: int) -> tuple[RandomnessPlan, list, list]:
    """(plan, secrets revealed with the randomness, secrets held back for the list)."""
    t = tp.task
    if tp.drand_round is not None:
        return RandomnessPlan(drand_round=tp.drand_round), [], []
    depts = list(t.departments)
    if attempt == 0 and tp.attempts == 2:
        depts = [t.lead]  # the voided commitment forgot the participants' contributions
    contributions, now, held = [], [], []
    for d in depts:
        s = demo_secret(seed, t.id, d, attempt)
        mode = "with_list" if (t.notice.value == "no_notice" and d == t.lead) else "with_randomness"
        contributions.append((d, beacon.contribution_commitment(t.id, d, s), mode))
        (held if mode == "with_list" else now).append((d, s))
    return RandomnessPlan(drand_round=None, contributions=tuple(contributions)), now, held


def _task_plans(ds: Dataset) -> list[_TaskPlan]:
    rounds = list(REAL_ROUNDS)
    out = []
    for t in sorted(ds.tasks(), key=lambda t: (t.draw_date, t.id)):
        r = None
        if t.draw_date == date(2026, 9, 8) and rounds:
            r = rounds.pop(0)
        out.append(_TaskPlan(t, r, 2 if t.id == VOID_TASK else 1))
    return out


def build(out: str | Path, ds: Dataset, seed: int = demo.DEFAULT_SEED, *, progress: Callable[[str], None] = lambda m: None,
          write_keys: bool = True, origin: str = ORIGIN) -> dict:
    """Build ``<out>/ledger`` (and ``<out>/results/*.csv``, ``<out>/demo-keys``) for the sample *ds*.

    The ledger is built in ``ledger.tmp`` and renamed over the old one. Returns a summary dict.
    """
    out = Path(out)
    keys = Keys(ds, seed, origin)
    plans = _task_plans(ds)
    progress(f"drawing {len(plans)} tasks (first pass: selections)")
    selections = _run(out / "ledger.pass1", ds, keys, plans, seed, results=None, progress=progress)
    results = demo.make_results(ds, selections, seed, until=AS_OF)
    progress(f"{len(results)} results; building the ledger")
    again = _run(out / "ledger.tmp", ds, keys, plans, seed, results=results, progress=progress)
    if again != selections:  # pragma: no cover - the ceremony is deterministic
        raise AssertionError("the second pass drew differently")
    shutil.rmtree(out / "ledger.pass1")
    if (out / "ledger").exists():
        shutil.rmtree(out / "ledger")
    os.replace(out / "ledger.tmp", out / "ledger")
    for old in (out / "results").glob("*.csv") if (out / "results").exists() else ():
        old.unlink()
    written = demo.write_results(str(out), ds, results)
    if write_keys:
        if (out / "demo-keys").exists():
            shutil.rmtree(out / "demo-keys")
        keys.write_files(out / "demo-keys")
    from .ledger_store import Ledger

    size = Ledger.open(out / "ledger").size
    return {"entries": size, "results": len(results), "files": written, "tasks": len(selections)}


def standin_selections(ds: Dataset, seed: int, *, progress: Callable[[str], None] = lambda m: None) -> dict[str, list[str]]:
    """Selections for ``demo-data --no-ledger`` (benchmark-scale data): a documented STAND-IN.

    The same pool as a real commitment (:func:`sunshine.draw_inputs.build_commitment`: the scope,
    the items' target kinds, the registration statuses, the annual cap counted over the tasks drawn
    before, the first matching stratum) and the same sample size per stratum, but the members are
    picked with ``random.Random`` seeded from the seed and the task id instead of tickets: no
    commitment, no drand, no inspector matching, no ledger. The results made from these selections
    are marked as stand-ins in the data README. Deterministic in *seed*.

    Fast at a million targets: the directory is indexed once by division and by industry code, each
    distinct (scope, kinds, strata) shape is resolved to its per-stratum candidate lists once (a
    target's stratum looked up once per credit class and flags), and a task only subtracts the targets
    at the annual cap, which each shape counts incrementally (the codes that reached the cap since it
    last looked, per division). tests/test_demo_standin.py compares it with a whole-directory scan.
    """
    import functools
    import itertools
    import random
    from collections import Counter

    from .draw_inputs import _stratum_for

    cap = ds.jurisdiction.settings.max_checks_per_target_per_year
    targets = ds.targets
    by_division: dict[str, list[int]] = {}
    by_industry: dict[str, list[int]] = {}
    division_of: dict[str, str] = {}
    for n, t in enumerate(targets):
        by_division.setdefault(t.division, []).append(n)
        division_of[t.code] = t.division
        for ind in set(t.industries):
            by_industry.setdefault(ind, []).append(n)

    @functools.lru_cache(maxsize=None)
    def candidates(divisions: tuple[str, ...], industries: tuple[str, ...]) -> list[int] | range:
        """Directory positions that may match a scope with these prefixes (a superset; ascending)."""
        if not divisions and not industries:
            return range(len(targets))
        div = [ns for d, ns in by_division.items() if d.startswith(divisions)] if divisions else None
        ind = [ns for i, ns in by_industry.items() if i.startswith(industries)] if industries else None
        if ind is None:  # a target has one division: the lists are disjoint
            return sorted(itertools.chain.from_iterable(div))
        if div is None:
            return sorted(set(itertools.chain.from_iterable(ind)))
        small, large = sorted((div, ind), key=lambda ls: sum(map(len, ls)))
        keep = set(itertools.chain.from_iterable(small))
        return sorted({n for ns in large for n in ns if n in keep})

    shapes: dict[tuple, tuple[dict[str, list[str]], dict[str, str]]] = {}
    checks: dict[int, dict[str, int]] = {}  # year -> code -> tasks drawn before that selected it
    at_cap: dict[int, set[str]] = {}  # year -> codes selected *cap* times already
    # year -> division -> the codes of at_cap[year] in the order they reached the cap; a shape counts
    # its members at the cap incrementally: per (shape, year), how far it has read each division's list
    capped_by_div: dict[int, dict[str, list[str]]] = {}
    seen: dict[tuple, tuple[dict[str, int], Counter]] = {}
    selections: dict[str, list[str]] = {}
    for tp in _task_plans(ds):
        t = tp.task
        items = ds.items.in_force(t.draw_date) or ds.items.current
        kinds = frozenset(k for iid in t.items for k in items.item(iid).target_kinds)
        key = (t.scope, kinds, t.strata)
        shape = shapes.get(key)
        if shape is None:
            per_stratum: dict[str, list[str]] = {s.id: [] for s in t.strata}
            stratum_of: dict[str, str] = {}
            scope = t.scope
            only = t.strata[0].id if t.strata and t.strata[0].remainder else None  # one stratum takes all
            ok_kinds = kinds & set(scope.kinds) if scope.kinds else kinds
            statuses = frozenset(scope.statuses)
            by_profile: dict[tuple, str | None] = {}  # (credit class, flags) -> stratum id: all _stratum_for reads
            for n in candidates(scope.divisions, scope.industries):  # exact on divisions and industries
                tg = targets[n]
                if tg.kind in ok_kinds and (not statuses or tg.status in statuses):
                    sid = only
                    if sid is None:
                        profile = (tg.credit_class, tg.flags)
                        if profile in by_profile:
                            sid = by_profile[profile]
                        else:
                            s = _stratum_for(tg, t.strata)
                            sid = by_profile[profile] = None if s is None else s.id
                        if sid is None:
                            continue
                    per_stratum[sid].append(tg.code)
                    stratum_of[tg.code] = sid
            shape = shapes[key] = (per_stratum, stratum_of)
        per_stratum, stratum_of = shape
        full = at_cap.setdefault(t.year, set())
        counts = checks.setdefault(t.year, {})
        lists = capped_by_div.setdefault(t.year, {})
        state = seen.get((key, t.year))
        if state is None:
            state = seen[(key, t.year)] = ({}, Counter())
        read, capped_in = state
        for div, codes in lists.items():  # the members that reached the cap since this shape last looked
            if t.scope.divisions and not div.startswith(t.scope.divisions):
                continue
            start = read.get(div, 0)
            for c in codes[start:]:
                sid = stratum_of.get(c)
                if sid is not None:
                    capped_in[sid] += 1
            read[div] = len(codes)
        rng = random.Random(f"sunshine-demo/{seed}/standin/{t.id}")
        chosen: list[str] = []
        for s in t.strata:
            members = per_stratum[s.id]
            capped = capped_in[s.id]
            k = s.sample_size(len(members) - capped)
            picked = [c for c in rng.sample(members, min(len(members), k + capped)) if c not in full]
            chosen += picked[:k]
        for c in chosen:
            counts[c] = counts.get(c, 0) + 1
            if counts[c] >= cap and c not in full:
                full.add(c)
                lists.setdefault(division_of[c], []).append(c)
        selections[t.id] = chosen
        progress(f"task {t.id}: {len(chosen)} targets (stand-in selection)")
    return selections


STANDIN_NOTE = """
## Results: STAND-IN selections (`--no-ledger`)

This directory was written with `sunshine demo-data --no-ledger`: there is **no ledger**, and the results
in `results/` belong to **stand-in selections** (`sunshine.demo_ledger.standin_selections`: the real
pools and sample sizes, members picked with a generator seeded from the demo seed instead of tickets, without
commitments, drand, inspector matching or any signed entry). They exist to give benchmark-scale data realistic results; nothing here is a verifiable draw.
"""


def _run(path: Path, ds: Dataset, keys: Keys, plans: list[_TaskPlan], seed: int, *, results,
         progress) -> dict[str, list[str]]:
    """Run the whole story into a new ledger at *path*; returns task → locked selection (after replacements)."""
    from .ledger_store import Ledger

    if path.exists():
        shutil.rmtree(path)
    genesis = {
        "jurisdiction": ds.jurisdiction.id,
        "name": f"{ds.jurisdiction.name}（示例数据，虚构）",
        "office": OFFICE,
        "departments": [{"id": d.id, "name": d.name} for d in ds.jurisdiction.departments],
        "keys": [keys.root.record()],
        "settings": {"publish_within_workdays": ds.jurisdiction.settings.publish_within_workdays},
    }
    led = Ledger.create(path, keys.origin, keys.log, genesis, "2025-01-02T01:00:00Z", sync=False)
    cer = Ceremony(led)
    root = keys.root
    events: list[tuple[str, int, str, Callable[[], None]]] = []  # (time, priority, label, action)

    def at(time: str, label: str, action: Callable[[], None], prio: int = 5) -> None:
        events.append((time, prio, label, action))

    # keys
    minute = 0
    for d in keys.departments:
        for name in (f"{d}-op-demo-2025", f"{d}-head-demo"):
            minute += 1
            ident = keys.ids[name]
            at(f"2025-01-02T01:{minute:02d}:00Z", "key", lambda i=ident: led.append("key.register", {"key": i.record()}, root,
                                                                                 _now[0]), 0)
    at(ROTATE[2], "rotate", lambda: led.append("key.rotate", {"old": ROTATE[0], "key": keys.ids[ROTATE[1]].record()},
                                               root, _now[0]), 0)
    at(REVOKE[2], "revoke", lambda: led.append_batch([
        ("key.revoke", {"name": REVOKE[0], "reason": REVOKE[3]}, root, _now[0]),
        ("key.register", {"key": keys.ids[REVOKE[1]].record()}, root, _now[0])]), 0)
    # item lists and plans
    items_doc = writing.items_doc(ds.items)
    for v in items_doc["versions"]:
        blob = canonical.encode(_jsonable(v))

        def publish_items(v=v, blob=blob):
            ref = led.put_blob(blob)
            led.append("items.publish", {"version": v["version"], "published": str(v["published"]), "items": ref},
                       keys.operator(OFFICE, _now[0]), _now[0])
        at(_t(date.fromisoformat(str(v["published"])), "02:00"), "items", publish_items, 1)
    for p in ds.plans:
        doc = writing.plan_doc(p)
        for v, mv in zip(doc["versions"], p.versions):
            blob = canonical.encode(_jsonable({"year": doc["year"], "title": doc["title"], **v}))

            def publish_plan(p=p, mv=mv, blob=blob):
                ref = led.put_blob(blob)
                led.append("plan.publish", {
                    "year": p.year, "version": mv.version, "published": mv.published.isoformat(), "plan": ref,
                    "tasks": [{"id": t.id, "lead": t.lead, "participants": list(t.participants)} for t in mv.tasks],
                }, keys.operator(OFFICE, _now[0]), _now[0])
            at(_t(mv.published, "02:30"), "plan", publish_plan, 1)

    selections: dict[str, list[str]] = {}
    done: list[str] = []  # tasks drawn so far, for the annual cap
    openings: dict[str, dict | None] = {}
    held_secrets: dict[str, list] = {}

    def ds_for_commit() -> Dataset:
        # The annual cap (draw_inputs.checks_this_year) counts, per target, the other tasks of the year with
        # a result for it. At commit time the earlier tasks' targets are drawn but mostly not yet inspected:
        # each counts as checked (a placeholder record per drawn target; only task and target are read).
        return replace(ds, results=tuple(
            Result(task=t, target=code, department=ds.task(t).lead, items=(), inspection_end=ds.task(t).start,
                   entered=ds.task(t).start, published=ds.task(t).start, approver_role=ApproverRole.DEPUTY_HEAD)
            for t in done for code in selections[t])) if done else ds

    for tp in plans:
        t = tp.task
        D = t.draw_date
        if tp.drand_round is not None:
            commit_times = [_t(D - timedelta(days=1), "08:00")]
            reveal_time = _t(D, "01:30")
        elif tp.attempts == 2:
            commit_times = [_t(_weekday_before(D, 2), "07:00"), _t(_weekday_before(D, 1), "07:00")]
            reveal_time = _t(D, "02:00")
        else:
            commit_times = [_t(_weekday_before(D, 1), "07:00")]
            reveal_time = _t(D, "02:00")
        for attempt, ct in enumerate(commit_times):
            def do_commit(tp=tp, t=t, attempt=attempt):
                plan, now, held = _randomness_plan(seed, tp, attempt)
                progress(f"task {t.id}: commit")
                _e, bundle = cer.commit(ds_for_commit(), t.id, signer=keys.operator(t.lead, _now[0]), time=_now[0],
                                        plan=plan, office_signer=keys.operator(OFFICE, _now[0]),
                                        sealing_key=sealing_key(seed, t.id))
                openings[t.id] = bundle.opening
                held_secrets[t.id] = (now, held)
            at(ct, f"commit {t.id}", do_commit)
            if attempt == 0 and tp.attempts == 2:
                at(_t(_weekday_before(D, 1), "01:30"), f"void {t.id}", lambda t=t: cer.void(
                    t.id, reason="承诺时遗漏参与部门的随机数贡献，作废本次承诺后重新承诺",
                    signer=keys.operator(t.lead, _now[0]), time=_now[0]))

        def do_reveal(tp=tp, t=t):
            now, held = held_secrets[t.id]
            progress(f"task {t.id}: reveal and lock")
            r = cer.reveal(t.id, signer=keys.operator(t.lead, _now[0]), time=_now[0],
                           beacon_text=real_beacon(tp.drand_round) if tp.drand_round else None,
                           contributions=now, withheld=held, opening=openings[t.id])
            selections[t.id] = list(r.outcome.selected)
            done.append(t.id)
        at(reveal_time, f"reveal {t.id}", do_reveal)
        at(_t(D, "07:30"), f"dispatch {t.id}", lambda t=t: cer.dispatch(
            t.id, signer=keys.operator(t.lead, _now[0]), time=_now[0], day=t.draw_date))
        if t.id in INSPECTOR_REPLACEMENTS:
            def do_rep_insp(t=t):
                o = cer.outcome(t.id, opening=openings[t.id], withheld=held_secrets[t.id][1])
                target = o.selected[0]
                team = o.state.teams[target]
                who = team.officers[-1]
                dept = o.state.by_id[who]["department"]
                cer.replace_inspector(t.id, target, who, reason="post_change", approver="deputy_head",
                                      signer=keys.operator(dept, _now[0]), time=_now[0], opening=openings[t.id],
                                      withheld=held_secrets[t.id][1])
            at(_t(_weekday_after(t.start, 1), "03:00"), f"replace inspector {t.id}", do_rep_insp)
        if t.id in TARGET_REPLACEMENTS:
            def do_rep_target(t=t):
                o = cer.outcome(t.id, opening=openings[t.id], withheld=held_secrets[t.id][1])
                target = o.selected[min(2, len(o.selected) - 1)]
                cer.replace_target(t.id, target, reason="deregistered", approver="deputy_head",
                                   signer=keys.operator(t.lead, _now[0]), time=_now[0], opening=openings[t.id],
                                   withheld=held_secrets[t.id][1])
                selections[t.id] = current_selection(cer.outcome(t.id, opening=openings[t.id],
                                                                 withheld=held_secrets[t.id][1]))
            at(_t(_weekday_after(t.start, 2), "02:00"), f"replace target {t.id}", do_rep_target)

    # results (second pass)
    first_result: dict[str, str] = {}
    if results:
        for r in results:
            hhmm = _result_hhmm(r)
            time = _t(r.published, hhmm)
            first_result[r.task] = min(first_result.get(r.task, time), time)
            at(time, f"result {r.task} {r.target} {r.department} {r.version}", r, 6)
    for tp in plans:
        t = tp.task
        if t.notice.value != "no_notice":
            continue
        lr_time = _t(t.end, "09:00")
        if t.id in first_result and first_result[t.id] <= lr_time:
            lr_time = _minus_minute(first_result[t.id])
        if lr_time[:10] > AS_OF.isoformat():
            continue
        at(lr_time, f"list reveal {t.id}", lambda t=t: cer.list_reveal(
            t.id, signer=keys.operator(t.lead, _now[0]), time=_now[0], secrets=held_secrets[t.id][1],
            opening=openings[t.id]), 4)

    _now = [""]
    day: list[tuple] = []  # one day's result publications: appended together under one checkpoint

    def flush() -> None:
        if day:
            led.append_batch(day)
            day.clear()

    for time, _prio, _label, action in sorted(events, key=lambda x: (x[0], x[1], x[2])):
        if time[:10] > AS_OF.isoformat():
            continue
        if isinstance(action, Result):
            if day and day[-1][3][:10] != time[:10]:
                flush()
            day.append(_result_item(keys, action, time))
            continue
        flush()
        _now[0] = time
        action()
    flush()
    return {t: sel for t, sel in selections.items()}


def _minus_minute(time: str) -> str:
    dt = datetime.strptime(time, "%Y-%m-%dT%H:%M:%SZ") - timedelta(minutes=1)
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def _result_hhmm(r: Result) -> str:
    h = hashlib.sha256(f"{r.task}/{r.target}/{r.department}/{r.version}".encode()).digest()
    minutes = 2 * 60 + h[0] % 240  # 10:00–14:00 Beijing
    if r.version > 1:
        minutes = 6 * 60 + h[1] % 60
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def result_body(r: Result) -> dict:
    body = {
        "task": r.task,
        "target": r.target,
        "department": r.department,
        "version": r.version,
        "inspection_end": r.inspection_end.isoformat(),
        "published": r.published.isoformat(),
        "approver_role": r.approver_role.value,
        "items": [{"item": ir.item, "codes": [c.value for c in ir.codes],
                   "sub_codes": [c.value for c in ir.sub_codes]} for ir in r.items],
    }
    if r.version > 1:
        body["reason"] = r.correction_reason
    return body


def _result_item(keys: Keys, r: Result, time: str) -> tuple:
    """``(type, body, signer, time)``: results by the department's operator, corrections by its head."""
    if r.version > 1:
        return ("result.correct", result_body(r), keys.head(r.department), time)
    return ("result.publish", result_body(r), keys.operator(r.department, time), time)
