"""Benchmark: verify a 100,000-entry ledger (all three layers but draw recomputation) and print the figures.

    .venv/bin/python bench/bench_verify.py [--entries 100000] [--jobs N] [--keep DIR]

Builds a synthetic ledger in memory (genesis, keys, a plan with 200 tasks, each task's draw steps,
then result entries up to the requested size; every entry really signed), writes nothing unless
--keep is given, then times ``sunshine.verify.verify_files`` with the CLI's process pool
(``commands.verify.ParallelChecker``: the strict parse and the signature check of every entry run in
the workers, the main process replays the state); the pool's start-up and shut-down are timed too.
Draw recomputation is switched off (its cost is per task and dominated by the BLS beacon check, which
the draw engine's own benchmark measures); everything else — strict parsing, hash chain, every
Ed25519 signature, signer rules, key validity, blobs, tiles, Merkle root, order rules and the
working-day deadline of every result — is done. Target (issue): at most 10 s on the 2-core CI machine.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sunshine import checkpoint, entries, note
from sunshine.commands.verify import parallel_checker
from sunshine.keys import SigningIdentity
from sunshine.ledger_store import TILE_WIDTH, TreeBuilder
from sunshine.verify import verify_files

ORIGIN = "sunshine.example/bench"


def key(label: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"bench key\n" + label.encode()).digest())


def build(n: int) -> dict[str, bytes]:
    log = note.new_ed25519_signer(ORIGIN, key("log"))
    root = SigningIdentity("amr-root", "amr", "root", key("root"))
    ops = {d: SigningIdentity(f"{d}-op", d, "operator", key(d)) for d in ("amr", "health")}
    depts = [{"id": "amr", "name": "市场监管局"}, {"id": "health", "name": "卫生健康委"}]
    raws: list[bytes] = []
    blobs: dict[str, bytes] = {}

    clock = {"t": datetime(2025, 1, 1, tzinfo=timezone.utc)}

    def add(type_, body, signer, t):
        # entry times never go backwards: the later of the given day and one second after the previous entry
        given = datetime.strptime(t, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
        clock["t"] = max(given, clock["t"] + timedelta(seconds=1))
        t = clock["t"].strftime("%Y-%m-%dT%H:%M:%SZ")
        prev = entries.parse_entry(raws[-1]).hash if raws else "0" * 64
        raws.append(entries.build_entry(ORIGIN, len(raws), prev, t, type_, body, signer).raw)

    def blob(data: bytes) -> str:
        ref = "sha256:" + hashlib.sha256(data).hexdigest()
        blobs["blob/sha256/" + ref[7:]] = data
        return ref

    add("genesis", {"origin": ORIGIN, "jurisdiction": "bench", "name": "基准市", "office": "amr", "departments": depts,
                    "log_key": log.verifier_key(), "keys": [root.record()]}, log, "2025-01-01T00:00:00Z")
    for op in ops.values():
        add("key.register", {"key": op.record()}, root, "2025-01-02T00:00:00Z")
    tasks = [f"2025-{i:03d}" for i in range(200)]
    add("plan.publish", {"year": 2025, "version": 1, "published": "2025-02-28", "plan": blob(b"plan"),
                         "tasks": [{"id": t, "lead": "amr", "participants": ["health"]} for t in tasks]},
        ops["amr"], "2025-02-28T00:00:00Z")
    for t in tasks:
        add("draw.commit", {"task": t, "pool": blob(t.encode())}, ops["amr"], "2025-04-01T00:00:00Z")
        add("draw.randomness", {"task": t}, ops["amr"], "2025-04-02T00:00:00Z")
        add("draw.lock", {"task": t}, ops["amr"], "2025-04-02T00:01:00Z")
        add("draw.dispatch", {"task": t}, ops["amr"], "2025-04-03T00:00:00Z")
    i = 0
    t0 = time.perf_counter()
    while len(raws) < n:
        dept = "amr" if i % 2 == 0 else "health"
        add("result.publish", {"task": tasks[i % len(tasks)], "target": f"91379900MA{i:08d}", "department": dept,
                               "version": 1, "inspection_end": "2025-05-30", "published": "2025-06-10",
                               "items": [{"item": "AMR-03", "codes": ["no_issue"]}]},
            ops[dept], "2025-06-10T01:00:00Z")
        i += 1
        if i % 10000 == 0:
            print(f"  built {len(raws)} entries ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    tree = TreeBuilder()
    bundles: dict[int, list[bytes]] = {}
    for k, raw in enumerate(raws):
        tree.append(raw)
        bundles.setdefault(k // TILE_WIDTH, []).append(raw)
    files = dict(tree.tile_files(0, bundles))
    text = checkpoint.format_checkpoint(checkpoint.Checkpoint(ORIGIN, len(raws), tree.root(), ()))
    files["checkpoint"] = note.sign_note(text, log)
    files.update(blobs)
    return files


def ed25519_verify_cost() -> float:
    """CPU µs of one Ed25519 verification here and now (to compare runs on a loaded machine)."""
    k = key("reference")
    msg = b"x" * 400
    sig, pub = k.sign(msg), k.public_key()
    c = time.process_time()
    for _ in range(2000):
        pub.verify(sig, msg)
    return (time.process_time() - c) / 2000 * 1e6


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entries", type=int, default=100_000, help="ledger size (default 100000)")
    ap.add_argument("--jobs", type=int, default=0, help="signature-checking processes (default: CPU count)")
    ap.add_argument("--keep", metavar="DIR", help="also write the ledger files to DIR")
    args = ap.parse_args()
    t = time.perf_counter()
    files = build(args.entries)
    print(f"built {args.entries} entries, {sum(map(len, files.values())) / 1e6:.1f} MB, "
          f"{len(files)} files in {time.perf_counter() - t:.1f} s")
    if args.keep:
        for rel, data in files.items():
            p = Path(args.keep) / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
    ref = ed25519_verify_cost()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    cpu = time.process_time()
    with parallel_checker(args.jobs) as checker:  # the worker processes start (and stop) inside the timing
        rep = verify_files(files, listing=list(files), check_signatures=checker, recompute_draws=False)
    dt = time.perf_counter() - t
    cpu = time.process_time() - cpu
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    workers = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    print(f"verified {rep.size} entries in {dt:.2f} s ({dt / rep.size * 1e6:.1f} µs/entry), "
          f"main-process CPU {cpu:.2f} s, verdict {rep.verdict}, {len(rep.findings)} findings, cpus {os.cpu_count()}, "
          f"load average {os.getloadavg()[0]:.1f}")
    total = cpu + workers
    cpus = os.cpu_count() or 1
    print(f"CPU: main {cpu:.2f} s + signature workers {workers:.2f} s = {total:.2f} s; one Ed25519 verification "
          f"costs {ref:.0f} µs of CPU on this machine now")
    print(f"lower bounds on {cpus} CPUs: {total / cpus:.1f} s (all CPU time spread evenly), {cpu:.1f} s (the "
          f"main process's share, which is not parallel); signatures alone {rep.size * ref / 1e6 / cpus:.1f} s")
    print(f"target: verify {rep.size} entries in at most 10 s: {'MET' if dt <= 10 else 'MISSED'} ({dt:.2f} s)")
    for f in rep.findings[:5]:
        print("  ", f.kind, f)
    return 0 if rep.exit_code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
