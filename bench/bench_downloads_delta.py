#!/usr/bin/env python3
"""CPU cost of the open-data downloads in a delta build (``opendata.write`` with the previous build's
state) against making them whole, including the Renderer's hashing and writing. Prints its figures;
asserts only that the delta's bytes are a full build's.

    .venv/bin/python bench/bench_downloads_delta.py --data bench/out/data --work /tmp/bdd

The data is loaded through a parsed-data cache under --work. The "previous" data is the loaded data
without the results of one target inspected once (picked near the middle of the results): a delta build
then adds that target's result (a task block made again, an enterprises row inserted). Steps, each on a
fresh ``views.Index`` (a build's side process starts with cold memos too):

1. ``whole``: the previous data's downloads made whole and written (a full build's path, which
   records the state) into --work/prev;
2. ``delta``: the new data's downloads spliced from --work/prev into --work/stage (``SUNSHINE_IN_PLACE``:
   unchanged files are only recorded), --repeat times;
3. the new data's downloads made whole (``files``), compared byte for byte with what the delta wrote.

``--module opendata=FILE`` times an earlier module's whole path (``files`` + ``Renderer.file`` +
``listing``, as ``_write_downloads`` was) on the new data instead of step 1's figure.
CPU seconds (``time.process_time``: user + system, writer thread included), not wall time; the load
average is printed.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import importlib.util
import json
import os
import resource
import shutil
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "generator"))

from sunshine import data_cache, loading  # noqa: E402
from sunshine.portal import opendata, render, views  # noqa: E402


def _cpu() -> tuple[float, float, float]:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return time.process_time(), r.ru_utime, r.ru_stime


def _since(t0) -> str:
    t1 = _cpu()
    return f"{t1[0] - t0[0]:6.2f} s CPU (user {t1[1] - t0[1]:.2f}, system {t1[2] - t0[2]:.2f})"


def _renderer(env, out: Path, previous: Path | None = None, manifest: dict | None = None) -> render.Renderer:
    shutil.rmtree(out, ignore_errors=True)
    return render.Renderer(env, b"", out, previous=previous, manifest=manifest, link_unchanged=previous is None)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=REPO / "bench" / "out" / "data", help="data directory")
    ap.add_argument("--work", type=Path, default=Path("/tmp/bench_downloads_delta"), help="scratch directory")
    ap.add_argument("--repeat", type=int, default=2, help="delta runs (default 2)")
    ap.add_argument("--module", metavar="opendata=FILE", help="time an earlier opendata module's whole path")
    args = ap.parse_args()

    t = time.process_time()
    ds = loading.load_dataset(args.data, cache=data_cache.DataCache(args.work / "cache"))
    print(f"load {time.process_time() - t:.2f} s CPU: {len(ds.targets):,} targets, {len(ds.results):,} results")
    once: dict[str, list] = {}
    for r in ds.results:
        once.setdefault(r.target, []).append(r)
    results = list(ds.results)
    victim = next(r for r in results[len(results) // 2:] if len(once[r.target]) == 1)
    prev_ds = dataclasses.replace(ds, results=tuple(r for r in results if r is not victim))
    keys = {(victim.task, victim.target, victim.department)}
    print(f"delta: {keys} ({len(victim.items)} item rows)")
    env = render.make_environment(REPO / "theme" / "templates")
    gc.collect()
    gc.freeze()

    prev = args.work / "prev"
    r0 = _renderer(env, prev)
    t0 = _cpu()
    _, state = opendata.write(r0, prev_ds, views.Index(prev_ds))
    r0.finish()
    print(f"whole (previous data, records the state): {_since(t0)}")
    text = json.dumps(state, separators=(",", ":"))
    t = time.process_time()
    for _ in range(20):
        json.loads(text)
    print(f"state: {len(state['results']['keys'])} task blocks, {len(state['enterprises']['keys'])} enterprise "
          f"chunks, {len(text) / 1024:.0f} KiB as JSON, json.loads {(time.process_time() - t) / 20 * 1000:.1f} ms CPU")

    if args.module:
        name, _, path = args.module.partition("=")
        spec = importlib.util.spec_from_file_location("sunshine.portal._bench_opendata", path)
        old = importlib.util.module_from_spec(spec)
        old.__package__ = "sunshine.portal"
        spec.loader.exec_module(old)
        r = _renderer(env, args.work / "old")
        t0 = _cpu()
        out = old.files(ds, views.Index(ds))
        for rel, data in out.items():
            r.file(rel, data)
        old.listing(out)
        del out
        r.finish()
        print(f"whole, {path} (files + Renderer.file + listing): {_since(t0)}")

    for i in range(args.repeat):
        stage = args.work / f"stage{i}"  # deleting a run's big files just before the next run's writes costs it
        r = _renderer(env, stage, prev, r0.files)
        ix = views.Index(ds)
        t0 = _cpu()
        listing, new_state = opendata.write(r, ds, ix, keys, state)
        r.finish()
        print(f"delta run {i + 1}: {_since(t0)}; reused {r.reused}, written {r.rendered}")
    full = opendata.files(ds, views.Index(ds))
    for rel, data in full.items():
        got = (stage / rel) if (stage / rel).exists() else (prev / rel)
        assert got.read_bytes() == data, f"{rel} differs from a whole build's"
    assert new_state["files"]["data/results.csv"][2] == full.sha256["data/results.csv"]
    print("delta bytes == whole bytes")
    for i in range(args.repeat):
        shutil.rmtree(args.work / f"stage{i}", ignore_errors=True)
    print("load average", " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
