"""Loading a data directory through the parsed-data cache: CPU seconds per file.

    .venv/bin/python bench/bench_load.py bench/out/data [--work /tmp/bench_load] [--rules]

Copies DATA to WORK/data (the original is never written), then runs each step in a fresh
interpreter, as a build would, and prints the CPU seconds (``time.process_time``) of each file's
load (``loading._through_cache``), the total, and the CPU of one full ``gc.collect()`` afterwards
(what the paused collector left for later):

1. cold: no cache;  2. cold through an empty cache (writes it);  3. warm (every file a hit);
4. after appending one result row to the last ``results/<year>.csv`` (as bench_portal.py does):
   the cached prefix is reused and only the new row parsed;  5. warm again.

``--rules`` includes :func:`sunshine.rules.check_dataset` in the total (without it, only loading).
The load average is printed with each step: on a busy machine CPU seconds are inflated too.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PY = sys.executable

CHILD = r"""
import gc, json, os, sys, time
from pathlib import Path
from sunshine import data_cache, loading, rules
data, cache_dir, with_rules = Path(sys.argv[1]), sys.argv[2], sys.argv[3] == "1"
times = {}
orig = loading._through_cache
def timed(cache, root, rel, kind, parse, problems, where):
    t = time.process_time()
    r = orig(cache, root, rel, kind, parse, problems, where)
    times[rel] = round(time.process_time() - t, 3)
    return r
loading._through_cache = timed
if not with_rules:
    rules.check_dataset = lambda *a, **k: []
cache = data_cache.DataCache(cache_dir) if cache_dir else None
t = time.process_time()
v = loading.validate_directory(data, cache=cache)
total = time.process_time() - t
t = time.process_time()
gc.collect()
after = time.process_time() - t
print(json.dumps({"files": times, "total": round(total, 3), "gc_after": round(after, 3),
                  "problems": len(v.problems), "ok": v.dataset is not None,
                  "hits": cache.hits if cache else [], "extended": cache.extended if cache else [],
                  "misses": cache.misses if cache else [], "load": round(os.getloadavg()[0], 1)}))
"""


def step(name: str, data: Path, cache: Path | None, rules: bool) -> dict:
    p = subprocess.run([PY, "-c", CHILD, str(data), str(cache) if cache else "", "1" if rules else "0"],
                       cwd=REPO, check=True, capture_output=True, text=True)
    r = json.loads(p.stdout.strip().splitlines()[-1])
    files = "  ".join(f"{k}={v:.2f}" for k, v in r["files"].items())
    state = f"hits {len(r['hits'])}, extended {r['extended'] or '-'}, misses {len(r['misses'])}" if cache else "no cache"
    print(f"{name:<22} total {r['total']:6.2f} s CPU  (gc afterwards {r['gc_after']:.2f})  load {r['load']}  [{state}]")
    print(f"{'':<22} {files}")
    return r


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data", type=Path, help="a data directory (read only; it is copied)")
    ap.add_argument("--work", type=Path, default=Path("/tmp/bench_load"), help="scratch directory (replaced)")
    ap.add_argument("--rules", action="store_true", help="include the rules (check_dataset) in the totals")
    args = ap.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    data, cache = args.work / "data", args.work / "cache"
    shutil.copytree(args.data, data, ignore=shutil.ignore_patterns("ledger", "demo-keys"))
    sys.path.insert(0, str(REPO / "bench"))
    from bench_portal import append_one_result

    step("1 cold, no cache", data, None, args.rules)
    step("2 cold, writes cache", data, cache, args.rules)
    step("3 warm", data, cache, args.rules)
    code = append_one_result(data)
    print(f"(appended one result row for {code})")
    step("4 one row appended", data, cache, args.rules)
    step("5 warm again", data, cache, args.rules)


if __name__ == "__main__":
    main()
