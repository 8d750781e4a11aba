"""Shared by the portal tests: a small sample data directory with results, and its built site.

The data is the fictional jurisdiction of ``sunshine demo-data`` (300 targets), plus hand-written
results (an original, a correction with its reason, a late publication) and one target whose
name and one result note carry HTML/JS and quotes, to check that everything renders inert.
"""

from __future__ import annotations

import csv
import functools
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from sunshine import cli, uscc

HOSTILE_NAME = '示例市<script>alert("x")</script>&"引号"\'商行'
HOSTILE_ADDRESS = "示例路1号<script>alert(2)</script>"
HOSTILE_NOTE = '"><img src=x onerror=alert(1)>备注'
# A valid USCC for the hostile target (GB 32100 check character computed, not typed).
HOSTILE_CODE = "91379902MA0000001" + uscc.check_character("91379902MA0000001")

_cache: dict[str, Path] = {}


def make_data(dest: Path) -> Path:
    data = dest / "data"
    # directories and plans only: the results below are hand-written; the ledger tests add ledgers
    assert cli.main(["demo-data", "--scale", "300", "--out", str(data), "--no-ledger"]) == 0
    assert not (data / "ledger").exists()
    shutil.rmtree(data / "results", ignore_errors=True)
    jur = data / "jurisdiction.yaml"
    text = jur.read_text(encoding="utf-8")
    assert "address: 示例市明湖区示例路1号（虚构地址）" in text
    jur.write_text(text.replace("address: 示例市明湖区示例路1号（虚构地址）", f"address: '{HOSTILE_ADDRESS}'"),
                   encoding="utf-8")
    targets = list(csv.DictReader((data / "targets.csv").open(encoding="utf-8-sig")))
    food = [t for t in targets if t["status"] == "active" and t["kind"] in ("enterprise", "individual")
            and any(i.startswith(("F52", "H62")) for i in t["industries"].split(";"))]
    assert len(food) >= 3, "demo data has too few food businesses for the fixture"
    with (data / "targets.csv").open("a", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerow(
            [HOSTILE_CODE, HOSTILE_NAME, "enterprise", "379902", "F5211", "active", "", "D", "2020-01-01"])
    rows = [
        # task, target, department, item, codes, sub_codes, note, end, entered, published, approver, version, reason
        ("2025-01", food[0]["code"], "amr", "AMR-03", "no_issue", "", "", "2025-04-18", "2025-04-20",
         "2025-04-25", "deputy_head", "1", ""),
        ("2025-01", food[0]["code"], "fire", "FIRE-01", "issue_corrected", "", "疏散通道堵塞，已当场整改",
         "2025-04-18", "2025-04-21", "2025-04-28", "deputy_head", "1", ""),
        ("2025-01", food[1]["code"], "amr", "AMR-03", "issue_pending", "not_publicised", "", "2025-04-22",
         "2025-04-23", "2025-05-06", "deputy_head", "1", ""),
        ("2025-01", food[1]["code"], "amr", "AMR-03", "no_issue", "", "", "2025-04-22",
         "2025-06-03", "2025-06-05", "head", "2", "原结果录入错误：企业已按期公示年度报告"),
        # published late: 2025-09-26 + 20 working days (调休) = 2025-10-30
        ("2025-01", food[2]["code"], "amr", "AMR-04", "no_issue", "", "", "2025-09-26", "2025-10-31",
         "2025-11-03", "deputy_head", "1", ""),
        ("2025-01", HOSTILE_CODE, "amr", "AMR-03", "other", "", HOSTILE_NOTE, "2025-04-25", "2025-04-27",
         "2025-04-29", "deputy_head", "1", ""),
    ]
    (data / "results").mkdir(exist_ok=True)
    with (data / "results" / "2025.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["task", "target", "department", "item", "codes", "sub_codes", "note", "inspection_end",
                    "entered", "published", "approver_role", "version", "correction_reason"])
        w.writerows(rows)
    return data


def sample_site(tmp_path_factory) -> tuple[Path, Path]:
    """(data dir, built output dir), built once per test session (search index included)."""
    if "site" not in _cache:
        from sunshine.portal.build import build_site

        base = tmp_path_factory.mktemp("portal")
        data = make_data(base)
        out = base / "site" / "output"
        build_site(data, out, quiet=True)
        _cache["data"], _cache["site"] = data, out
    return _cache["data"], _cache["site"]


def copy_data(tmp_path: Path) -> Path:
    """A private copy of the sample data directory (for tests that change it)."""
    src = _cache["data"]
    dst = tmp_path / "data"
    shutil.copytree(src, dst)
    return dst


class Doc(HTMLParser):
    """A parsed page: links, ids, text, and elements by tag (enough for assertions)."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str]] = []  # (attribute, url)
        self.ids: set[str] = set()
        self.tags: list[tuple[str, dict]] = []
        self.text_parts: list[str] = []
        self._skip = 0
        self.feed(html)
        self.text = "".join(self.text_parts)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if "id" in a:
            self.ids.add(a["id"])
        for attr in ("href", "src"):
            if a.get(attr) is not None:
                self.links.append((attr, a[attr]))
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.text_parts.append(data)

    def find(self, tag: str, **attrs) -> list[dict]:
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())]


@functools.lru_cache(maxsize=None)
def parse(path: Path) -> Doc:
    return Doc(path.read_text(encoding="utf-8"))


def resolve(site: Path, page: Path, url: str) -> Path | None:
    """The file a relative link of *page* points to, or None for external/fragment-only links."""
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or url.startswith(("mailto:", "tel:", "data:", "javascript:")):
        return None
    if not parts.path:
        return None
    target = (page.parent / unquote(parts.path)).resolve()
    if parts.path.endswith("/") or target.is_dir():
        target = target / "index.html"
    return target


def all_pages(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*.html") if "pagefind" not in p.relative_to(site).parts)


ID_CARD = re.compile(r"(?<![0-9A-Za-z])[1-9]\d{5}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![0-9A-Za-z])")
MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
