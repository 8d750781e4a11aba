"""``sunshine witness cosign``: an independent body cosigns a checkpoint it has verified (tlog-cosignature/v1).

The witness remembers, per origin, the last checkpoint it cosigned (its state file) and refuses to
cosign one that is not consistent with it (docs/spec/ledger.md §14).
"""

from __future__ import annotations

import argparse
import json
import os
import time
import urllib.parse
from pathlib import Path

from .. import checkpoint as cp_mod
from .. import note
from ..errors import IntegrityError, KeyFileError
from ..ledger_store import DirectoryFiles
from ..verify import verify_files
from .keys import DEFAULT_LEDGER, load_identity
from .verify import default_state_dir, parallel_checker


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "witness",
        help="cosign a verified checkpoint as an independent witness",
        description="Witness operations (C2SP tlog-cosignature v1; docs/spec/ledger.md §14).",
    )
    sub = p.add_subparsers(dest="witness_command", metavar="ACTION", required=True)
    c = sub.add_parser(
        "cosign", help="verify a ledger and cosign its checkpoint",
        description=(
            "Verify the ledger (layers 1 and 2, with the log key pinned), check that its checkpoint is consistent "
            "with the last one this witness cosigned, then print the cosignature line and the body of a "
            "checkpoint.witness entry for the office to record (sunshine ledger append --type checkpoint.witness)."
        ),
    )
    c.add_argument("dir", nargs="?", default=DEFAULT_LEDGER, metavar="DIR",
                   help=f"the ledger directory (default: {DEFAULT_LEDGER})")
    c.add_argument("--key", required=True, metavar="FILE", help="the witness's key file (role 'witness')")
    c.add_argument("--log-vkey", required=True, metavar="VKEY", help="the log's verifier key, obtained out of band")
    c.add_argument("--state", metavar="FILE",
                   help="the witness's state file (default: $SUNSHINE_STATE/witness/<key name>.json)")
    c.add_argument("--time", type=int, metavar="UNIX", help="cosignature timestamp, POSIX seconds (default: now)")
    c.add_argument("--body-out", metavar="FILE", help="also write the checkpoint.witness entry body (JSON) to FILE")
    c.set_defaults(func=run_cosign)


def _state_path(args, name: str) -> Path:
    if args.state:
        return Path(args.state)
    return default_state_dir() / "witness" / (urllib.parse.quote(name, safe="") + ".json")


def run_cosign(args: argparse.Namespace) -> int:
    ident = load_identity(args.key, "--key")
    if ident.role != "witness":
        raise KeyFileError(f"--key {args.key}: expected a key with role 'witness', got {ident.role!r}")
    signer = note.new_cosignature_signer(ident.name, ident.private_key)
    state_path = _state_path(args, ident.name)
    state = json.loads(state_path.read_text()) if state_path.is_file() else {}
    files = DirectoryFiles(args.dir)
    cp_bytes = files.get("checkpoint", b"")
    origin = cp_bytes.split(b"\n", 1)[0].decode("ascii", "replace")
    previous = state.get(origin, {}).get("checkpoint")
    with parallel_checker(0) as checker:
        rep = verify_files(files, vkey=args.log_vkey, listing=files.listing(),
                           previous=previous.encode() if previous else None,
                           check_signatures=checker, recompute_draws=False)
    if not rep.integrity_ok:
        bad = "; ".join(str(f) for f in rep.findings if f.kind == "integrity")
        raise IntegrityError(f"refusing to cosign {args.dir}: {bad}",
                             hint="a witness cosigns only a checkpoint it verified and that extends the last one it cosigned")
    text = note.parse_note(cp_bytes).text
    cp = cp_mod.parse_checkpoint(text)
    ts = args.time if args.time is not None else int(time.time())
    line = note.cosign(text, signer, ts).line()
    state[origin] = {"checkpoint": cp_bytes.decode("utf-8"), "size": cp.size, "cosigned_at": ts}
    state_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = state_path.with_name(state_path.name + ".tmp")
    tmp.write_text(json.dumps(state, ensure_ascii=False, indent=2, sort_keys=True))
    os.replace(tmp, state_path)
    body = {"checkpoint": text.decode("utf-8"), "cosignatures": [line]}
    if args.body_out:
        Path(args.body_out).write_text(json.dumps(body, ensure_ascii=False) + "\n", encoding="utf-8")
    print(line)
    return 0
