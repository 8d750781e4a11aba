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
* memory: the peak, sampled every second, of the sum of the proportional set size (Pss) of the
  build process and all its worker processes: pages shared copy-on-write are counted once.
  The build process's own peak RSS is printed too. (Reading ``smaps_rollup`` walks every page
  table of a process: sampled five times a second, it took about a tenth of the machine's CPU
  away from the build it measures.)
* each run's output is deleted after it is measured, and a run waits until 6 minutes have passed
  since the last deletion (a stamp file records when) before it builds: ext4 without a journal
  (this machine's root file system) skips, when it allocates an inode, every inode freed in the
  last 60 s (360 s while its inode-table block is dirty, as new inodes beside it make it) and
  looks at each of them again on every allocation (``find_inode_bit()`` → ``recently_deleted()``).
  A build started right after deleting 154,000 files paid for that on every mkdir and create: a
  fifth of all CPU samples in ``perf``. A real rebuild does not pay it: ``sunshine build`` deletes
  the previous tree only after the new one is in place.

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

def cpu(kind=("ru_utime", "ru_stime")):
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return sum(getattr(s, k) + getattr(c, k) for k in kind)

phase = {}
real_run = pelican.Pelican.run
def run(self):
    c0, s0 = cpu(), cpu(("ru_stime",))
    try:
        return real_run(self)
    finally:
        phase["render_cpu_total"] = cpu() - c0
        phase["render_cpu_system"] = cpu(("ru_stime",)) - s0
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


RECENT_DELETE_WAIT = 370  # s: ext4's recently_deleted() window (60 s, or 360 s while the block is dirty)


def _stamp(out: Path) -> Path:
    return out.with_name(out.name + ".deleted-at")


def _delete(out: Path, warm_cache: bool) -> None:
    """Delete *out* (and its cache, unless *warm_cache*: then the parsed-data cache is kept) and
    record when, for :func:`_wait_for_deletions`."""
    cache = out.with_name(out.name + ".cache")
    victims = [out] + ([p for p in cache.iterdir() if p.name != "data"] if warm_cache and cache.is_dir()
                       else [cache])
    victims = [p for p in victims if p.exists()]
    if victims:
        for p in victims:
            shutil.rmtree(p) if p.is_dir() else p.unlink()
        os.sync()
        _stamp(out).write_text(f"{time.time()}\n")


def _wait_for_deletions(out: Path) -> None:
    """Wait out the file system's window for recently deleted inodes (see the module docstring)."""
    try:
        left = float(_stamp(out).read_text()) + RECENT_DELETE_WAIT - time.time()
    except (OSError, ValueError):
        return
    if left > 0:
        print(f"    (waiting {left:.0f} s: files were deleted less than {RECENT_DELETE_WAIT} s ago, "
              "see the docstring)", flush=True)
        time.sleep(left)


def build_once(data: Path, out: Path, workers: str, warm_cache: bool = False) -> dict:
    _delete(out, warm_cache)  # a previous run's, if it stopped before deleting its own
    _wait_for_deletions(out)
    try:
        return _measure(data, out, workers)
    finally:
        _delete(out, True)


def _measure(data: Path, out: Path, workers: str) -> dict:
    proc = subprocess.Popen([PY, "-c", CHILD, str(data), str(out), workers], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak_pss = 0
    peak_procs = 1
    while proc.poll() is None:
        pids = _descendants(proc.pid)
        peak_pss = max(peak_pss, sum(_pss_kib(p) for p in pids))
        peak_procs = max(peak_procs, len(pids))
        time.sleep(1.0)
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
    ap.add_argument("--warm-cache", action="store_true",
                    help="keep the parsed-data cache of the previous run (a faster load; the render phase is the same)")
    args = ap.parse_args()
    if not (args.data / "jurisdiction.yaml").is_file():
        raise SystemExit(f"bench_render: no data in {args.data}: run bench/bench_portal.py first, or "
                         "`sunshine demo-data --scale 1000000 --tasks 2000 --results 200000 --no-ledger --out DIR` "
                         "and pass --data DIR")
    print(f"bench_render: full builds of {args.data} (cores: {os.cpu_count()}, python {sys.version.split()[0]})")
    met = True
    for w in args.workers:
        load0 = os.getloadavg()[0]
        r = build_once(args.data, args.out.resolve(), w, args.warm_cache)
        t = r["timings"]
        pages = r["pages"]
        pps = pages / t["render"]
        pss_gb = r["peak_pss_kib"] * 1024 / 1e9
        print(f"  workers={w} ({r['peak_procs']} processes at most)")
        print(f"    record pages:        {pages:10,d}   files written {r['rendered']:,}")
        print(f"    load (data):         {t['load']:10.1f} s wall")
        print(f"    render:              {t['render']:10.1f} s wall (views {t.get('views', 0):.1f} s), "
              f"{r.get('render_cpu_total', 0):.1f} s CPU in all processes "
              f"({r.get('render_cpu_system', 0):.1f} s of it system)")
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
