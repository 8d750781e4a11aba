"""``sunshine ledger init|append|put-blob|show``: create and extend the signed draw ledger by hand.

The draw ceremony (``sunshine draw …``) appends its entries itself; these commands are the general
tool (genesis, plans, snapshots, results, witness records) and the way to inspect a ledger.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .. import canonical
from ..entries import ENTRY_TYPES
from ..errors import FormatError, LedgerError
from .keys import DEFAULT_LEDGER, add_ledger_args, entry_time, load_identity, log_signer_from, open_ledger


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "ledger",
        help="create, extend and inspect the signed draw ledger",
        description="The ledger is a C2SP tlog-tiles directory of signed entries (docs/spec/ledger.md).",
    )
    sub = p.add_subparsers(dest="ledger_command", metavar="ACTION", required=True)

    i = sub.add_parser("init", help="create a ledger with its genesis entry",
                       description="Create DIR with a genesis entry signed by the log key. The genesis body comes "
                                   "from a JSON file with jurisdiction, name, office, departments and optional "
                                   "settings; the root key file's public key is registered in it.")
    i.add_argument("dir", help="the new ledger directory (must not exist or be empty)")
    i.add_argument("--origin", required=True, help="the log's origin line, e.g. sunshine.example/shiyi")
    i.add_argument("--genesis", required=True, metavar="FILE", help="JSON file with the genesis body (without keys)")
    i.add_argument("--log-key", required=True, metavar="FILE", help="the log's key file (role 'log')")
    i.add_argument("--root-key", required=True, metavar="FILE",
                   help="the office's root key file (role 'root'); only its public part is read")
    i.add_argument("--time", metavar="TIME", help="genesis time YYYY-MM-DDTHH:MM:SSZ (default: now, UTC)")
    i.set_defaults(func=run_init)

    a = sub.add_parser("append", help="append one signed entry",
                       description="Append an entry of TYPE with the JSON body read from --body (a file or '-' "
                                   "for stdin), signed by --key. Files given with --blob are stored first and "
                                   "their references printed.")
    a.add_argument("--type", required=True, choices=sorted(ENTRY_TYPES), metavar="TYPE",
                   help="entry type: " + ", ".join(sorted(ENTRY_TYPES)))
    a.add_argument("--body", required=True, metavar="FILE", help="JSON body ('-' reads standard input)")
    a.add_argument("--key", required=True, metavar="FILE", help="the signer's key file")
    a.add_argument("--blob", action="append", default=[], metavar="FILE",
                   help="store FILE as a blob before appending (repeatable)")
    add_ledger_args(a, write=True)
    a.set_defaults(func=run_append)

    b = sub.add_parser("put-blob", help="store a file as a blob and print its reference",
                       description="Store FILE under blob/sha256/<hex> and print \"sha256:<hex>\".")
    b.add_argument("file", help="the file to store")
    add_ledger_args(b, write=True)
    b.set_defaults(func=run_put_blob)

    s = sub.add_parser("show", help="list the entries (or print one)",
                       description="List seq, time, type and signer of every entry, or print one entry in full.")
    s.add_argument("--seq", type=int, metavar="N", help="print entry N in full")
    s.add_argument("--json", action="store_true", help="print JSON (one entry, or all as an array)")
    add_ledger_args(s, write=False)
    s.set_defaults(func=run_show)


def _read_json(path: str, what: str) -> dict:
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise LedgerError(f"{what} {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise FormatError(f"{what} {path}: expected UTF-8 JSON, got undecodable bytes") from None
    try:
        obj = json.loads(text, parse_float=lambda s: _no_float(s, path))
    except json.JSONDecodeError as exc:
        raise FormatError(f"{what} {path}, line {exc.lineno} column {exc.colno}: invalid JSON: {exc.msg}") from None
    if not isinstance(obj, dict):
        raise FormatError(f"{what} {path}: expected a JSON object, got {type(obj).__name__}")
    canonical.encode(obj)  # integers only, valid Unicode
    return obj


def _no_float(text: str, path: str):
    raise FormatError(f"{path}: expected integers only, got the number {text}")


def run_init(args: argparse.Namespace) -> int:
    from .. import keys as keys_mod
    from ..ledger_store import Ledger

    body = _read_json(args.genesis, "--genesis")
    try:
        root = keys_mod.read_public_key_file(Path(args.root_key).read_bytes(), source=args.root_key)
    except OSError as exc:
        raise LedgerError(f"--root-key {args.root_key}: {exc.strerror}") from None
    if root.role != "root":
        raise FormatError(f"--root-key {args.root_key}: expected role 'root', got {root.role!r}")
    body.setdefault("keys", [])
    if root.record() not in body["keys"]:
        body["keys"].append(root.record())
    led = Ledger.create(args.dir, args.origin, log_signer_from(args.log_key), body, entry_time(args.time))
    print(f"created ledger {args.dir} ({led.origin}); log key {led.log_vkey}")
    return 0


def run_append(args: argparse.Namespace) -> int:
    body = _read_json(args.body, "--body")
    led = open_ledger(args.ledger, args.log_key)
    for f in args.blob:
        try:
            data = Path(f).read_bytes()
        except OSError as exc:
            raise LedgerError(f"--blob {f}: {exc.strerror}") from None
        print(f"{f}: {led.put_blob(data)}")
    signer = load_identity(args.key, "--key")
    e = led.append(args.type, body, signer, entry_time(args.time))
    print(f"appended entry {e.seq} ({e.type}) to {args.ledger}; checkpoint size {led.size}")
    return 0


def run_put_blob(args: argparse.Namespace) -> int:
    led = open_ledger(args.ledger, args.log_key)
    try:
        data = Path(args.file).read_bytes()
    except OSError as exc:
        raise LedgerError(f"{args.file}: {exc.strerror}") from None
    print(led.put_blob(data))
    return 0


def run_show(args: argparse.Namespace) -> int:
    led = open_ledger(args.ledger, None)
    entries = led.entries()
    if args.seq is not None:
        if not 0 <= args.seq < len(entries):
            raise LedgerError(f"--seq: expected 0..{len(entries) - 1}, got {args.seq}")
        obj = json.loads(entries[args.seq].raw)
        print(json.dumps(obj, ensure_ascii=False, indent=None if args.json else 2))
        return 0
    if args.json:
        print(json.dumps([json.loads(e.raw) for e in entries], ensure_ascii=False))
        return 0
    print(f"{led.origin}: {led.size} entries")
    for e in entries:
        label = ENTRY_TYPES[e.type].label
        task = e.body.get("task", "")
        print(f"{e.seq:>6}  {e.time}  {e.type:<24} {label:<10} {e.signer:<20} {task}")
    return 0


__all__ = ["register", "DEFAULT_LEDGER"]
