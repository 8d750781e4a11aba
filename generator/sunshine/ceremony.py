"""The operator's draw ceremony: each step a signed ledger entry, refused when out of order.

Normative text: ``docs/spec/draw.md`` (§1 steps, §10 bodies and ordering rules); the operator's guide
is ``docs/draw-ceremony.md``. Two halves:

* **Order rules** (pure): :class:`DrawTracker` replays the ``draw.*`` entries of a ledger and returns
  every broken rule as a plain-words message — one live commitment per task, commit → randomness →
  lock → dispatch, the randomness not before the drand round's time and the commitment before it,
  nothing but dispatch, list reveal and replacements after a lock, a void only before the randomness.
  ``sunshine.verify`` (layer 3) uses the same tracker, so the operator is refused exactly what an
  auditor would flag. :func:`replay_replacements` checks that each replacement is the one the
  recorded queue or ranking designates (spec §12 step 5).
* **Steps** (:class:`Ceremony`): ``commit``, ``reveal`` (randomness and lock, appended together),
  ``dispatch``, ``list_reveal``, ``replace_target``, ``replace_inspector``, ``void``, ``status``.
  Each checks its preconditions on the ledger's entries, builds the body with :mod:`sunshine.draw`
  and :mod:`sunshine.draw_inputs`, and calls ``Ledger.append`` (which checks signer and key validity
  again). Refusals raise :class:`PolicyError` naming the task, the state and the rule.

No clock, no OS randomness, no file I/O here: times, secrets and beacons come from the caller (the
CLI, ``commands/draw.py``, reads the clock and the files); the ledger object does the writing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Callable, Iterable

from . import beacon, canonical, draw, draw_parallel
from .draw_inputs import RandomnessPlan, build_commitment
from .errors import DrawError, FormatError, IntegrityError, PolicyError
from .vocabulary import ApproverRole, ReplacementReason, TargetReplacementReason

__all__ = [
    "TaskDraw", "DrawTracker", "Ceremony", "directory_snapshot", "round_time", "contribution_secret_commitment",
    "replay_replacements", "LIVE_STATES",
]

#: States in which a task has a live commitment (a new one is refused).
LIVE_STATES = ("committed", "randomness", "locked", "dispatched")


def _iso(unix: int) -> str:
    return datetime.fromtimestamp(unix, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def round_time(chain_hash: str, round_: int) -> str:
    """The time ``YYYY-MM-DDTHH:MM:SSZ`` at which a round of a pinned chain is produced."""
    return _iso(beacon.chain_by_hash(chain_hash).round_time(round_))


def _drand_of(commit_body: dict) -> tuple[str, int] | None:
    """(chain, round) named by a commitment body, or None (no beacon, or not a v1 body)."""
    rnd = commit_body.get("randomness") if isinstance(commit_body, dict) else None
    d = rnd.get("drand") if isinstance(rnd, dict) else None
    if isinstance(d, dict) and isinstance(d.get("chain"), str) and type(d.get("round")) is int and d["round"] >= 1:
        if d["chain"] in beacon.CHAINS:
            return d["chain"], d["round"]
    return None


def contribution_secret_commitment(task: str, department: str, secret: bytes) -> str:
    """The commitment a department publishes for its 32-byte secret (spec §3.3)."""
    if len(secret) != 32:
        raise FormatError(f"contribution of {department!r}: expected a 32-byte secret, got {len(secret)} bytes")
    return beacon.contribution_commitment(task, department, secret)


# --------------------------------------------------------------------------- order rules (pure, shared with verify)


@dataclass
class TaskDraw:
    """What the ledger says about one task's draw so far."""

    task: str
    state: str = "planned"  # planned | committed | voided | randomness | locked | dispatched
    commit: object = None  # entries.Entry (the live or last commitment)
    randomness: object = None
    lock: object = None
    dispatch: object = None
    list_reveal: object = None
    commits: int = 0
    voided: list = field(default_factory=list)  # the voided commitments' entries
    replacements: list = field(default_factory=list)  # replace_target / replace_inspector entries
    note: str = ""
    outcome: object = None  # set by a verifier that recomputed the draw (draw.DrawOutcome)


class DrawTracker:
    """Replays ``draw.*`` entries in ledger order and reports broken ordering rules.

    :meth:`check` looks at a proposed entry (type, body, time) without changing anything;
    :meth:`apply` checks and records it. Both return plain-words messages (empty: in order).
    Bodies are read defensively: an entry that only satisfies the ledger's schema never raises.
    """

    def __init__(self) -> None:
        self.tasks: dict[str, TaskDraw] = {}

    def get(self, task: str) -> TaskDraw:
        return self.tasks.get(task) or TaskDraw(task)

    def check(self, type_: str, body: dict, time: str) -> list[str]:
        task = body.get("task")
        t = self.get(task)
        st = t.state
        out: list[str] = []
        if type_ == "draw.commit":
            if st not in ("planned", "voided"):
                out.append(f"task {task}: a second commitment while one is live ({st}); void it first")
            d = _drand_of(body)
            if d is not None:
                rt = round_time(*d)
                if time >= rt:
                    out.append(f"task {task}: the commitment ({time}) names drand round {d[1]}, which exists from "
                               f"{rt}; a commitment must name a future round")
                old = _drand_of(t.voided[-1].body) if t.voided else None
                if old is not None and d[1] <= old[1]:
                    out.append(f"task {task}: after a void the new commitment must name a later round than "
                               f"{old[1]}, got {d[1]}")
        elif type_ == "draw.void":
            if st != "committed":
                out.append(f"task {task}: void in state {st!r}; only a commitment whose randomness "
                           "is not yet revealed may be voided (a later void would be a re-draw)")
        elif type_ == "draw.randomness":
            if st != "committed":
                out.append(f"task {task}: randomness in state {st!r}; expected after a commitment")
            elif t.commit is not None:
                if time <= t.commit.time:
                    out.append(f"task {task}: randomness at {time}, not after the commitment ({t.commit.time})")
                d = _drand_of(t.commit.body)
                if d is not None:
                    rt = round_time(*d)
                    if time < rt:
                        out.append(f"task {task}: randomness at {time}, before drand round {d[1]} exists ({rt})")
        elif type_ == "draw.lock":
            if st != "randomness":
                out.append(f"task {task}: lock in state {st!r}; expected after the randomness")
        elif type_ == "draw.dispatch":
            if st != "locked":
                out.append(f"task {task}: dispatch in state {st!r}; the list must be locked first")
        elif type_ == "draw.list_reveal":
            if st not in ("locked", "dispatched"):
                out.append(f"task {task}: list reveal in state {st!r}; expected after the lock")
            elif t.list_reveal is not None:
                out.append(f"task {task}: the list was already revealed (entry {t.list_reveal.seq})")
        elif type_ in ("draw.replace_target", "draw.replace_inspector"):
            if st not in ("locked", "dispatched"):
                out.append(f"task {task}: {type_} in state {st!r}; replacements come after the lock")
        return out

    def apply(self, e) -> list[str]:
        """Check entry *e* (an ``entries.Entry`` of a ``draw.*`` type) and record it."""
        msgs = self.check(e.type, e.body, e.time)
        task = e.body.get("task")
        t = self.tasks.setdefault(task, TaskDraw(task))
        if e.type == "draw.commit":
            t.state, t.commit, t.randomness, t.lock, t.dispatch, t.list_reveal = "committed", e, None, None, None, None
            t.replacements, t.note, t.outcome = [], "", None
            t.commits += 1
        elif e.type == "draw.void":
            if t.commit is not None and t.state == "committed":
                t.voided.append(t.commit)
            t.state = "voided"
        elif e.type == "draw.randomness":
            t.state, t.randomness = "randomness", e
        elif e.type == "draw.lock":
            t.state, t.lock = "locked", e
        elif e.type == "draw.dispatch":
            if t.state == "locked":
                t.state, t.dispatch = "dispatched", e
        elif e.type == "draw.list_reveal":
            if t.list_reveal is None:
                t.list_reveal = e
        elif e.type in ("draw.replace_target", "draw.replace_inspector"):
            t.replacements.append(e)
        return msgs


def _tracker(entries: Iterable) -> DrawTracker:
    tr = DrawTracker()
    for e in entries:
        if e.type.startswith("draw."):
            tr.apply(e)
    return tr


def replay_replacements(outcome: draw.DrawOutcome, replacements: Iterable) -> list[tuple[object, str]]:
    """Apply ``draw.replace_*`` entries to a recomputed outcome, in ledger order (spec §12 step 5).

    Each replacement must be the one the recorded queue (targets) or ranking (inspectors) designates
    (:func:`sunshine.draw.apply_replacement`); returns ``[(entry, message)]`` for each that is not (the
    outcome is updated with the designated one, so later entries are judged against the right state).
    """
    problems = []
    for e in replacements:
        for msg in draw.apply_replacement(outcome, e.type, e.body):
            problems.append((e, f"task {e.body.get('task')}: {msg}"))
    return problems


def current_selection(outcome: draw.DrawOutcome) -> list[str]:
    """The task's targets after replacements, in draw order (replacements appended)."""
    return [lb for lb in outcome.state.teams]


# --------------------------------------------------------------------------- directory snapshot (pure)


DIRECTORY_FORMAT = "sunshine.directory/v1"


def directory_snapshot(ds, confirmed: date) -> tuple[dict, dict[str, bytes]]:
    """The ``directory.snapshot`` body for a Dataset and the blobs it references.

    The blobs hold only what may be published: per target its code, kind and registration status;
    per inspector its id, department, kind, status and capacity (no names, certificate numbers or
    credit classes), plus ``full_sha256``, the SHA-256 of every record in full (the data files' rows,
    ``docs/data-format.md``), so that a change to any field — a credit class, a qualification, a
    certificate date — shows as a new snapshot and the office can prove which directory it confirmed.
    """
    from . import writing

    targets = sorted([t.code, t.kind.value, t.status.value] for t in ds.targets)
    inspectors = sorted([i.id, i.department, i.person_type.value, i.status.value, i.capacity] for i in ds.inspectors)
    full = {"targets": sorted(writing.target_row(t) for t in ds.targets),
            "inspectors": sorted(writing.inspector_row(i) for i in ds.inspectors)}
    blobs: dict[str, bytes] = {}
    body: dict = {"confirmed": confirmed.isoformat()}
    for name, records in (("targets", targets), ("inspectors", inspectors)):
        digest = hashlib.sha256(canonical.encode([list(r) for r in full[name]])).hexdigest()
        data = canonical.encode({"format": DIRECTORY_FORMAT, "directory": name, "records": records,
                                 "full_sha256": digest})
        ref = draw.blob_ref(data)
        blobs[ref] = data
        body[name] = {"blob": ref, "count": len(records)}
    return body, blobs


# --------------------------------------------------------------------------- the steps


@dataclass(frozen=True, slots=True)
class RevealResult:
    randomness: object  # entries.Entry
    lock: object
    outcome: draw.DrawOutcome
    outcome_bytes: bytes  # the outcome document (JCS); withheld from the ledger for no-notice tasks
    withheld: bool


Progress = Callable[[str], None]


def _quiet(_msg: str) -> None:
    pass


class Ceremony:
    """The draw steps over an open, writable ``ledger_store.Ledger``.

    ``allow_test_chain`` lets tests draw with :data:`beacon.TEST_CHAIN`; the sample and real ledgers
    never do. ``progress`` receives short status lines (the CLI prints them on stderr).
    """

    def __init__(self, ledger, *, allow_test_chain: bool = False, progress: Progress = _quiet) -> None:
        self.ledger = ledger
        self.allow_test_chain = allow_test_chain
        self.progress = progress
        self._snapshot_cache = None  # (key, (body, blobs), the objects the key's ids belong to)

    # ------------------------------------------------------------------ reading

    def tracker(self) -> DrawTracker:
        return _tracker(self.ledger.entries())

    def task_draw(self, task: str) -> TaskDraw:
        return self.tracker().get(task)

    def _refuse_if(self, msgs: list[str], step: str, hint: str | None = None) -> None:
        if msgs:
            raise PolicyError(f"refused {step}: " + "; ".join(msgs), hint=hint)

    def _check_signer(self, signer, department: str, step: str) -> None:
        if signer.department != department or signer.role not in ("head", "operator"):
            raise PolicyError(f"refused {step}: expected a head or operator key of department {department!r}, got "
                              f"{signer.name!r} ({signer.department}, {signer.role})",
                              hint="each step is signed by the key of the department the spec names (docs/spec/draw.md §10)")

    def _plan_task(self, task: str, step: str) -> dict:
        t = self.ledger.state.tasks.get(task)
        if t is None:
            raise PolicyError(f"refused {step}: task {task!r} is in no published plan (plan.publish)",
                              hint="publish the plan version that contains the task first")
        return t

    def outcome(self, task: str, *, opening: dict | None = None, withheld: Iterable[tuple[str, bytes]] = (),
                with_replacements: bool = True) -> draw.DrawOutcome:
        """The task's current outcome recomputed from the ledger (replacements replayed)."""
        t = self.task_draw(task)
        if t.randomness is None or t.state not in ("randomness", "locked", "dispatched"):
            raise PolicyError(f"task {task}: no revealed draw (state {t.state!r})")
        lr = t.list_reveal.body if t.list_reveal is not None else None
        if lr is None and withheld:
            lr = {"contributions": [{"department": d, "secret": s.hex()} for d, s in withheld]}
        o = draw_parallel.recompute(t.commit.body, t.randomness.body, self.ledger.get_blob, list_reveal=lr,
                                    opening=opening, allow_test_chain=self.allow_test_chain)
        if with_replacements:
            problems = replay_replacements(o, t.replacements)
            if problems:
                raise PolicyError(problems[0][1])
        return o

    def status(self, task: str) -> dict:
        """The task's draw state, for ``sunshine draw status`` (plain data)."""
        t = self.task_draw(task)
        out = {"task": task, "state": t.state, "commitments": t.commits, "voided": len(t.voided),
               "replacements": len(t.replacements)}
        if t.commit is not None:
            out["commit"] = {"seq": t.commit.seq, "time": t.commit.time, "signer": t.commit.signer}
            d = _drand_of(t.commit.body)
            if d is not None:
                out["drand_round"] = d[1]
                out["reveal_not_before"] = round_time(*d)
                out["test_chain"] = beacon.chain_by_hash(d[0]).test_only
            else:
                out["drand_round"] = None
            rnd = t.commit.body.get("randomness", {})
            out["contributions"] = [{"department": c.get("department"), "reveal": c.get("reveal")}
                                    for c in rnd.get("contributions", []) if isinstance(c, dict)]
            out["notice"] = t.commit.body.get("notice")
        for name in ("randomness", "lock", "dispatch", "list_reveal"):
            e = getattr(t, name)
            if e is not None:
                out[name] = {"seq": e.seq, "time": e.time}
        if t.lock is not None:
            out["selected_count"] = t.lock.body.get("selected_count")
            out["outcome"] = t.lock.body.get("outcome")
        return out

    # ------------------------------------------------------------------ directory snapshot

    def snapshot_if_changed(self, ds, *, signer, time: str, confirmed: date) -> object | None:
        """Append a ``directory.snapshot`` when the directories differ from the last snapshot."""
        key = (id(ds.targets), id(ds.inspectors), confirmed)
        if self._snapshot_cache is None or self._snapshot_cache[0] != key:
            self._snapshot_cache = (key, directory_snapshot(ds, confirmed), (ds.targets, ds.inspectors))
        body, blobs = self._snapshot_cache[1]
        last = None
        for e in self.ledger.entries():
            if e.type == "directory.snapshot":
                last = e
        if last is not None and all(last.body.get(k, {}).get("blob") == body[k]["blob"] for k in ("targets", "inspectors")):
            self.progress(f"directories unchanged since the snapshot of {last.body.get('confirmed')} (entry {last.seq})")
            return None
        if signer is None:
            raise PolicyError("refused draw.commit: the target or inspector directory changed since the last "
                              "directory.snapshot; both must be confirmed and hashed before the draw",
                              hint="pass the office's key (--office-key) to record a new directory.snapshot")
        for data in blobs.values():
            self.ledger.put_blob(data)
        e = self.ledger.append("directory.snapshot", body, signer, time)
        self.progress(f"recorded directory.snapshot (entry {e.seq}): {body['targets']['count']} targets, "
                      f"{body['inspectors']['count']} inspectors")
        return e

    # ------------------------------------------------------------------ commit

    def commit(self, ds, task_id: str, *, signer, time: str, plan: RandomnessPlan, office_signer=None,
               sealing_key: bytes | None = None, cap_overrides: dict[str, str] | None = None):
        """Record the directories (if changed) and the task's ``draw.commit``.

        Returns ``(entry, bundle)``; ``bundle.opening`` (sealed strata) must be kept by the lead
        department and never published.
        """
        step = f"draw.commit of task {task_id}"
        pt = self._plan_task(task_id, step)
        self._check_signer(signer, pt["lead"], step)
        try:
            task = ds.task(task_id)
        except KeyError:
            raise PolicyError(f"refused {step}: task {task_id!r} is not in the data's plans") from None
        if task.lead != pt["lead"] or tuple(task.participants) != tuple(pt["participants"]):
            raise PolicyError(f"refused {step}: the data's task ({task.lead}; {', '.join(task.participants) or '-'}) "
                              f"differs from the published plan ({pt['lead']}; {', '.join(pt['participants']) or '-'})")
        t = self.task_draw(task_id)
        if t.state in LIVE_STATES:
            raise PolicyError(f"refused {step}: a second commitment while one is live ({t.state}); void it first",
                              hint="only a commitment whose randomness is not yet revealed can be voided")
        if plan.drand_round is not None:
            if plan.chain.test_only and not self.allow_test_chain:
                raise PolicyError(f"refused {step}: the test chain is for tests only",
                                  hint="name a round of drand quicknet")
        self.progress(f"building the commitment of task {task_id} from the directories")
        bundle = build_commitment(ds, task, plan, as_of=task.draw_date, sealing_key=sealing_key,
                                  cap_overrides=cap_overrides)
        draw.load_commitment(bundle.body, bundle.blobs.__getitem__)  # the body as verifiers will read it
        self._refuse_if(self.tracker().check("draw.commit", bundle.body, time), step,
                        hint="name a drand round whose time is after the commitment (sunshine draw commit --round)")
        self.snapshot_if_changed(ds, signer=office_signer, time=time, confirmed=beijing_date(time))
        for data in bundle.blobs.values():
            self.ledger.put_blob(data)
        e = self.ledger.append("draw.commit", bundle.body, signer, time)
        self.progress(f"committed task {task_id} (entry {e.seq}): pool {bundle.body['pool']['size']}, "
                      f"sample {sum(s['sample'] for s in bundle.body['strata'])}")
        return e, bundle

    # ------------------------------------------------------------------ reveal (randomness + lock)

    def reveal(self, task: str, *, signer, time: str, beacon_text: str | None,
               lotteries: Iterable[tuple[str, list[list[int]]]] = (),
               contributions: Iterable[tuple[str, bytes]] = (),
               withheld: Iterable[tuple[str, bytes]] = (),
               opening: dict | None = None, store_withheld: bool = False) -> RevealResult:
        """Append ``draw.randomness`` and ``draw.lock`` together (all or nothing).

        *contributions* are the secrets revealed now (``with_randomness``); *withheld* the secrets of
        ``with_list`` contributions (no-notice tasks), used to compute the lock but not published: the
        outcome document is then returned in ``outcome_bytes`` and NOT stored in the ledger (unless
        *store_withheld*: back-filled records whose list is revealed later in the same run).
        """
        step = f"draw.randomness of task {task}"
        tr = self.tracker()
        t = tr.get(task)
        if t.state != "committed":
            raise PolicyError(f"refused {step}: task {task} is in state {t.state!r}; the randomness is revealed "
                              "once, after a commitment", hint=_STATE_HINTS.get(t.state))
        self._check_signer(signer, t.commit.body["lead"], step)
        body = draw.make_randomness_body(t.commit.body, beacon_text, lotteries=list(lotteries),
                                         contributions=list(contributions))
        self._refuse_if(tr.check("draw.randomness", body, time), step,
                        hint="wait until the round exists, then reveal (sunshine draw status shows the time)")
        withheld = list(withheld)
        lr = {"contributions": [{"department": d, "secret": s.hex()} for d, s in withheld]} if withheld else None
        self.progress("verifying the beacon and the contributions against the commitment")
        c = draw.load_commitment(t.commit.body, self.ledger.get_blob)
        values = draw.load_randomness(c, body, list_reveal=lr, allow_test_chain=self.allow_test_chain)
        self.progress(f"drawing: {c.body['pool']['size']} pool members, {len(c.strata)} strata, "
                      f"{len(c.inspectors)} inspectors")
        outcome = draw_parallel.compute(c, values, opening=opening)
        doc = canonical.encode(draw.outcome_document(outcome))
        ref = draw.blob_ref(doc)
        lock = draw.lock_body(t.commit.body, body, ref, outcome)
        withhold = c.notice == "no_notice"
        if not withhold or store_withheld:
            self.ledger.put_blob(doc)
        ents = self.ledger.append_batch([("draw.randomness", body, signer, time), ("draw.lock", lock, signer, time)])
        self.progress(f"locked task {task} (entries {ents[0].seq}-{ents[1].seq}): {len(outcome.selected)} targets"
                      + (", outcome withheld until the list reveal (no-notice task)" if withhold else ""))
        return RevealResult(ents[0], ents[1], outcome, doc, withhold)

    # ------------------------------------------------------------------ after the lock

    def dispatch(self, task: str, *, signer, time: str, day: date):
        step = f"draw.dispatch of task {task}"
        tr = self.tracker()
        t = tr.get(task)
        body = {"algorithm": draw.ALGORITHM, "task": task,
                "lock": draw.body_hash(t.lock.body) if t.lock is not None else "", "date": day.isoformat()}
        self._refuse_if(tr.check("draw.dispatch", body, time), step, hint=_STATE_HINTS.get(t.state))
        self._check_signer(signer, t.commit.body["lead"], step)
        return self.ledger.append("draw.dispatch", body, signer, time)

    def list_reveal(self, task: str, *, signer, time: str, secrets: Iterable[tuple[str, bytes]],
                    opening: dict | None = None):
        """No-notice task, after the inspection: reveal the held-back secrets and publish the outcome."""
        step = f"draw.list_reveal of task {task}"
        tr = self.tracker()
        t = tr.get(task)
        self._refuse_if(tr.check("draw.list_reveal", {"task": task}, time), step, hint=_STATE_HINTS.get(t.state))
        self._check_signer(signer, t.commit.body["lead"], step)
        if t.commit.body.get("notice") != "no_notice":
            raise PolicyError(f"refused {step}: task {task} is a notified task; its list was published with the lock")
        secrets = list(secrets)
        body = draw.list_reveal_body(t.lock.body, secrets)
        try:
            o = draw_parallel.recompute(t.commit.body, t.randomness.body, self.ledger.get_blob, list_reveal=body,
                                        opening=opening, allow_test_chain=self.allow_test_chain)
        except (DrawError, FormatError, IntegrityError) as exc:
            raise PolicyError(f"refused {step}: {exc.message}", hint=exc.hint) from None
        doc = canonical.encode(draw.outcome_document(o))
        if draw.blob_ref(doc) != t.lock.body["outcome"]:
            raise PolicyError(f"refused {step}: with these secrets the outcome is {draw.blob_ref(doc)}, but the lock "
                              f"holds {t.lock.body['outcome']}")
        self.ledger.put_blob(doc)
        return self.ledger.append("draw.list_reveal", body, signer, time)

    def replace_target(self, task: str, target: str, *, reason: str, approver: str, signer, time: str,
                       opening: dict | None = None, withheld: Iterable[tuple[str, bytes]] = ()):
        """Replace a drawn target (e.g. found deregistered) by the next unused one of its stratum's queue."""
        step = f"draw.replace_target of task {task}"
        reason = _vocab(TargetReplacementReason, reason, "--reason")
        approver = _vocab(ApproverRole, approver, "--approver")
        tr = self.tracker()
        t = tr.get(task)
        self._refuse_if(tr.check("draw.replace_target", {"task": task}, time), step, hint=_STATE_HINTS.get(t.state))
        self._check_signer(signer, t.commit.body["lead"], step)
        o = self.outcome(task, opening=opening, withheld=withheld)
        try:
            new, _team = draw.replace_target(o, target)
        except DrawError as exc:
            raise PolicyError(f"refused {step}: {exc.message}", hint=exc.hint) from None
        body = {"algorithm": draw.ALGORITHM, "task": task, "lock": draw.body_hash(t.lock.body), "target": target,
                "replacement": new, "reason": reason, "approver_role": approver}
        return self.ledger.append("draw.replace_target", body, signer, time)

    def replace_inspector(self, task: str, target: str, inspector: str, *, reason: str, approver: str, signer,
                          time: str, opening: dict | None = None, withheld: Iterable[tuple[str, bytes]] = ()):
        """Replace an inspector of a group by the next eligible one of the same ranking (no new draw)."""
        step = f"draw.replace_inspector of task {task}"
        reason = _vocab(ReplacementReason, reason, "--reason")
        approver = _vocab(ApproverRole, approver, "--approver")
        if approver != ApproverRole.DEPUTY_HEAD.value:
            raise PolicyError(f"refused {step}: expected approval by the deputy head (分管负责人, deputy_head), "
                              f"got {approver!r}")
        tr = self.tracker()
        t = tr.get(task)
        self._refuse_if(tr.check("draw.replace_inspector", {"task": task}, time), step, hint=_STATE_HINTS.get(t.state))
        o = self.outcome(task, opening=opening, withheld=withheld)
        rec = o.state.by_id.get(inspector)
        if rec is None:
            raise PolicyError(f"refused {step}: {inspector} is not in the task's inspector pool")
        self._check_signer(signer, rec["department"], step)
        before = o.state.teams.get(target)
        try:
            team = o.state.replace(target, inspector)
        except DrawError as exc:
            raise PolicyError(f"refused {step}: {exc.message}", hint=exc.hint) from None
        new = next(i for i in (*team.officers, *team.experts) if i not in (*before.officers, *before.experts))
        body = {"algorithm": draw.ALGORITHM, "task": task, "lock": draw.body_hash(t.lock.body), "target": target,
                "inspector": inspector, "replacement": new, "reason": reason, "approver_role": approver,
                "department": rec["department"]}
        return self.ledger.append("draw.replace_inspector", body, signer, time)

    def void(self, task: str, *, reason: str, signer, time: str):
        """Abandon a commitment visibly (only before its randomness exists in the ledger)."""
        step = f"draw.void of task {task}"
        if not isinstance(reason, str) or not reason.strip():
            raise PolicyError(f"refused {step}: expected a reason (published), got none")
        tr = self.tracker()
        t = tr.get(task)
        self._refuse_if(tr.check("draw.void", {"task": task}, time), step,
                        hint="after the randomness a draw stands; replacements are the only changes")
        self._check_signer(signer, t.commit.body["lead"], step)
        body = {"algorithm": draw.ALGORITHM, "task": task, "commit": draw.body_hash(t.commit.body), "reason": reason}
        return self.ledger.append("draw.void", body, signer, time)


_STATE_HINTS = {
    "planned": "commit first: sunshine draw commit TASK",
    "voided": "the commitment was voided; commit again",
    "committed": "reveal the randomness first: sunshine draw reveal TASK",
    "randomness": "the lock follows the randomness",
    "locked": "after the lock only dispatch, list reveal and replacements are allowed",
    "dispatched": "after the lock only list reveal and replacements are allowed",
}


def _vocab(cls, value: str, what: str) -> str:
    try:
        return cls.parse(value).value
    except ValueError as exc:
        raise PolicyError(f"{what}: {exc}") from None


def beijing_date(time: str) -> date:
    """The Beijing (UTC+8) calendar date of an entry time ``YYYY-MM-DDTHH:MM:SSZ``."""
    dt = datetime.strptime(time, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    return (dt + timedelta(hours=8)).date()
