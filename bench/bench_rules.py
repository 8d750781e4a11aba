"""Benchmark: the §2 rules (``sunshine.rules.check_dataset``) on a data directory; prints the figures.

    .venv/bin/python bench/bench_rules.py [DATA] [--cache DIR] [--repeat N] [--reference] [--profile]

Loads DATA (default bench/out/data: 1,000,000 targets, ~190,000 results) once through
``sunshine.loading`` with a parsed-data cache (``--cache``, default /tmp/bench_rules.cache; the first
run fills it), keeping the dataset, calendar and ``where`` map that loading hands to the rules. Then
prints the CPU time (``time.process_time``) of the rules as loading ran them (first run, cold: fresh
strings not hashed yet, GC state of a real build) and of ``--repeat`` further runs (min and all),
with the number of problems and the load average. ``--reference`` also times the straightforward
transcription (tests/rules_reference.py) and checks that both report exactly the same problems;
``--profile`` prints a cProfile summary of one run. Target (issue #5): at most 1.5 s CPU at 1M.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
from pathlib import Path

from sunshine import data_cache, loading, rules

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data", nargs="?", default=str(ROOT / "bench" / "out" / "data"), help="data directory")
    ap.add_argument("--cache", default="/tmp/bench_rules.cache", help="parsed-data cache directory (filled on first use)")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs after loading (default 3)")
    ap.add_argument("--reference", action="store_true", help="also time tests/rules_reference.py and compare the problems")
    ap.add_argument("--profile", action="store_true", help="print a cProfile summary of one run")
    args = ap.parse_args()

    captured: dict = {}
    check = rules.check_dataset

    def timed(ds, **kw):
        t = time.process_time()
        found = check(ds, **kw)
        captured.update(ds=ds, kw=kw, first=time.process_time() - t, found=found)
        return found

    rules.check_dataset = timed
    t = time.process_time()
    v = loading.validate_directory(args.data, cache=data_cache.DataCache(Path(args.cache)))
    load = time.process_time() - t
    rules.check_dataset = check
    if "ds" not in captured:
        print(f"error: {args.data}: the rules did not run (the files have parse errors)", file=sys.stderr)
        return 1
    ds, kw = captured["ds"], captured["kw"]
    print(f"data: {args.data}: {len(ds.targets):,} targets, {len(ds.tasks()):,} tasks, {len(ds.results):,} results, "
          f"{sum(len(r.items) for r in ds.results):,} item rows")
    print(f"load (with rules): {load:.2f} s CPU; rules as loading ran them: {captured['first']:.3f} s CPU, "
          f"{len(captured['found'])} problems")
    runs = []
    for _ in range(args.repeat):
        t = time.process_time()
        found = rules.check_dataset(ds, **kw)
        runs.append(time.process_time() - t)
    if runs:
        print(f"rules again: min {min(runs):.3f} s CPU (runs {', '.join(f'{x:.3f}' for x in runs)}), {len(found)} problems")
    if args.reference:
        sys.path.insert(0, str(ROOT / "tests"))
        import rules_reference

        t = time.process_time()
        ref = rules_reference.check_dataset(ds, **kw)
        print(f"reference: {time.process_time() - t:.3f} s CPU, {len(ref)} problems, "
              f"identical: {ref == captured['found']}")
    if args.profile:
        prof = cProfile.Profile()
        prof.runcall(rules.check_dataset, ds, **kw)
        pstats.Stats(prof).sort_stats("tottime").print_stats(12)
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
