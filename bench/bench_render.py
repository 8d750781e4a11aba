#!/usr/bin/env python3
"""Benchmark of the portal's full build rate (issue 5: >= 2,500 record pages/s, <= 4 GB). Prints its
figures and a MET/MISSED line; asserts nothing.

    .venv/bin/python bench/bench_render.py                          # bench/out/data (bench_portal.py makes it)
    .venv/bin/python bench/bench_render.py --data /tmp/d --workers 1 2   # compare 1 and 2 processes

Each run is a full build (``build_site(..., incremental=False, search=False)``) in a fresh child
process into an empty output directory. Figures:

* pages/s = record pages / render time, where render time is the whole Pelican run: the page
  contexts (views), rendering, the downloads, feeds and look-up files, every write, and the
  worker processes' fork and collection. Only loading and checking the data (timed separately,
  as "load") and the final rename are outside it; "whole build" divides by everything.
  Not measured here: Pagefind (``bench_portal.py --search`` times it), and deleting the previous
  tree after the swap, which a rebuild over an existing site pays (every run here builds into an
  empty directory).
* CPU: user+system seconds of the Pelican run, this process and its workers together
  (``RUSAGE_SELF`` + ``RUSAGE_CHILDREN``), so it is comparable whatever the machine's load.
* memory: the peak, sampled every 0.2 s, of the sum of the proportional set size (Pss) of the
  build process and all its worker processes: pages shared copy-on-write are counted once.
  The build process's own peak RSS is printed too.

Other engineers' jobs inflate wall times on a shared machine: compare CPU figures and see the
load average printed next to them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PY = sys.executable
GOAL_PPS = 2500
GOAL_BYTES = 4 * 10**9

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
import pelican
from sunshine.portal.build import build_site

def cpu():
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime

phase = {}
real_run = pelican.Pelican.run
def run(self):
    c0 = cpu()
    try:
        return real_run(self)
    finally:
        phase["render_cpu_total"] = cpu() - c0
pelican.Pelican.run = run
workers = sys.argv[3]
t0 = time.perf_counter()
s = build_site(Path(sys.argv[1]), Path(sys.argv[2]), search=False, incremental=False, quiet=True,
               extra_settings={"SUNSHINE_WORKERS": "auto" if workers == "auto" else int(workers)})
wall = time.perf_counter() - t0
ru = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"wall": wall, "pages": s.pages, "rendered": s.rendered, "timings": s.timings,
                  "maxrss_kb": ru.ru_maxrss, "cpu": cpu(), **phase}))
"""


def _descendants(root: int) -> list[int]:
    parent: dict[int, int] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                stat = Path(f"/proc/{d}/stat").read_text()
            except OSError:
                continue
            parent[int(d)] = int(stat.rsplit(")", 1)[1].split()[1])
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += [c for c, pp in parent.items() if pp == p]
    return out


def _pss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def build_once(data: Path, out: Path, workers: str) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    shutil.rmtree(out.with_name(out.name + ".cache"), ignore_errors=True)
    proc = subprocess.Popen([PY, "-c", CHILD, str(data), str(out), workers], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak_pss = 0
    peak_procs = 1
    while proc.poll() is None:
        pids = _descendants(proc.pid)
        peak_pss = max(peak_pss, sum(_pss_kib(p) for p in pids))
        peak_procs = max(peak_procs, len(pids))
        time.sleep(0.2)
    stdout, stderr = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"bench_render: the build failed:\n{stderr[-3000:]}")
    res = json.loads(stdout.strip().splitlines()[-1])
    res["peak_pss_kib"] = peak_pss
    res["peak_procs"] = peak_procs
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=REPO / "bench" / "out" / "data",
                    help="data directory (default: the one bench_portal.py generates)")
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "out" / "render-output",
                    help="output directory (deleted and rebuilt for every run)")
    ap.add_argument("--workers", nargs="+", default=["auto"],
                    help="worker settings to measure, e.g. 1 2 (default: auto = one per core)")
    args = ap.parse_args()
    if not (args.data / "jurisdiction.yaml").is_file():
        raise SystemExit(f"bench_render: no data in {args.data}: run bench/bench_portal.py first, or "
                         "`sunshine demo-data --scale 1000000 --tasks 2000 --results 200000 --no-ledger --out DIR` "
                         "and pass --data DIR")
    print(f"bench_render: full builds of {args.data} (cores: {os.cpu_count()}, python {sys.version.split()[0]})")
    met = True
    for w in args.workers:
        load0 = os.getloadavg()[0]
        r = build_once(args.data, args.out.resolve(), w)
        t = r["timings"]
        pages = r["pages"]
        pps = pages / t["render"]
        pss_gb = r["peak_pss_kib"] * 1024 / 1e9
        print(f"  workers={w} ({r['peak_procs']} processes at most)")
        print(f"    record pages:        {pages:10,d}   files written {r['rendered']:,}")
        print(f"    load (data):         {t['load']:10.1f} s wall")
        print(f"    render:              {t['render']:10.1f} s wall (views {t.get('views', 0):.1f} s), "
              f"{r.get('render_cpu_total', 0):.1f} s CPU in all processes")
        print(f"    pages/s:             {pps:10.0f}   (render wall; goal >= {GOAL_PPS:,})")
        if r.get("render_cpu_total"):
            print(f"    pages per CPU-s:     {pages / r['render_cpu_total']:10.0f}   (render phase, all processes)")
        print(f"    whole build:         {r['wall']:10.1f} s wall = {pages / r['wall']:.0f} pages/s, "
              f"{r['cpu']:.1f} s CPU")
        print(f"    peak memory:         {pss_gb:10.2f} GB Pss, build + workers "
              f"(build process RSS {r['maxrss_kb'] / 1024 / 1024:.2f} GiB; goal <= 4 GB)")
        print(f"    load average:        {load0:.1f} before, {os.getloadavg()[0]:.1f} after")
        ok = pps >= GOAL_PPS and r["peak_pss_kib"] * 1024 <= GOAL_BYTES
        print(f"    {'MET' if ok else 'MISSED'}: {pps:.0f} pages/s (>= {GOAL_PPS:,}), {pss_gb:.2f} GB (<= 4 GB)")
        met = met and ok
    print(f"bench_render: {'MET' if met else 'MISSED'}")


if __name__ == "__main__":
    main()
