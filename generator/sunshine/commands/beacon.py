"""``sunshine beacon fetch ROUND`` and ``sunshine beacon verify FILE``: drand quicknet beacons.

``fetch`` downloads one round from the public drand HTTP relays (or reads it from a file with
``--from-file``), verifies its BLS signature offline against the pinned chain, and writes the JSON
exactly as received. ``verify`` checks a stored beacon. Format and pinned values:
``docs/spec/draw.md`` §3.1 and :mod:`sunshine.beacon`.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

from .. import beacon
from ..errors import BeaconError, SunshineError

RELAYS = ("https://api.drand.sh", "https://api2.drand.sh", "https://api3.drand.sh", "https://drand.cloudflare.com")
MAX_BYTES = 4096


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "beacon",
        help="fetch or verify drand quicknet beacons (the draw's public randomness)",
        description=(
            "drand quicknet beacons, verified offline against the pinned chain hash and public key "
            "(docs/spec/draw.md §3.1)."
        ),
    )
    sub = p.add_subparsers(dest="beacon_command", metavar="ACTION", required=True)

    f = sub.add_parser(
        "fetch",
        help="download one round (or read it from a file), verify it, write it verbatim",
        description=(
            "Fetch drand quicknet round ROUND from the public relays (tried in turn), verify its BLS "
            "signature, and write the JSON exactly as received to --out (or stdout). With --from-file "
            "nothing is downloaded. A round that does not exist yet is refused before any request."
        ),
    )
    f.add_argument("round", type=int, metavar="ROUND", help="the round number (round R is produced at genesis + (R-1)*3 s)")
    f.add_argument("--from-file", metavar="FILE", help="read the beacon JSON from FILE instead of the network (offline)")
    f.add_argument("--out", metavar="FILE", help="write the beacon here (an existing file must hold the same bytes)")
    f.add_argument("--relay", action="append", metavar="URL", help="a relay base URL to use instead of the defaults (repeatable)")
    f.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS", help="per-request timeout (default 10)")
    f.set_defaults(func=run_fetch)

    v = sub.add_parser(
        "verify",
        help="verify a stored beacon JSON file",
        description=(
            "Verify the beacon JSON in FILE against the pinned drand quicknet chain and print its round, "
            "round time and randomness. Exit status 4 when the signature does not verify."
        ),
    )
    v.add_argument("file", metavar="FILE", help="the beacon JSON file")
    v.add_argument("--round", type=int, metavar="ROUND", help="also require this round number")
    v.add_argument(
        "--test-chain",
        action="store_true",
        help="verify against the project's TEST chain (public secret key; tests and sample data only)",
    )
    v.set_defaults(func=run_verify)


def _read(path: str) -> str:
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise SunshineError(f"{path}: cannot read the file ({e.strerror})") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise SunshineError(f"{path}: expected UTF-8 JSON, got undecodable bytes") from None


def _when(chain: beacon.Chain, r: int) -> str:
    t = chain.round_time(r)
    try:
        return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (ValueError, OverflowError, OSError):
        return f"Unix time {t}"


def _download(r: int, relays, timeout: float) -> str:
    errors = []
    for base in relays:
        url = f"{base.rstrip('/')}/{beacon.QUICKNET.chain_hash}/public/{r}"
        try:
            req = urllib.request.Request(url, headers={"User-Agent": "sunshine-beacon/1"})
            with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 (https URLs above)
                data = resp.read(MAX_BYTES + 1)
        except (urllib.error.URLError, OSError, ValueError) as e:
            errors.append(f"{base}: {getattr(e, 'reason', e)}")
            continue
        if len(data) > MAX_BYTES:
            errors.append(f"{base}: response larger than {MAX_BYTES} bytes")
            continue
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            errors.append(f"{base}: response is not UTF-8")
    raise SunshineError(
        f"round {r}: no relay answered ({'; '.join(errors)})",
        hint="when offline, obtain the beacon JSON elsewhere and use --from-file",
    )


def _write(path: str | None, text: str) -> None:
    if path is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    p = Path(path)
    data = text.encode("utf-8")
    if p.exists():
        if p.read_bytes() != data:
            raise SunshineError(f"{path}: exists with different content; refusing to overwrite a published beacon")
        return
    tmp = p.with_name(p.name + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, p)


def run_fetch(args: argparse.Namespace) -> int:
    chain = beacon.QUICKNET
    if args.round < 1:
        raise SunshineError(f"expected a round number >= 1, got {args.round}")
    if args.from_file:
        text = _read(args.from_file)
        where = args.from_file
    else:
        due = chain.round_time(args.round)
        now = int(time.time())
        if now < due:
            raise SunshineError(
                f"round {args.round} is produced at {_when(chain, args.round)}, {due - now} s from now; it does not exist yet",
                hint="the draw's randomness can be revealed only after its round time",
            )
        text = _download(args.round, args.relay or RELAYS, args.timeout)
        where = f"round {args.round}"
    b = beacon.parse_beacon(text, where=where)
    beacon.verify_beacon(b, chain, expected_round=args.round)
    _write(args.out, text)
    print(f"ok: drand quicknet round {b.round} ({_when(chain, b.round)}), randomness {b.randomness.hex()}", file=sys.stderr)
    return 0


def run_verify(args: argparse.Namespace) -> int:
    chain = beacon.TEST_CHAIN if args.test_chain else beacon.QUICKNET
    b = beacon.parse_beacon(_read(args.file), where=args.file)
    try:
        beacon.verify_beacon(b, chain, expected_round=args.round, allow_test_chain=args.test_chain)
    except BeaconError as e:
        raise BeaconError(f"{args.file}: {e.message}", hint=e.hint) from None
    label = "TEST chain (not real randomness)" if chain.test_only else "drand quicknet"
    print(f"ok: {label} round {b.round} ({_when(chain, b.round)}), randomness {b.randomness.hex()}")
    return 0
