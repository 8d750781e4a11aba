"""``sunshine draw …``: the operator's draw ceremony, each step a signed ledger entry.

Guide: ``docs/draw-ceremony.md``; rules: ``docs/spec/draw.md``. The steps and their preconditions are
in :mod:`sunshine.ceremony`; this module reads the files, the clock (``--time`` overrides it) and the
key files (passphrase from ``$SUNSHINE_PASSPHRASE`` or a prompt), and prints progress on stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from .. import beacon
from ..errors import FormatError, KeyFileError, LedgerError, PolicyError
from ..vocabulary import ApproverRole, ReplacementReason, TargetReplacementReason
from .keys import DEFAULT_LEDGER, entry_time, load_identity, open_ledger

DEFAULT_DELAY_MINUTES = 30


def _progress(msg: str) -> None:
    print(f"… {msg}", file=sys.stderr, flush=True)


def _common(p: argparse.ArgumentParser, *, key_help: str) -> None:
    p.add_argument("task", help="the task id, e.g. 2026-03 (as in the published plan)")
    p.add_argument("--ledger", default=DEFAULT_LEDGER, metavar="DIR", help=f"the ledger directory (default: {DEFAULT_LEDGER})")
    p.add_argument("--key", required=True, metavar="FILE", help=key_help)
    p.add_argument("--log-key", required=True, metavar="FILE", help="the log's key file (role 'log'): signs the new checkpoint")
    p.add_argument("--time", metavar="TIME",
                   help="entry time YYYY-MM-DDTHH:MM:SSZ (default: now, UTC); for back-filled records and tests")


def _secrets_arg(p: argparse.ArgumentParser, help_text: str) -> None:
    p.add_argument("--secret", action="append", default=[], metavar="DEPT=FILE", help=help_text)


def _opening_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--opening", metavar="FILE",
                   help="the opening file of a task with sealed strata (written by `draw commit --opening-out`; "
                        "kept by the lead department, never published)")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "draw",
        help="the draw ceremony: commit, reveal, dispatch, replace, void, status",
        description=("The operator's steps of a 双随机 draw, each a signed ledger entry (docs/draw-ceremony.md). "
                     "Steps out of order are refused: a second live commitment, a reveal before the drand round "
                     "exists, any change after the lock except the listed replacements, dispatch before the lock."),
    )
    sub = p.add_subparsers(dest="draw_command", metavar="STEP", required=True)

    s = sub.add_parser("secret", help="create a department's contribution secret and print its commitment",
                       description="Write a new random 32-byte secret (hex) to FILE (mode 0600, never overwritten) "
                                   "and print the commitment to pass to `draw commit --contribution`. The "
                                   "department keeps FILE until the reveal.")
    s.add_argument("task", help="the task id")
    s.add_argument("--department", required=True, help="the contributing department's id (lead or participant)")
    s.add_argument("--out", required=True, metavar="FILE", help="where to write the secret (outside the repository)")
    s.set_defaults(func=run_secret)

    c = sub.add_parser("commit", help="commit to the pool, strata, inspectors and a future randomness source",
                       description=("Build the commitment from the data directory (sunshine.draw_inputs), record a "
                                    "directory.snapshot first when the directories changed since the last one, and "
                                    "append draw.commit. Shows the drand round and the earliest reveal time."))
    _common(c, key_help="the lead department's head or operator key file")
    c.add_argument("--data", default="data", metavar="DIR", help="the data directory (default: data)")
    src = c.add_mutually_exclusive_group()
    src.add_argument("--round", type=int, metavar="R", help="the drand quicknet round to use (must be in the future)")
    src.add_argument("--delay", type=int, metavar="MINUTES",
                     help=f"use the first quicknet round at least MINUTES after the commit time "
                          f"(default: {DEFAULT_DELAY_MINUTES})")
    src.add_argument("--no-beacon", action="store_true",
                     help="no drand round (contributions only; weaker, shown as such: docs/spec/draw.md §3.5)")
    c.add_argument("--contribution", action="append", default=[], metavar="DEPT=HEX[:with_list]",
                   help="a department's contribution commitment (from `draw secret`); ':with_list' reveals it with "
                        "the list (required for a no-notice task); repeatable")
    c.add_argument("--lottery", action="append", default=[], metavar="NAME",
                   help="a public lottery draw named in advance, e.g. '中国福利彩票双色球 2026102期'; repeatable")
    c.add_argument("--office-key", metavar="FILE",
                   help="the office's key file, needed when the directories changed and a directory.snapshot is due")
    c.add_argument("--sealing-key", metavar="FILE",
                   help="file with the lead department's secret sealing key (≥ 32 bytes) for sealed strata")
    c.add_argument("--opening-out", metavar="FILE",
                   help="where to write the opening file of sealed strata (for oversight bodies; never published)")
    c.add_argument("--cap-override", action="append", default=[], metavar="CODE=REASON",
                   help="keep a target at the annual cap in the pool, with the recorded reason; repeatable")
    c.set_defaults(func=run_commit)

    r = sub.add_parser("reveal", help="reveal the randomness and lock the outcome",
                       description=("Append draw.randomness (the beacon verbatim, lottery numbers, contribution "
                                    "secrets) and draw.lock (the outcome's address) together. Refused before the "
                                    "drand round's time. For a no-notice task the outcome is written to "
                                    "--outcome-out and withheld from the ledger until `draw list-reveal`."))
    _common(r, key_help="the lead department's head or operator key file")
    r.add_argument("--beacon", metavar="FILE", help="the drand beacon JSON of the committed round (`sunshine beacon fetch`)")
    _secrets_arg(r, "a contribution secret file (from `draw secret`); repeatable. For a no-notice task the "
                    "with_list secret is used to compute the lock but not published")
    r.add_argument("--lottery", action="append", default=[], metavar="NAME=NUMBERS",
                   help="a named lottery's result, groups separated by '/', numbers by ',' (e.g. '双色球 2026102期="
                        "2,5,8,10,12,33/9'); repeatable, in commitment order")
    _opening_arg(r)
    r.add_argument("--outcome-out", metavar="FILE", help="no-notice task: where to keep the withheld outcome document")
    r.set_defaults(func=run_reveal)

    d = sub.add_parser("dispatch", help="record that the locked list was dispatched to the inspection groups",
                       description="Append draw.dispatch (only after the lock).")
    _common(d, key_help="the lead department's head or operator key file")
    d.add_argument("--date", metavar="YYYY-MM-DD", help="dispatch date (default: the date of the entry time, Beijing)")
    d.set_defaults(func=run_dispatch)

    lr = sub.add_parser("list-reveal", help="no-notice task: reveal the held-back secret and publish the list",
                        description="After the inspection of a no-notice (不宜告知) task: append draw.list_reveal with "
                                    "the with_list secret(s) and publish the outcome document.")
    _common(lr, key_help="the lead department's head or operator key file")
    _secrets_arg(lr, "the with_list contribution secret file(s) (DEPT=FILE); repeatable")
    _opening_arg(lr)
    lr.set_defaults(func=run_list_reveal)

    rt = sub.add_parser("replace-target", help="replace a drawn target by the next one of its stratum's queue",
                        description="A drawn target found deregistered, revoked, moved out or out of scope is replaced "
                                    "by the next unused entry of its stratum's recorded queue (no new draw).")
    _common(rt, key_help="the lead department's head or operator key file")
    rt.add_argument("target", help="the drawn target's code")
    rt.add_argument("--reason", required=True, choices=TargetReplacementReason.keys(),
                    help="why: " + ", ".join(f"{m.value} ({m.label})" for m in TargetReplacementReason))
    rt.add_argument("--approver", required=True, choices=ApproverRole.keys(),
                    help="who approved: " + ", ".join(f"{m.value} ({m.label})" for m in ApproverRole))
    _opening_arg(rt)
    _secrets_arg(rt, "no-notice task before the list reveal: the with_list secret file(s) (DEPT=FILE)")
    rt.set_defaults(func=run_replace_target)

    ri = sub.add_parser("replace-inspector", help="replace an inspector by the next eligible one of the same ranking",
                        description="Replace a group member for a listed reason, approved by the 分管负责人 "
                                    "(deputy_head); signed by the inspector's department. No new draw.")
    _common(ri, key_help="the inspector's department's head or operator key file")
    ri.add_argument("target", help="the target whose group changes")
    ri.add_argument("inspector", help="the inspector id to replace")
    ri.add_argument("--reason", required=True, choices=ReplacementReason.keys(),
                    help="why: " + ", ".join(f"{m.value} ({m.label})" for m in ReplacementReason))
    ri.add_argument("--approver", required=True, choices=ApproverRole.keys(),
                    help="who approved (must be deputy_head, 分管负责人)")
    _opening_arg(ri)
    _secrets_arg(ri, "no-notice task before the list reveal: the with_list secret file(s) (DEPT=FILE)")
    ri.set_defaults(func=run_replace_inspector)

    v = sub.add_parser("void", help="abandon a commitment visibly (only before its randomness is revealed)",
                       description="Append draw.void with a published reason; the task may then be committed again "
                                   "(naming a later round). Refused once the randomness is in the ledger.")
    _common(v, key_help="the lead department's head or operator key file")
    v.add_argument("--reason", required=True, help="why the commitment is abandoned (published)")
    v.set_defaults(func=run_void)

    st = sub.add_parser("status", help="show a task's draw state", description="Print the task's draw state as the "
                        "ledger shows it: commitment, round and earliest reveal time, lock, dispatch, replacements.")
    st.add_argument("task", help="the task id")
    st.add_argument("--ledger", default=DEFAULT_LEDGER, metavar="DIR", help=f"the ledger directory (default: {DEFAULT_LEDGER})")
    st.add_argument("--json", action="store_true", help="print JSON")
    st.set_defaults(func=run_status)


# ------------------------------------------------------------------ helpers


def _ceremony(args):
    from ..ceremony import Ceremony

    led = open_ledger(args.ledger, args.log_key)
    return Ceremony(led, progress=_progress)


def _read_secret(spec: str) -> tuple[str, bytes]:
    dept, sep, path = spec.partition("=")
    if not sep or not dept or not path:
        raise FormatError(f"--secret: expected DEPT=FILE, got {spec!r}")
    try:
        text = Path(path).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyFileError(f"--secret {path}: cannot read the secret file ({getattr(exc, 'strerror', exc)})") from None
    try:
        secret = bytes.fromhex(text)
    except ValueError:
        secret = b""
    if len(secret) != 32:
        raise FormatError(f"--secret {path}: expected 64 hex digits (a 32-byte secret), got {len(text)} characters")
    return dept, secret


def _read_json_file(path: str, what: str) -> dict:
    try:
        obj = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise LedgerError(f"{what} {path}: {exc.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FormatError(f"{what} {path}: expected a JSON file, got unparsable data ({exc})") from None
    if not isinstance(obj, dict):
        raise FormatError(f"{what} {path}: expected a JSON object, got {type(obj).__name__}")
    return obj


def _opening(args) -> dict | None:
    return _read_json_file(args.opening, "--opening") if getattr(args, "opening", None) else None


def _write_private(path: str, data: bytes, what: str) -> None:
    p = Path(path)
    try:
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise PolicyError(f"{what} {p}: already exists; refusing to overwrite it") from None
    except OSError as exc:
        raise LedgerError(f"{what} {p}: {exc.strerror}") from None
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def _beijing_date(time: str) -> date:
    from ..ceremony import beijing_date

    return beijing_date(time)


# ------------------------------------------------------------------ the steps


def run_secret(args) -> int:
    from ..ceremony import contribution_secret_commitment

    secret = os.urandom(32)
    _write_private(args.out, (secret.hex() + "\n").encode("ascii"), "--out")
    print(contribution_secret_commitment(args.task, args.department, secret))
    print(f"wrote the secret to {args.out}; keep it until the reveal (it is published then)", file=sys.stderr)
    return 0


def run_commit(args) -> int:
    from .. import loading
    from ..draw_inputs import RandomnessPlan

    time = entry_time(args.time)
    cer = _ceremony(args)
    signer = load_identity(args.key, "--key")
    office = load_identity(args.office_key, "--office-key") if args.office_key else None
    contributions = []
    for spec in args.contribution:
        dept, sep, rest = spec.partition("=")
        com, _, mode = rest.partition(":")
        if not sep or not dept or len(com) != 64:
            raise FormatError(f"--contribution: expected DEPT=<64 hex>[:with_list], got {spec!r}")
        contributions.append((dept, com, mode or "with_randomness"))
    if args.no_beacon:
        round_ = None
    elif args.round is not None:
        round_ = args.round
    else:
        delay = args.delay if args.delay is not None else DEFAULT_DELAY_MINUTES
        when = datetime.strptime(time, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc) + timedelta(minutes=delay)
        round_ = beacon.QUICKNET.round_at(int(when.timestamp()))
    sealing = None
    if args.sealing_key:
        try:
            sealing = Path(args.sealing_key).read_bytes()
        except OSError as exc:
            raise KeyFileError(f"--sealing-key {args.sealing_key}: {exc.strerror}") from None
    overrides = {}
    for spec in args.cap_override:
        code, sep, reason = spec.partition("=")
        if not sep or not code or not reason.strip():
            raise FormatError(f"--cap-override: expected CODE=REASON, got {spec!r}")
        overrides[code] = reason
    _progress(f"loading {args.data}")
    ds = loading.load_dataset(args.data)
    try:
        task = ds.task(args.task)
    except KeyError:
        raise PolicyError(f"task {args.task!r}: not in the plans of {args.data}") from None
    if task.uses_credit_classes and (sealing is None or not args.opening_out):
        raise PolicyError(f"task {args.task} has sealed strata (credit classes): expected --sealing-key and --opening-out",
                          hint="the opening file goes to oversight bodies only and is needed to replace targets")
    plan = RandomnessPlan(drand_round=round_, lotteries=tuple(args.lottery), contributions=tuple(contributions))
    e, bundle = cer.commit(ds, args.task, signer=signer, time=time, plan=plan, office_signer=office,
                           sealing_key=sealing, cap_overrides=overrides)
    if bundle.opening is not None:
        _write_private(args.opening_out, json.dumps(bundle.opening, ensure_ascii=False).encode("utf-8"), "--opening-out")
        _progress(f"wrote the opening file {args.opening_out} (oversight bodies only; never publish it)")
    print(f"committed task {args.task}: entry {e.seq}, pool {bundle.body['pool']['size']}, "
          f"{len(bundle.exclusions)} exclusions, sample {sum(s['sample'] for s in bundle.body['strata'])}")
    if round_ is not None:
        from ..ceremony import round_time

        print(f"randomness: drand quicknet round {round_}, produced at {round_time(beacon.QUICKNET.chain_hash, round_)}"
              f" — reveal not before then (sunshine beacon fetch {round_})")
    else:
        print("randomness: department contributions only (no public beacon); reveal when every department has "
              "handed in its secret")
    return 0


def _parse_lottery(spec: str) -> tuple[str, list[list[int]]]:
    name, sep, nums = spec.rpartition("=")
    try:
        groups = [[int(x) for x in g.split(",") if x.strip()] for g in nums.split("/")]
    except ValueError:
        groups = []
    if not sep or not name or not groups or any(not g for g in groups):
        raise FormatError(f"--lottery: expected NAME=1,2,3/4,5 (groups of numbers), got {spec!r}")
    return name, groups


def run_reveal(args) -> int:
    time = entry_time(args.time)
    cer = _ceremony(args)
    t = cer.task_draw(args.task)
    if t.commit is None:
        raise PolicyError(f"refused draw.randomness of task {args.task}: no commitment", hint="sunshine draw commit first")
    beacon_text = None
    if args.beacon:
        try:
            beacon_text = Path(args.beacon).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise FormatError(f"--beacon {args.beacon}: cannot read ({getattr(exc, 'strerror', exc)})") from None
    elif t.commit.body.get("randomness", {}).get("drand") is not None:
        rnd = t.commit.body["randomness"]["drand"]["round"]
        raise FormatError(f"--beacon: expected the beacon of drand round {rnd} (named in the commitment), got none",
                          hint=f"sunshine beacon fetch {rnd} --out FILE")
    modes = {c["department"]: c["reveal"] for c in t.commit.body.get("randomness", {}).get("contributions", [])}
    now, held = [], []
    for spec in args.secret:
        dept, secret = _read_secret(spec)
        (held if modes.get(dept) == "with_list" else now).append((dept, secret))
    signer = load_identity(args.key, "--key")
    if t.commit.body.get("notice") == "no_notice" and not args.outcome_out:
        raise PolicyError(f"task {args.task} is a no-notice task: expected --outcome-out to keep the withheld outcome")
    r = cer.reveal(args.task, signer=signer, time=time, beacon_text=beacon_text,
                   lotteries=[_parse_lottery(x) for x in args.lottery], contributions=now, withheld=held,
                   opening=_opening(args))
    if r.withheld:
        _write_private(args.outcome_out, r.outcome_bytes, "--outcome-out")
    print(f"locked task {args.task}: entries {r.randomness.seq} and {r.lock.seq}; {len(r.outcome.selected)} targets; "
          f"outcome {r.lock.body['outcome']}" + (" (withheld until the list reveal)" if r.withheld else ""))
    return 0


def run_dispatch(args) -> int:
    time = entry_time(args.time)
    cer = _ceremony(args)
    try:
        day = date.fromisoformat(args.date) if args.date else _beijing_date(time)
    except ValueError:
        raise FormatError(f"--date: expected YYYY-MM-DD, got {args.date!r}") from None
    e = cer.dispatch(args.task, signer=load_identity(args.key, "--key"), time=time, day=day)
    print(f"dispatched task {args.task}: entry {e.seq}")
    return 0


def run_list_reveal(args) -> int:
    time = entry_time(args.time)
    cer = _ceremony(args)
    secrets = [_read_secret(s) for s in args.secret]
    e = cer.list_reveal(args.task, signer=load_identity(args.key, "--key"), time=time, secrets=secrets,
                        opening=_opening(args))
    print(f"revealed the list of task {args.task}: entry {e.seq}; outcome {e.body['outcome']} published")
    return 0


def run_replace_target(args) -> int:
    time = entry_time(args.time)
    cer = _ceremony(args)
    e = cer.replace_target(args.task, args.target, reason=args.reason, approver=args.approver,
                           signer=load_identity(args.key, "--key"), time=time, opening=_opening(args),
                           withheld=[_read_secret(s) for s in args.secret])
    print(f"replaced target {args.target} of task {args.task} by {e.body['replacement']}: entry {e.seq}")
    return 0


def run_replace_inspector(args) -> int:
    time = entry_time(args.time)
    cer = _ceremony(args)
    e = cer.replace_inspector(args.task, args.target, args.inspector, reason=args.reason, approver=args.approver,
                              signer=load_identity(args.key, "--key"), time=time, opening=_opening(args),
                              withheld=[_read_secret(s) for s in args.secret])
    print(f"replaced inspector {args.inspector} for {args.target} (task {args.task}) by {e.body['replacement']}: "
          f"entry {e.seq}")
    return 0


def run_void(args) -> int:
    time = entry_time(args.time)
    cer = _ceremony(args)
    e = cer.void(args.task, reason=args.reason, signer=load_identity(args.key, "--key"), time=time)
    print(f"voided the commitment of task {args.task}: entry {e.seq}")
    return 0


def run_status(args) -> int:
    from ..ceremony import Ceremony
    from ..ledger_store import Ledger

    cer = Ceremony(Ledger.open(args.ledger))
    st = cer.status(args.task)
    if args.json:
        print(json.dumps(st, ensure_ascii=False, indent=2))
        return 0
    print(f"task {args.task}: {st['state']} ({st['commitments']} commitment(s), {st['voided']} voided, "
          f"{st['replacements']} replacement(s))")
    if "commit" in st:
        print(f"  commit      entry {st['commit']['seq']} at {st['commit']['time']} by {st['commit']['signer']}")
        if st.get("drand_round") is not None:
            print(f"  randomness  drand round {st['drand_round']}, reveal not before {st['reveal_not_before']}")
        else:
            print("  randomness  department contributions only (no public beacon)")
    for name in ("randomness", "lock", "dispatch", "list_reveal"):
        if name in st:
            print(f"  {name:<11} entry {st[name]['seq']} at {st[name]['time']}")
    if "selected_count" in st:
        print(f"  selected    {st['selected_count']} targets; outcome {st['outcome']}")
    return 0
