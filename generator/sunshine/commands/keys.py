"""``sunshine keys generate|register|rotate|revoke|list``: signing keys and their public history."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone
from pathlib import Path

from .. import keys as keys_mod
from .. import note
from ..errors import FormatError, KeyFileError, LedgerError

DEFAULT_LEDGER = "data/ledger"


# ------------------------------------------------------------------ helpers shared by the ledger commands


def now_utc() -> str:
    """The current time as an entry time (the CLI's clock; the pure core never reads it)."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def entry_time(value: str | None) -> str:
    if value is None:
        return now_utc()
    from ..entries import parse_time

    try:
        return parse_time(value, "--time")
    except FormatError as exc:
        raise FormatError(exc.message, hint="write times as 2025-04-10T02:00:00Z (UTC)") from None


def load_identity(path: str, what: str) -> keys_mod.SigningIdentity:
    p = Path(path)
    if not p.is_file():
        raise KeyFileError(f"{what}: no such key file {p}")
    return keys_mod.load_key_file(p)


def log_signer_from(path: str) -> note.Signer:
    ident = load_identity(path, "--log-key")
    if ident.role != "log":
        raise KeyFileError(f"--log-key {path}: expected a key with role 'log', got role {ident.role!r}")
    return note.new_ed25519_signer(ident.name, ident.private_key)


def open_ledger(path: str, log_key: str | None):
    from ..ledger_store import Ledger

    signer = log_signer_from(log_key) if log_key else None
    return Ledger.open(path, log_signer=signer)


def add_ledger_args(p: argparse.ArgumentParser, *, write: bool) -> None:
    p.add_argument("--ledger", default=DEFAULT_LEDGER, metavar="DIR",
                   help=f"the ledger directory (default: {DEFAULT_LEDGER})")
    if write:
        p.add_argument("--log-key", required=True, metavar="FILE",
                       help="the log's key file (role 'log'): signs the new checkpoint")
        p.add_argument("--time", metavar="TIME",
                       help="entry time YYYY-MM-DDTHH:MM:SSZ (default: now, UTC)")


# ------------------------------------------------------------------ the commands


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "keys",
        help="generate signing keys and register, rotate, revoke or list them in the ledger",
        description=(
            "Ed25519 signing keys (docs/spec/ledger.md §9). Private keys are stored encrypted with a passphrase "
            "read from $SUNSHINE_PASSPHRASE or prompted for, never inside the repository or the site output "
            "(demo keys excepted, under data/demo-keys/). Registration, rotation and revocation are ledger "
            "entries signed by the office's root key."
        ),
    )
    sub = p.add_subparsers(dest="keys_command", metavar="ACTION", required=True)

    g = sub.add_parser("generate", help="create a new encrypted key file",
                       description="Create a new Ed25519 key and write it, encrypted, to FILE (mode 0600, never "
                                   "overwritten). Prints the public key record to register.")
    g.add_argument("name", help="key name, e.g. amr-op-2025 (letters, digits, . _ / : -)")
    g.add_argument("--department", required=True, help="department id the key belongs to (e.g. amr)")
    g.add_argument("--role", required=True, choices=keys_mod.ROLES,
                   help="log (signs checkpoints), root (manages keys), head, operator, witness")
    g.add_argument("--out", required=True, metavar="FILE", help="where to write the key file (outside the repository)")
    g.add_argument("--demo", action="store_true",
                   help="a DEMO key for sample data (name and file must contain 'demo'; may go in data/demo-keys/)")
    g.set_defaults(func=run_generate)

    r = sub.add_parser("register", help="register a key in the ledger (key.register, signed by the root key)",
                       description="Append a key.register entry for the public part of KEYFILE.")
    r.add_argument("keyfile", help="the key file whose public key to register (no passphrase needed)")
    r.add_argument("--root-key", required=True, metavar="FILE", help="the office's root key file (signs the entry)")
    add_ledger_args(r, write=True)
    r.set_defaults(func=run_register)

    ro = sub.add_parser("rotate", help="replace a key by a new one (key.rotate, signed by the root key)",
                        description="Append a key.rotate entry: OLD stops being valid at the entry's time and the "
                                    "key in KEYFILE (same department and role) takes over.")
    ro.add_argument("old", help="name of the key being replaced")
    ro.add_argument("keyfile", help="the new key's key file")
    ro.add_argument("--root-key", required=True, metavar="FILE", help="the office's root key file (signs the entry)")
    add_ledger_args(ro, write=True)
    ro.set_defaults(func=run_rotate)

    rv = sub.add_parser("revoke", help="revoke a key (key.revoke, signed by the root key)",
                        description="Append a key.revoke entry: the key is no longer valid from the entry's time.")
    rv.add_argument("name", help="name of the key to revoke")
    rv.add_argument("--reason", required=True, help="why (published), e.g. 人员离职 or 私钥泄露")
    rv.add_argument("--compromised-since", metavar="TIME",
                    help="if the private key leaked: entries it signed from this time on are flagged")
    rv.add_argument("--root-key", required=True, metavar="FILE", help="the office's root key file (signs the entry)")
    add_ledger_args(rv, write=True)
    rv.set_defaults(func=run_revoke)

    ls = sub.add_parser("list", help="list the ledger's keys and their history (keys.json with --json)",
                        description="Print every key registered in the ledger with its status and validity.")
    add_ledger_args(ls, write=False)
    ls.add_argument("--json", action="store_true", help="print keys.json (docs/spec/ledger.md §9.4)")
    ls.set_defaults(func=run_list)


def run_generate(args: argparse.Namespace) -> int:
    ident = keys_mod.SigningIdentity.generate(args.name, args.department, args.role, demo=args.demo)
    out = Path(args.out)
    keys_mod.check_private_key_path(out, demo=args.demo)
    if out.exists():
        raise KeyFileError(f"{out} already exists; refusing to overwrite a key file")
    passphrase = keys_mod.get_passphrase(confirm=True)
    keys_mod.write_key_file(out, ident, passphrase)
    print(f"wrote {out}", file=sys.stderr)
    if ident.role == "log":
        print(note.format_verifier_key(ident.name, ident.public_key_bytes))
    elif ident.role == "witness":
        print(note.format_verifier_key(ident.name, ident.public_key_bytes, note.ALG_COSIGNATURE_V1))
    print(json.dumps(ident.record(), ensure_ascii=False, sort_keys=True))
    return 0


def _public_record(path: str) -> dict:
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"cannot read key file {p}: {exc.strerror}") from None
    pub = keys_mod.read_public_key_file(data, source=str(p))
    return pub.record()


def _append(args, type_: str, body: dict) -> int:
    led = open_ledger(args.ledger, args.log_key)
    root = load_identity(args.root_key, "--root-key")
    e = led.append(type_, body, root, entry_time(args.time))
    print(f"appended entry {e.seq} ({type_}) to {args.ledger}")
    return 0


def run_register(args: argparse.Namespace) -> int:
    return _append(args, "key.register", {"key": _public_record(args.keyfile)})


def run_rotate(args: argparse.Namespace) -> int:
    return _append(args, "key.rotate", {"old": args.old, "key": _public_record(args.keyfile)})


def run_revoke(args: argparse.Namespace) -> int:
    body = {"name": args.name, "reason": args.reason}
    if args.compromised_since:
        body["compromised_since"] = entry_time(args.compromised_since)
    return _append(args, "key.revoke", body)


def run_list(args: argparse.Namespace) -> int:
    led = open_ledger(args.ledger, None)
    summary = led.keys_summary()
    if args.json:
        print(json.dumps(summary, ensure_ascii=False, indent=2, sort_keys=True))
        return 0
    print(f"log key: {summary['log_key']}")
    for k in summary["keys"]:
        until = f" until {k['valid_until']}" if k["valid_until"] else ""
        print(f"{k['name']:<24} {k['department']:<10} {k['role']:<9} {k['status']:<8} from {k['valid_from']}{until}")
    return 0


__all__ = ["register", "open_ledger", "load_identity", "entry_time", "add_ledger_args", "LedgerError"]
