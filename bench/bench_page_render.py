#!/usr/bin/env python3
"""Per-page cost of :meth:`sunshine.portal.render.Renderer.page`, per template. Prints its figures;
asserts nothing.

    .venv/bin/python bench/bench_page_render.py --data /tmp/d100k
    .venv/bin/python bench/bench_page_render.py --data bench/out/data --limit 20000 --profile

The data is loaded (through a parsed-data cache under --work), the page contexts are made by
``sunshine.portal.views`` as a build makes them, and then only ``Renderer.page`` is timed, one
template at a time, in this one process (no worker processes), into a fresh directory under
--work. For each template it prints pages, the CPU seconds of the rendering thread
(``time.thread_time``: input hash, Jinja2, encoding, hand-off) and of the whole process
(``time.process_time``: the writer threads' mkdir/open/write too, after waiting for them), and
pages per CPU-second of each. CPU, not wall time: the machine may be shared (the load average is
printed). ``--profile`` runs cProfile over the rendering of every selected page instead.

To compare with an earlier version, give its render.py and templates:

    git show 7a2072d:generator/sunshine/portal/render.py > /tmp/old_render.py
    mkdir /tmp/old_t && git archive 7a2072d theme/templates | tar -x -C /tmp/old_t
    .venv/bin/python bench/bench_page_render.py --data /tmp/d100k \
        --render-module /tmp/old_render.py --templates /tmp/old_t/theme/templates
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import hashlib
import os
import pstats
import shutil
import sys
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, required=True, help="data directory")
    ap.add_argument("--work", type=Path, default=Path("/tmp/bench_page_render"),
                    help="scratch directory for the data cache and the output (default: %(default)s)")
    ap.add_argument("--limit", type=int, default=0,
                    help="at most this many pages of each template (0: all)")
    ap.add_argument("--profile", action="store_true", help="cProfile the rendering instead of timing it")
    ap.add_argument("--no-write", action="store_true", help="render but write nothing (no writer threads)")
    ap.add_argument("--writers", type=int, default=0, help="writer threads (default: render.WRITERS)")
    ap.add_argument("--render-module", type=Path,
                    help="use this file as sunshine.portal.render (e.g. an earlier version, to compare)")
    ap.add_argument("--templates", type=Path, default=REPO / "theme" / "templates",
                    help="the theme templates (default: %(default)s)")
    args = ap.parse_args()

    from sunshine import data_cache
    from sunshine.loading import load_dataset
    from sunshine.portal import generator, ledger_view, render, views

    if args.render_module:
        import importlib.util

        spec = importlib.util.spec_from_file_location("sunshine.portal._bench_render", args.render_module)
        render = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(render)

    args.work.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    ds = load_dataset(args.data, cache=data_cache.DataCache(args.work / "cache"))
    ledger = ledger_view.load(args.data / "ledger", ds)
    print(f"load {time.perf_counter() - t0:.1f} s", flush=True)
    gc.disable()
    t0 = time.perf_counter()
    ix = views.Index(ds)
    draws = ledger["draws"] if ledger else {}
    by_target = ledger["by_target"] if ledger else {}
    pages = views.task_pages(ix, draws) + views.result_pages(ix) + views.enterprise_pages(ix, by_target)
    pages += ledger_view.pages(ledger, ds)
    print(f"views {time.perf_counter() - t0:.1f} s, {len(pages)} pages", flush=True)
    site = generator.site_globals(ds, {}, ledger)
    templates = args.templates
    env = render.make_environment(templates)
    env.globals["site"] = site
    digest = render.templates_digest(templates)
    site_digest = hashlib.sha256(repr(sorted(site.items())).encode()).digest()

    by_template: dict[str, list] = defaultdict(list)
    for p in pages:
        if not args.limit or len(by_template[p.template]) < args.limit:
            by_template[p.template].append(p)
    out = args.work / "out"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    writers = args.writers or render.WRITERS
    r = render.Renderer(env, digest, out, writers=writers)
    if args.no_write:
        r._submit = lambda rel, key, fn, *a: r.files.__setitem__(rel, [key, 0, 0])  # noqa: SLF001
    gc.freeze()
    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        for ps in by_template.values():
            for p in ps:
                r.page(p, site_digest)
        r.finish()
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(40)
        return
    print(f"load average {os.getloadavg()[0]:.2f}")
    print(f"{'template':24} {'pages':>7} {'thread s':>9} {'pages/s':>8} {'process s':>10} {'(system)':>9}"
          f" {'pages/s':>8} {'wall s':>7}")
    tot = [0, 0.0, 0.0, 0.0, 0.0]

    def row(name: str, n: int, tc: float, tp: float, ts: float, wall: float) -> None:
        def rate(seconds: float) -> str:  # os.times() counts in clock ticks: a tiny template may show 0
            return f"{n / seconds:8.0f}" if seconds > 0 else f"{'-':>8}"

        print(f"{name:24} {n:7} {tc:9.2f} {rate(tc)} {tp:10.2f} {ts:9.2f} {rate(tp)} {wall:7.2f}", flush=True)

    for name, ps in sorted(by_template.items(), key=lambda kv: -len(kv[1])):
        c0, p0, w0 = time.thread_time(), os.times(), time.perf_counter()
        for p in ps:
            r.page(p, site_digest)
        c1 = time.thread_time()
        r.finish() if not args.no_write else None  # wait for the writer threads
        r._pool = render.ThreadPoolExecutor(max_workers=writers)  # noqa: SLF001 - for the next template
        p1, w1 = os.times(), time.perf_counter()
        tc, tp, ts = c1 - c0, (p1.user + p1.system) - (p0.user + p0.system), p1.system - p0.system
        for i, x in enumerate(figures := (len(ps), tc, tp, ts, w1 - w0)):
            tot[i] += x
        row(name, *figures)
    r.finish()
    row("total", *tot)


if __name__ == "__main__":
    sys.path.insert(0, str(REPO / "generator"))
    main()
