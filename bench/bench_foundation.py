"""Foundation benchmark: generate a big fictional jurisdiction, then validate it.

    .venv/bin/python bench/bench_foundation.py              # 1,000,000 targets, 2,000 tasks
    .venv/bin/python bench/bench_foundation.py --scale 20000

1. ``sunshine.demo.write`` generates ``--scale`` targets into a temporary directory (in this process,
   timed with a monotonic clock);
2. ``sunshine validate DIR`` runs in a child process: wall time and the child's peak resident set size
   (``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss``, the generator's memory is not counted).

It prints the figures against the targets of the Foundation issue (generate < 60 s; validate < 30 s and
< 2 GB) and exits 1 when a target is missed or validation reports an error.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

from sunshine import demo

GENERATE_S = 60.0
VALIDATE_S = 30.0
VALIDATE_RSS = 2 * 1024**3


def _size(path: str) -> int:
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=int, default=1_000_000, help="number of targets (default: 1,000,000)")
    ap.add_argument("--tasks", type=int, default=None, help="number of tasks (default: max(23, scale/500))")
    ap.add_argument("--seed", type=int, default=demo.DEFAULT_SEED, help="generator seed")
    ap.add_argument("--keep", metavar="DIR", help="write into DIR (must not exist) and keep it")
    args = ap.parse_args(argv)

    opts = demo.Options(scale=args.scale, seed=args.seed, tasks=args.tasks)
    parent = tempfile.mkdtemp(prefix="sunshine-bench-")
    out = args.keep or os.path.join(parent, "data")
    try:
        t0, c0 = time.perf_counter(), time.process_time()
        summary = demo.write(out, opts)
        gen_s, gen_cpu = time.perf_counter() - t0, time.process_time() - c0
        size = _size(out)

        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        before = ru0.ru_maxrss
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "sunshine.cli", "validate", out],
            capture_output=True,
            text=True,
        )
        val_s = time.perf_counter() - t0
        ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        val_cpu = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
        rss_kib = ru1.ru_maxrss
        rss = rss_kib * 1024  # Linux reports KiB
        if rss_kib <= before:
            print("note: the validate child's peak RSS did not exceed an earlier child's", file=sys.stderr)
    finally:
        if not args.keep:
            shutil.rmtree(parent, ignore_errors=True)

    ok_gen = gen_s < GENERATE_S
    ok_val = val_s < VALIDATE_S and rss < VALIDATE_RSS and proc.returncode == 0
    print(f"foundation benchmark: {summary.targets:,} targets, {summary.inspectors:,} inspectors, "
          f"{summary.tasks:,} tasks, {size / 1e6:.1f} MB on disk")
    print(f"  generate (sunshine demo-data)  {gen_s:7.1f} s wall ({gen_cpu:.1f} s CPU)   target < {GENERATE_S:.0f} s   "
          f"{'ok' if ok_gen else 'MISSED'}")
    print(f"  validate (sunshine validate)   {val_s:7.1f} s wall ({val_cpu:.1f} s CPU)   target < {VALIDATE_S:.0f} s   "
          f"{'ok' if val_s < VALIDATE_S else 'MISSED'}")
    print(f"  validate peak RSS              {rss / 2**20:7.0f} MiB                    target < {VALIDATE_RSS / 2**20:.0f} MiB "
          f"{'ok' if rss < VALIDATE_RSS else 'MISSED'}")
    print(f"  validate exit code             {proc.returncode:7d}                        (0 = no errors; 2 warnings expected)")
    print(f"  load average during the run    {os.getloadavg()[0]:7.2f}                        (CPU figures exclude waiting)")
    if proc.returncode != 0:
        print(proc.stdout[-2000:], proc.stderr[-2000:], sep="\n", file=sys.stderr)
    return 0 if ok_gen and ok_val else 1


if __name__ == "__main__":
    sys.exit(main())
