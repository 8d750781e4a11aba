"""``sunshine verify [DIR]``: verify a published ledger (three layers; docs/spec/ledger.md §13).

Exit status: 0 verified, 3 policy findings only, 4 integrity failure (tampering), 1 could not run.
"""

from __future__ import annotations

import argparse
import json
import marshal
import os
import sys
import urllib.parse
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from .. import verify as verify_mod
from ..errors import FormatError, LedgerError
from ..ledger_store import DirectoryFiles
from .keys import DEFAULT_LEDGER

STATE_ENV = "SUNSHINE_STATE"
#: Below this many signatures a process pool costs more than it saves.
PARALLEL_THRESHOLD = 2000


def default_state_dir() -> Path:
    env = os.environ.get(STATE_ENV)
    if env:
        return Path(env)
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "sunshine"


def state_file(state_dir: Path, origin: str) -> Path:
    """Where the last verified checkpoint of *origin* is remembered."""
    return state_dir / "checkpoints" / urllib.parse.quote(origin, safe="")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "verify",
        help="verify a ledger: tlog proofs, signatures and chain, draw order and recomputation",
        description=(
            "Verify a ledger directory in three layers (docs/spec/ledger.md §13): 1. the C2SP checkpoint, "
            "tiles and Merkle root (works for any C2SP tlog-tiles log with --vkey --tlog-only); 2. entries, hash "
            "chain, signatures, signers and key validity, blobs, witness cosignatures; 3. draw steps in order, "
            "draws recomputed (sealed strata: the public checks, or in full with --opening), results within the "
            "working-day deadline. Remembers the last checkpoint verified "
            "per origin and reports a fork or rollback. Exit status: 0 ok, 3 rule findings only, 4 integrity "
            "failure (tampering), 1 could not run."
        ),
    )
    p.add_argument("dir", nargs="?", default=DEFAULT_LEDGER, metavar="DIR",
                   help=f"the ledger directory (default: {DEFAULT_LEDGER})")
    p.add_argument("--vkey", metavar="VKEY",
                   help="pin the log's verifier key (name+hash+base64); default: the key in the genesis entry")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--state", metavar="DIR",
                   help=f"where to remember verified checkpoints (default: ${STATE_ENV} or ~/.local/state/sunshine)")
    p.add_argument("--no-state", action="store_true", help="neither read nor update the remembered checkpoint")
    p.add_argument("--tlog-only", action="store_true",
                   help="layer 1 only: treat the entries as opaque (any C2SP tlog-tiles log; needs --vkey)")
    p.add_argument("--jobs", type=int, default=0, metavar="N",
                   help="processes for signature checks (default: one per CPU for large ledgers)")
    p.add_argument("--data", metavar="DIR",
                   help="data directory whose calendar-overrides.yaml completes the working-day calendar")
    p.add_argument("--allow-test-chain", action="store_true",
                   help="accept draws on the drand TEST chain (its secret key is public: sample data only)")
    p.add_argument("--opening", action="append", default=[], metavar="FILE",
                   help="the opening file of a task's sealed strata (oversight bodies only, as written by "
                        "'sunshine draw commit --opening-out'; its task is read from the file): that draw is then "
                        "recomputed in full instead of the public checks; may be repeated")
    p.set_defaults(func=run)


def load_opening(path) -> dict:
    """Read an opening file (docs/spec/draw.md §8): ``{"algorithm","task","members":[…]}``.

    Its commitments are checked against the ledger's ``draw.commit`` in layer 3; here only its shape."""
    from ..draw import ALGORITHM, ID_RE

    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise FormatError(f"{path}: cannot read the opening file: {exc.strerror}") from None
    try:
        o = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise FormatError(f"{path}: expected an opening file (JSON), got invalid JSON: {exc}") from None
    if not isinstance(o, dict):
        raise FormatError(f"{path}: expected an opening file (a JSON object with algorithm, task, members), "
                          f"got {type(o).__name__}")
    if o.get("algorithm") != ALGORITHM:
        raise FormatError(f"{path}: field 'algorithm': expected {ALGORITHM!r}, got {o.get('algorithm')!r}")
    if not isinstance(o.get("task"), str) or not ID_RE.fullmatch(o["task"]):
        raise FormatError(f"{path}: field 'task': expected a task id, got {o.get('task')!r}")
    if not isinstance(o.get("members"), list):
        raise FormatError(f"{path}: field 'members': expected a list of {{label, stratum, nonce}}, "
                          f"got {type(o.get('members')).__name__}")
    return o


def load_openings(paths) -> dict[str, dict]:
    """Opening files by task (one per task)."""
    out: dict[str, dict] = {}
    for path in paths:
        o = load_opening(path)
        if o["task"] in out:
            raise FormatError(f"{path}: a second opening file for task {o['task']}",
                              hint="pass one --opening per sealed task")
        out[o["task"]] = o
    return out


def _check_chunk(batch):
    return verify_mod.check_signatures_serial(batch)


def _call_marshalled(function, args):
    # A worker's results are plain values; marshal writes them about five times faster than pickle
    # (the pool would pickle them), and the bytes it makes cost next to nothing to pickle.
    return marshal.dumps(function(*args))


class _Unmarshalled:
    """The future of a :func:`_call_marshalled` call, giving the function's own value."""

    def __init__(self, future) -> None:
        self.future = future

    def result(self):
        return marshal.loads(self.future.result())

    def cancel(self) -> bool:
        return self.future.cancel()


class ParallelChecker:
    """A pool of *jobs* worker processes (one per CPU by default) for :func:`sunshine.verify.verify_files`.

    Calling it checks a batch of Ed25519 signatures (in the pool when the batch is large). ``run(function,
    *args)`` starts a call in the pool and returns its future (the function's value must be plain data:
    it comes back through :mod:`marshal`); verify hands it the strict parsing and signature checks of the
    entries, chunk by chunk (:func:`sunshine.verify.check_entries`). With one job
    there is no pool and ``run`` is ``None``: verify then does everything in this process. The pool
    starts on first use. Use as a context manager, or call :meth:`close`.
    """

    def __init__(self, jobs: int = 0) -> None:
        self.jobs = jobs or os.cpu_count() or 1
        self._pool: ProcessPoolExecutor | None = None
        self.run = self._run if self.jobs > 1 else None

    def _get_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=self.jobs)
        return self._pool

    def _run(self, function, *args):
        return _Unmarshalled(self._get_pool().submit(_call_marshalled, function, args))

    def __call__(self, batch):
        if self.jobs <= 1 or len(batch) < PARALLEL_THRESHOLD:
            return verify_mod.check_signatures_serial(batch)
        size = max(256, (len(batch) + self.jobs - 1) // self.jobs)
        futures = [self._get_pool().submit(_check_chunk, batch[i:i + size]) for i in range(0, len(batch), size)]
        return [ok for f in futures for ok in f.result()]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def parallel_checker(jobs: int = 0) -> ParallelChecker:
    return ParallelChecker(jobs)


def verify_directory(path, *, vkey=None, state_dir: Path | None = None, tlog_only=False, jobs=0, calendar=None,
                     allow_test_chain=False, openings: dict[str, dict] | None = None) -> verify_mod.Report:
    files = DirectoryFiles(path)
    if not (Path(path) / "checkpoint").exists():
        raise LedgerError(f"{path}: not a ledger directory (no checkpoint file)")
    previous = None
    remembered = None
    if state_dir is not None:
        # the origin is needed to find the state file; read it from the (not yet verified) checkpoint
        first = files.get("checkpoint", b"").split(b"\n", 1)[0].decode("ascii", "replace")
        remembered = state_file(state_dir, first)
        if remembered.is_file():
            previous = remembered.read_bytes()
    with ParallelChecker(jobs) as checker:
        rep = verify_mod.verify_files(
            files, vkey=vkey, listing=files.listing(), previous=previous, tlog_only=tlog_only,
            check_signatures=checker, calendar=calendar, allow_test_chain=allow_test_chain, openings=openings,
        )
    if remembered is not None and rep.integrity_ok and rep.origin:
        remembered.parent.mkdir(parents=True, exist_ok=True)
        tmp = remembered.with_name(remembered.name + ".tmp")
        tmp.write_bytes(files["checkpoint"])
        os.replace(tmp, remembered)
        rep.notices.append(f"remembered checkpoint size {rep.size} in {remembered}")
    return rep


def run(args: argparse.Namespace) -> int:
    if args.tlog_only and not args.vkey:
        raise LedgerError("--tlog-only needs --vkey: a generic log names no key of its own")
    calendar = None
    if args.data:
        from ..workdays import Calendar

        calendar = Calendar.from_dir(args.data)
    openings = load_openings(args.opening)
    state_dir = None if args.no_state else (Path(args.state) if args.state else default_state_dir())
    rep = verify_directory(args.dir, vkey=args.vkey, state_dir=state_dir, tlog_only=args.tlog_only,
                           jobs=args.jobs, calendar=calendar, allow_test_chain=args.allow_test_chain,
                           openings=openings)
    if args.json:
        print(json.dumps(rep.to_json(), ensure_ascii=False, indent=2))
    else:
        print(rep.to_text())
    if rep.exit_code and not args.json:
        print({3: "hint: the ledger is authentic; the findings are rules broken by signed entries",
               4: "hint: do not trust this copy; compare it with another mirror and with witness cosignatures"}
              [rep.exit_code], file=sys.stderr)
    return rep.exit_code
