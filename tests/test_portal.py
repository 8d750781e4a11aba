"""The portal built from the sample data: every page type exists and shows the right data,
links resolve, data renders inert, the build is atomic and incremental, errors are clean."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from portal_site import (HOSTILE_ADDRESS, HOSTILE_CODE, HOSTILE_NAME, HOSTILE_NOTE, all_pages, copy_data, parse, resolve,
                         sample_site)
from sunshine import cli
from sunshine.errors import BuildError, DataError
from sunshine.portal import build as portal_build
from sunshine.portal import lookup, render


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    return sample_site(tmp_path_factory)[1]


@pytest.fixture(scope="session")
def data(site) -> Path:
    from portal_site import _cache

    return _cache["data"]


def text(site: Path, rel: str) -> str:
    return parse(site / rel).text


def results_rows(data: Path) -> list[dict]:
    return list(csv.DictReader((data / "results" / "2025.csv").open(encoding="utf-8")))


# --------------------------------------------------------------------------- page types


def test_every_page_type_exists(site):
    for rel in ["index.html", "404.html", "items/index.html", "items/amr/index.html", "plans/index.html",
                "plans/2025/index.html", "plans/2026/index.html", "tasks/index.html", "tasks/2025-01/index.html",
                "results/index.html", "results/tasks/2025-01/index.html", "results/2025-04/index.html",
                "enterprises/index.html", f"enterprises/{HOSTILE_CODE}/index.html", "stats/index.html",
                "ledger/index.html", "verify/index.html", "data/index.html", "search/index.html", "about/index.html",
                "policy/index.html", "how-to-verify/index.html", "privacy/index.html",
                "feeds/results.xml", "feeds/tasks.xml", "sitemap.xml", "robots.txt",
                "data/datapackage.json", "theme/css/site.css", "pagefind/pagefind.js"]:
        assert (site / rel).is_file(), rel


def test_every_page_is_chinese_first_with_sample_banner_and_footer(site):
    for page in all_pages(site):
        html = page.read_text(encoding="utf-8")
        assert html.startswith("<!DOCTYPE html>\n<html lang=\"zh-CN\">"), page
        assert "示例数据" in html, page
        if page.name != "404.html":
            doc = parse(page)
            for label in ("主办单位", "承办单位", "ICP备案号", "公安机关备案号", "网站标识码"):
                assert label in doc.text, (page, label)
            assert "示例ICP备00000000号（示例）" in doc.text


def test_no_external_resources_or_cdn(site):
    for page in all_pages(site):
        for attr, url in parse(page).links:
            if attr == "src" or url.endswith(".css"):
                assert not url.startswith(("http:", "https:", "//")), (page, url)
    css = (site / "theme/css/site.css").read_text(encoding="utf-8")
    assert "@import" not in css and "url(" not in css and "@font-face" not in css
    assert '"PingFang SC"' in css and '"Microsoft YaHei"' in css and '"Noto Sans CJK SC"' in css


def test_home_shows_counts_latest_and_no_ledger(site, data):
    t = text(site, "index.html")
    assert "抽查事项" in t and "最新抽查任务" in t and "最新检查结果" in t
    assert "尚未建立账本" in t
    # five result groups: two for the first target (two departments), one each for three others
    assert "5检查结果" in t.replace(" ", "").replace("\n", "")


def test_item_list_per_department_with_versions(site):
    t = text(site, "items/amr/index.html")
    assert "示例市市场监督管理局随机抽查事项清单" in t
    assert "AMR-03" in t and "版本记录" in t
    assert "第2版" in t and "第1版" in t
    idx = text(site, "items/index.html")
    assert "示例市市场监督管理局" in idx


def test_plan_pages_mark_joint_and_keep_versions(site):
    t = text(site, "plans/2025/index.html")
    assert "部门联合" in t
    assert "第1版" in t and "第2版" in t  # the sample plan 2025 was adjusted
    assert "2025年食品销售和餐饮服务单位联合抽查" in t


def test_task_page(site):
    doc = parse(site / "tasks/2025-01/index.html")
    t = doc.text
    for s in ("2025年食品销售和餐饮服务单位联合抽查", "市场监管局", "消防救援支队", "AMR-03", "FIRE-01",
              "20%", "8%", "结果已公示", "随机抽取"):
        assert s in t, s
    assert "尚未建立账本" in t
    assert doc.find("a", href="../../results/tasks/2025-01/")


def test_results_per_task_and_by_date_show_corrections(site, data):
    rows = results_rows(data)
    corrected = rows[3]["target"]
    t = text(site, "results/tasks/2025-01/index.html")
    assert "已更正（第2版）" in t and "原结果录入错误" in t
    assert "查看更正前的版本" in t and "发现问题待后续处理" in t  # the old version stays visible
    june = text(site, "results/2025-06/index.html")
    assert corrected in june  # listed by the current version's date
    idx = text(site, "results/index.html")
    assert "更正记录" in idx and "原结果录入错误" in idx


def test_enterprise_page_has_full_history(site, data):
    rows = results_rows(data)
    code = rows[0]["target"]
    t = text(site, f"enterprises/{code}/index.html")
    assert code in t
    assert "未发现问题" in t and "发现问题已责令改正" in t and "疏散通道堵塞" in t
    assert "市场监管局" in t and "消防救援支队" in t
    corrected = text(site, f"enterprises/{rows[3]['target']}/index.html")
    assert "第2版" in corrected and "未按规定公示应当公示的信息" in corrected


def test_stats_page_flags_late_publication(site):
    t = text(site, "stats/index.html")
    assert "2025年度" in t and "部门联合抽查占比" in t
    # one result published after 2025-10-30 (20 working days after 2025-09-26, 调休-aware)
    assert "逾期1" in t.replace(" ", "")
    assert "2025-10-30" in t
    doc = parse(site / "stats/index.html")
    assert doc.find("svg", role="img")


def test_ledger_page_without_ledger(site):
    t = text(site, "ledger/index.html")
    assert "尚未建立账本" in t and "如何验证" in t


def test_open_data_csv_json_and_datapackage(site, data):
    pkg = json.loads((site / "data/datapackage.json").read_text(encoding="utf-8"))
    assert pkg["profile"] == "tabular-data-package" and pkg["resources"]
    for res in pkg["resources"]:
        raw = (site / "data" / res["path"]).read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf"), res["path"]  # BOM for Excel
        assert res["hash"] == "sha256:" + hashlib.sha256(raw).hexdigest()
        assert res["bytes"] == len(raw)
        header = next(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
        assert header == [f["name"] for f in res["schema"]["fields"]]
        rows = json.loads((site / "data" / (res["name"] + ".json")).read_text(encoding="utf-8"))
        assert len(rows) == len(list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))) - 1
    results = list(csv.DictReader(io.StringIO((site / "data/results.csv").read_text(encoding="utf-8-sig"))))
    assert len(results) == len(results_rows(data))  # every version, one row per item result
    assert {r["version"] for r in results} == {"1", "2"}


def test_atom_feeds_sitemap_robots(site):
    ns = {"a": "http://www.w3.org/2005/Atom"}
    feed = ET.parse(site / "feeds/results.xml").getroot()
    entries = feed.findall("a:entry", ns)
    assert len(entries) == 5
    assert any(e.find("a:title", ns).text.startswith("【更正】") for e in entries)
    for e in entries:
        assert e.find("a:id", ns).text.startswith("tag:sunshine.example,2025:shiyi/")
        assert e.find("a:link", ns).get("href").startswith("https://sunshine.example/shiyi/")
    tasks = ET.parse(site / "feeds/tasks.xml").getroot()
    assert tasks.findall("a:entry", ns)
    sm = ET.parse(site / "sitemap.xml").getroot()
    locs = [u.find("{http://www.sitemaps.org/schemas/sitemap/0.9}loc").text for u in sm]
    assert "https://sunshine.example/shiyi/tasks/2025-01/" in locs
    assert "https://sunshine.example/shiyi/about/" in locs
    assert "Sitemap: https://sunshine.example/shiyi/sitemap.xml" in (site / "robots.txt").read_text()


def test_search_filters_and_exact_lookup_index(site):
    doc = parse(site / "tasks/2025-01/index.html")
    assert "data-pagefind-body" in doc.find("main", id="main")[0]
    filters = {a["data-pagefind-filter"] for a in doc.find("span") if "data-pagefind-filter" in a}
    assert {"年度", "部门", "类别"} <= filters
    meta = json.loads((site / "search/lookup/meta.json").read_text())
    for key in (HOSTILE_CODE, HOSTILE_NAME):
        k = lookup.normalise(key)
        shard = json.loads((site / f"search/lookup/{lookup.fnv1a32(k) % meta['shards']}.json").read_text())
        assert shard[k][0][0] == HOSTILE_CODE and shard[k][0][2] == f"enterprises/{HOSTILE_CODE}/"
    assert (site / "pagefind" / "pagefind-ui.js").is_file()


def test_fnv1a32_matches_published_vectors():
    # FNV-1a 32-bit test vectors from the reference (Fowler/Noll/Vo, draft-eastlake-fnv, "fnv_test.c").
    assert lookup.fnv1a32("") == 0x811C9DC5
    assert lookup.fnv1a32("a") == 0xE40C292C
    assert lookup.fnv1a32("foobar") == 0xBF9CF968


# --------------------------------------------------------------------------- links and escaping


def test_all_relative_links_resolve(site):
    broken = []
    for page in all_pages(site):
        if page.name == "404.html":
            continue
        doc = parse(page)
        for attr, url in doc.links:
            assert not url.startswith("/"), (page, url)  # relative everywhere: works from any sub-path
            target = resolve(site, page, url)
            if target is None:
                continue
            if not target.is_file():
                broken.append((str(page.relative_to(site)), url))
                continue
            frag = url.partition("#")[2]
            if frag and target.suffix == ".html" and frag not in parse(target).ids:
                broken.append((str(page.relative_to(site)), url))
    assert broken == []


def test_hostile_data_renders_inert(site):
    page = site / f"enterprises/{HOSTILE_CODE}/index.html"
    html = page.read_text(encoding="utf-8")
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    doc = parse(page)
    assert HOSTILE_NAME in doc.text  # shown literally
    assert HOSTILE_NOTE in doc.text
    assert not doc.find("img")
    for p in all_pages(site):
        h = p.read_text(encoding="utf-8")
        assert "<script>alert" not in h and "onerror=alert" not in h.replace("&#34;&gt;&lt;img src=x onerror=alert", "")
    feed = (site / "feeds/results.xml").read_text(encoding="utf-8")
    assert "<script>" not in feed
    # site-wide data (the footer) is escaped in Pelican's own pages as well as in the record pages
    for rel in ("about/index.html", "index.html", "tasks/2025-01/index.html"):
        assert HOSTILE_ADDRESS in parse(site / rel).text
        assert "alert(2)</script>" not in (site / rel).read_text(encoding="utf-8")
    ET.fromstring(feed)  # still well-formed XML


# --------------------------------------------------------------------------- build behaviour


def _snapshot(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def test_failed_build_leaves_previous_output_untouched(site, tmp_path, monkeypatch):
    data = copy_data(tmp_path)
    out = tmp_path / "output"
    portal_build.build_site(data, out, search=False, quiet=True)
    before = _snapshot(out)
    inodes = {p: p.stat().st_ino for p in out.rglob("*")}
    calls = {"n": 0}
    original = render.Renderer.page

    def failing(self, page, digest):
        calls["n"] += 1
        if calls["n"] == 20:
            raise RuntimeError("disk full (injected)")
        return original(self, page, digest)

    monkeypatch.setattr(render.Renderer, "page", failing)
    with pytest.raises(RuntimeError, match="injected"):
        portal_build.build_site(data, out, search=False, quiet=True, incremental=False)
    assert calls["n"] == 20
    assert _snapshot(out) == before
    assert {p: p.stat().st_ino for p in out.rglob("*")} == inodes
    assert sorted(x.name for x in tmp_path.iterdir()) == ["data", "output", "output.cache"]  # no leftovers


def test_failed_search_index_leaves_previous_output_untouched(tmp_path, site, monkeypatch):
    data = copy_data(tmp_path)
    out = tmp_path / "output"
    portal_build.build_site(data, out, search=False, quiet=True)
    before = _snapshot(out)

    def broken(path):
        raise BuildError("Pagefind could not index the site (injected)")

    monkeypatch.setattr(portal_build, "run_pagefind", broken)
    with pytest.raises(BuildError, match="injected"):
        portal_build.build_site(data, out, quiet=True)
    assert _snapshot(out) == before


def test_incremental_build_rerenders_only_changed_pages(tmp_path, site):
    data = copy_data(tmp_path)
    out = tmp_path / "output"
    first = portal_build.build_site(data, out, search=False, quiet=True)
    assert first.reused == 0
    old_index = (out / "index.html").read_bytes()
    second = portal_build.build_site(data, out, search=False, quiet=True)
    assert second.rendered == 0 and second.reused == first.rendered
    assert _snapshot(out)["index.html"] == old_index
    # one new result for one target: its pages change, the other enterprise pages do not
    rows = results_rows(data)
    other = rows[0]["target"]
    other_page = out / f"enterprises/{other}/index.html"
    ino = other_page.stat().st_ino
    with (data / "results" / "2025.csv").open("a", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerow(
            ["2025-01", rows[4]["target"], "fire", "FIRE-01", "no_issue", "", "", "2025-05-20", "2025-05-21",
             "2025-05-22", "deputy_head", "1", ""])
    third = portal_build.build_site(data, out, search=False, quiet=True)
    assert 0 < third.rendered < first.rendered / 2
    assert other_page.stat().st_ino == ino  # unchanged page carried over, not rewritten
    assert "2025-05-22" in parse.__wrapped__(out / f"enterprises/{rows[4]['target']}/index.html").text


def test_data_error_stops_the_build_with_the_loaders_message(tmp_path, site, capsys):
    data = copy_data(tmp_path)
    out = tmp_path / "output"
    assert cli.main(["build", "--data", str(data), "--output", str(out), "--no-search", "--quiet"]) == 0
    before = _snapshot(out)
    path = data / "results" / "2025.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("2025-04-25", "2025-13-45"), encoding="utf-8")
    capsys.readouterr()
    assert cli.main(["build", "--data", str(data), "--output", str(out), "--no-search"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "results/2025.csv" in err and "2025-13-45" in err
    assert "Traceback" not in err
    assert _snapshot(out) == before


def test_missing_data_dir_and_unsafe_output_are_refused(tmp_path, site, capsys):
    assert cli.main(["build", "--data", str(tmp_path / "nope"), "--output", str(tmp_path / "o")]) == 1
    assert "expected a data directory" in capsys.readouterr().err
    data = copy_data(tmp_path)
    (tmp_path / "precious").mkdir()
    (tmp_path / "precious" / "thesis.txt").write_text("keep me")
    assert cli.main(["build", "--data", str(data), "--output", str(tmp_path / "precious"), "--no-search"]) == 1
    err = capsys.readouterr().err
    assert "refusing to replace" in err and "hint:" in err
    assert (tmp_path / "precious" / "thesis.txt").read_text() == "keep me"
    assert cli.main(["build", "--data", str(data), "--output", str(data), "--no-search"]) == 1
    assert "refusing to build into" in capsys.readouterr().err


def test_output_is_world_readable(site):
    assert os.stat(site).st_mode & 0o755 == 0o755


def test_missing_pagefind_fails_clearly(monkeypatch, tmp_path):
    import builtins

    real_import = builtins.__import__

    def no_pagefind(name, *a, **kw):
        if name == "pagefind":
            raise ImportError(name)
        return real_import(name, *a, **kw)

    monkeypatch.setattr(builtins, "__import__", no_pagefind)
    with pytest.raises(BuildError) as exc:
        portal_build.run_pagefind(tmp_path)
    assert "pagefind" in exc.value.message and "--no-search" in exc.value.hint


@pytest.mark.parametrize("odd", ["", "a&b/index.html", "t<1>/x.html", "e/新/index.html", "index.html/index.html"])
def test_sitemap_rows_as_written_one_by_one(odd):
    """The sitemap's C-level formatting of every row at once gives the bytes of the plain per-row
    formatting (escaped locations, ``index.html`` dropped, ``404.html`` left out, pages in path order)."""
    from xml.sax.saxutils import escape

    from sunshine.portal import feeds

    pages = {"tasks/2025-01/index.html": "2025-03-01", "404.html": "", "index.html": "2025-04-02",
             "enterprises/X1/index.html": "2025-01-05", "results/2025-03/index.html": "", "plans/2025.html": "2025-01-01"}
    if odd:
        pages[odd] = "2025-02-02"
    base = "https://x.example/a&b/"
    rows = []
    for path in sorted(pages):
        if path == "404.html":
            continue
        loc = path[: -len("index.html")] if path.endswith("/index.html") else "" if path == "index.html" else path
        lm = f"<lastmod>{pages[path]}</lastmod>" if pages[path] else ""
        rows.append(f"<url><loc>{escape(base + loc)}</loc>{lm}</url>")
    rows.append(f"<url><loc>{escape(base)}about/</loc></url>")
    expected = "\n".join(['<?xml version="1.0" encoding="UTF-8"?>',
                          '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">', *rows, "</urlset>\n"])
    assert feeds.sitemaps({"public_url": base}, pages, [("about/index.html", "关于")]) == {
        "sitemap.xml": expected.encode("utf-8")}


def test_sitemap_becomes_an_index_above_50000_urls():
    from sunshine.portal import feeds

    pages = {f"enterprises/E{i}/index.html": "" for i in range(feeds.SITEMAP_LIMIT + 10)}
    out = feeds.sitemaps({"public_url": "https://x.example/s/"}, pages, [("about/index.html", "关于")])
    assert sorted(out) == ["sitemap.xml", "sitemaps/1.xml", "sitemaps/2.xml"]
    index = ET.fromstring(out["sitemap.xml"])
    assert index.tag == "{http://www.sitemaps.org/schemas/sitemap/0.9}sitemapindex"
    assert [s[0].text for s in index] == ["https://x.example/s/sitemaps/1.xml", "https://x.example/s/sitemaps/2.xml"]
    sizes = [len(ET.fromstring(out[f"sitemaps/{n}.xml"])) for n in (1, 2)]
    assert sizes == [feeds.SITEMAP_LIMIT, 11]
