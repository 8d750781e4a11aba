"""Ledger pure-core benchmark: canonical JSON, Merkle tree, signed notes, tiles.

    .venv/bin/python bench/bench_ledger_core.py                # 1,000,000 leaves
    .venv/bin/python bench/bench_ledger_core.py --leaves 100000

Prints, for a tree of ``--leaves`` entries (each a ~300-byte canonical JSON ledger-like entry):

1. canonical encode and strict decode throughput;
2. leaf hashing, incremental appends (``merkle.CompactRange``) and the batch tree hash;
3. tile generation (``tiles.tiles_from_leaf_hashes``) and reading the root back with ``TileReader``;
4. inclusion and consistency proofs from tiles and their verification (mean over 1,000 each);
5. note signing and opening (Ed25519) and a cosignature.

Figures are wall-clock (``time.perf_counter``) and CPU time of this process (``time.process_time``;
rates are per CPU-second, so they stay meaningful on a busy machine); nothing is asserted.
"""

from __future__ import annotations

import argparse
import random
import time

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sunshine import canonical, merkle, note, tiles
from sunshine.checkpoint import Checkpoint, format_checkpoint


def _entry(i: int) -> dict:
    return {
        "v": 1,
        "seq": i,
        "prev": f"{i:064x}",
        "time": "2026-11-25T12:00:00Z",
        "type": "draw.commit",
        "signer": "sunshine.example/office+0a1b2c3d",
        "body": {"task": f"2026-任务-{i % 997:04d}", "targets": i % 5000, "note": "双随机、一公开 抽查"},
        "sig": "A" * 86 + "==",
    }


def _timed(label: str, fn, *, per: int | None = None, unit: str = "op") -> object:
    t0, c0 = time.perf_counter(), time.process_time()
    result = fn()
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    rate = f", {per / cpu:,.0f} {unit}/CPU-s" if per and cpu > 0 else ""
    print(f"  {label:<46} {dt:8.3f} s wall {cpu:8.3f} s CPU{rate}")
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--leaves", type=int, default=1_000_000, help="number of log entries (default: 1,000,000)")
    ap.add_argument("--seed", type=int, default=1, help="seed for the proof positions (default: 1)")
    args = ap.parse_args(argv)
    n = args.leaves
    rng = random.Random(args.seed)

    print(f"ledger core benchmark, {n:,} entries")
    print("canonical JSON")
    objs = [_entry(i) for i in range(min(n, 100_000))]
    data = _timed(f"encode {len(objs):,} entries", lambda: [canonical.encode(o) for o in objs], per=len(objs), unit="entries")
    _timed(f"strict decode {len(objs):,} entries", lambda: [canonical.decode(d) for d in data], per=len(objs), unit="entries")
    print(f"  mean entry size {sum(map(len, data)) / len(data):.0f} bytes")

    print("Merkle tree")
    entries = [data[i % len(data)] + i.to_bytes(8, "big") for i in range(n)]
    hashes = _timed(f"leaf hashes of {n:,} entries", lambda: [merkle.leaf_hash(e) for e in entries], per=n, unit="leaves")

    def appends() -> merkle.CompactRange:
        cr = merkle.CompactRange()
        for h in hashes:
            cr.append(h)
        return cr

    cr = _timed(f"CompactRange.append × {n:,}", appends, per=n, unit="appends")
    root = _timed("batch tree hash merkle.root", lambda: merkle.root(hashes))
    assert cr.root() == root

    print("tiles")
    files = _timed("all hash tiles (tiles_from_leaf_hashes)", lambda: tiles.tiles_from_leaf_hashes(hashes))
    print(f"  {len(files):,} tile files, {sum(map(len, files.values())) / 2**20:.1f} MiB")
    reader = tiles.TileReader(files.__getitem__, n)
    _timed("root from tiles (TileReader)", lambda: reader.verify_root(root))
    print(f"  tiles fetched for the root: {len(reader.fetched)}")

    k = 1000
    idx = [rng.randrange(n) for _ in range(k)]
    proofs = _timed(f"{k:,} inclusion proofs from tiles", lambda: [reader.inclusion_proof(i) for i in idx], per=k, unit="proofs")
    _timed(
        f"{k:,} inclusion verifications",
        lambda: [merkle.verify_inclusion(i, n, hashes[i], p, root) for i, p in zip(idx, proofs)],
        per=k,
        unit="proofs",
    )
    olds = [rng.randrange(1, n + 1) for _ in range(k)]
    cproofs = _timed(f"{k:,} consistency proofs from tiles", lambda: [reader.consistency_proof(m) for m in olds], per=k, unit="proofs")
    old_root_values = {m: merkle.root_from_nodes(m, reader.node) for m in olds}
    _timed(
        f"{k:,} consistency verifications",
        lambda: [merkle.verify_consistency(m, n, old_root_values[m], root, p) for m, p in zip(olds, cproofs)],
        per=k,
        unit="proofs",
    )
    print(f"  tiles fetched in total: {len(reader.fetched)}")

    print("signed notes")
    log = note.new_ed25519_signer("sunshine.example/ledger", Ed25519PrivateKey.generate())
    wit = note.new_cosignature_signer("witness.example/w1", Ed25519PrivateKey.generate())
    text = format_checkpoint(Checkpoint("sunshine.example/ledger", n, root))
    m = 2000
    signed = _timed(f"sign checkpoint × {m:,}", lambda: [note.sign_note(text, log) for _ in range(m)], per=m, unit="notes")
    v = log.verifier()
    _timed(f"open checkpoint × {m:,}", lambda: [note.open_note(s, [v]) for s in signed], per=m, unit="notes")
    cos = _timed(f"cosign × {m:,}", lambda: [note.cosign(text, wit, 1764000000 + i) for i in range(m)], per=m, unit="cosignatures")
    wv = wit.verifier()
    _timed(f"verify cosignature × {m:,}", lambda: [note.verify_cosignature(text, c, wv) for c in cos], per=m, unit="cosignatures")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
