#!/usr/bin/env python3
"""CPU cost of the whole-site files every build rewrites: the open-data downloads
(``opendata.files``), the exact-lookup shards (``lookup.files``), the 统计 page's figures
(``stats.context``) and the Atom feeds (``feeds.files``); and the exact look-up's part of a delta
build after one target's first result (``lookup delta``: ``PortalGenerator._write_lookup`` with an
in-place Renderer over a previous index without that target, written under --work; it says whether
its files are those of a whole build). Prints its figures; asserts nothing but the look-up delta's bytes.

    .venv/bin/python bench/bench_downloads.py --data bench/out/data --work /tmp/bench_downloads

The data is loaded through a parsed-data cache under --work, the ``views.Index`` is built, then
each stage is run --repeat times in this process; the first run of ``opendata.files`` also pays
for the public views of the targets (``Index.target_pub``, memoised and shared with the pages),
which a real build pays once somewhere. CPU seconds (``time.process_time``), not wall time: the
machine may be shared (the load average is printed). The sha256 of each output shows that the
repeats give the same bytes.

To compare with an earlier version of a module, give its file (imported in place of the current one):

    git show 7a2072d:generator/sunshine/portal/opendata.py > /tmp/old_opendata.py
    .venv/bin/python bench/bench_downloads.py --data bench/out/data --work /tmp/bd --module opendata=/tmp/old_opendata.py

``--only lookup`` runs only the stages whose name contains ``lookup``.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import importlib.util
import os
import shutil
import sys
import tempfile
import time
import types
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "generator"))

from sunshine import data_cache, loading  # noqa: E402
from sunshine.portal import feeds, generator, lookup, opendata, stats, views  # noqa: E402
from sunshine.portal.render import Renderer  # noqa: E402
from sunshine.workdays import Calendar  # noqa: E402


def _module(spec: str):
    name, _, path = spec.partition("=")
    if name not in ("opendata", "lookup", "stats", "feeds") or not path:
        raise SystemExit(f"error: --module: expected opendata|lookup|stats|feeds=FILE, got {spec!r}")
    s = importlib.util.spec_from_file_location(f"sunshine.portal._bench_{name}", path)
    m = importlib.util.module_from_spec(s)
    m.__package__ = "sunshine.portal"  # its relative imports resolve as the real module's do
    s.loader.exec_module(m)
    return name, m


def _digest(out) -> str:
    if isinstance(out, dict) and all(isinstance(v, bytes) for v in out.values()):
        h = hashlib.sha256()
        for k in sorted(out):
            h.update(k.encode() + b"\0" + hashlib.sha256(out[k]).digest())
        return h.hexdigest()[:16]
    return hashlib.sha256(repr(out).encode()).hexdigest()[:16]


def _lookup_delta(ix: views.Index, work: Path):
    """A run of a delta build's look-up part after the first result of the target in the middle of
    the code order: the previous build's index (every other target's row) is written under *work*
    with its manifest rows; each run makes the changed files into a new directory under *work*."""
    rows = views.enterprise_lookup_rows(ix, {})
    new = rows[len(rows) // 2]
    whole = lookup.files(rows)
    previous, manifest = work / "lookup-previous", {}
    shutil.rmtree(previous, ignore_errors=True)
    for rel, data in lookup.files([r for r in rows if r is not new]).items():
        (previous / rel).parent.mkdir(parents=True, exist_ok=True)
        (previous / rel).write_bytes(data)
        st = (previous / rel).stat()
        manifest[rel] = ["sha256:" + hashlib.sha256(data).hexdigest()[:40], st.st_size, st.st_mtime_ns]
    gen = types.SimpleNamespace(ix=ix, draws_by_target={}, delta=True,
                                settings={"SUNSHINE_DELTA": {("task", new[0], "department")}})

    def run() -> tuple[Path, dict[str, list]]:
        out = Path(tempfile.mkdtemp(prefix="lookup-new-", dir=work))
        r = Renderer(None, b"", out, previous=previous, manifest=manifest, link_unchanged=False)
        generator.PortalGenerator._write_lookup(gen, r)
        r.finish()
        return out, r.files

    def check(result: tuple[Path, dict[str, list]]) -> str:
        """Whether the manifest rows and the files made are those of a whole build (outside the timing);
        the digest of the files made."""
        out, rows = result
        made = {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*") if p.is_file()}
        shutil.rmtree(out)
        assert rows.keys() == whole.keys() and all(
            rows[rel][0] == "sha256:" + hashlib.sha256(data).hexdigest()[:40] for rel, data in whole.items())
        assert all(whole[rel] == data for rel, data in made.items()), "not the bytes of a whole build"
        return f"{_digest(made)} ({len(made)} of {len(whole)} files made, the others kept: a whole build's bytes)"

    return run, check


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=REPO / "bench" / "out" / "data", help="data directory")
    ap.add_argument("--work", type=Path, default=Path("/tmp/bench_downloads"), help="parsed-data cache directory")
    ap.add_argument("--repeat", type=int, default=2, help="runs of each stage (default 2)")
    ap.add_argument("--module", action="append", default=[], metavar="NAME=FILE",
                    help="use FILE as the module NAME (opendata, lookup, stats or feeds)")
    ap.add_argument("--only", default="", metavar="TEXT", help="run only the stages whose name contains TEXT")
    args = ap.parse_args()
    mods = {"opendata": opendata, "lookup": lookup, "stats": stats, "feeds": feeds}
    mods.update(_module(s) for s in args.module)

    t = time.process_time()
    ds = loading.load_dataset(args.data, cache=data_cache.DataCache(args.work / "cache"))
    print(f"load {time.process_time() - t:.2f} s CPU: {len(ds.targets):,} targets, {len(ds.results):,} results")
    ix = views.Index(ds)
    calendar = Calendar.from_dir(args.data)
    site = {"origin": ds.jurisdiction.origin, "public_url": "https://example.org/", "title": "bench",
            "name": "bench", "footer": {"host": ""}}
    gc.collect()
    gc.freeze()  # the loaded data is not scanned by the cyclic GC again (as a build does: portal/build.py)
    stages = [
        ("opendata.files", lambda: mods["opendata"].files(ds, ix)),
        ("lookup.files", lambda: mods["lookup"].files(views.enterprise_lookup_rows(ix, {}))),
        ("  lookup: rows", lambda: views.enterprise_lookup_rows(ix, {})),
        ("stats.context", lambda: mods["stats"].context(ds, ix, calendar)),
        ("feeds.files", lambda: mods["feeds"].files(ds, ix, site)),
    ]
    checks = {}
    if args.only in "lookup delta":
        args.work.mkdir(parents=True, exist_ok=True)
        run, checks["lookup delta"] = _lookup_delta(ix, args.work)
        stages.insert(3, ("lookup delta", run))
    for name, run in stages:
        if args.only not in name:
            continue
        for i in range(args.repeat):
            t = time.process_time()
            out = run()
            cpu = time.process_time() - t
            print(f"{name:16s} run {i + 1}: {cpu:6.2f} s CPU  sha256 {checks.get(name, _digest)(out)}")
            del out
    print("load average", " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
