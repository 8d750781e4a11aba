"""Atom feeds (RFC 4287), ``sitemap.xml`` (sitemaps.org 0.9) and ``robots.txt``.

Feeds and the sitemap need absolute URLs: they are built on ``site["public_url"]``
(``SUNSHINE_PUBLIC_URL``). Entry ids are stable ``tag:`` URIs (RFC 4151) derived from the ledger
origin and record ids, so moving the site does not make readers see every entry again.
``updated`` comes from the data (publication dates), never from the clock: the same data gives
the same bytes.
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from .. import model
from .privacy import iso
from .views import Index

FEED_SIZE = 50


def _tag(site: dict, what: str) -> str:
    host, _, path = site["origin"].partition("/")
    return f"tag:{host},2025:{path}/{what}" if path else f"tag:{host},2025:{what}"


def _time(d: str) -> str:
    return f"{d}T00:00:00Z" if d else "1970-01-01T00:00:00Z"


def _feed(site: dict, name: str, title: str, entries: list[dict]) -> bytes:
    base = site["public_url"]
    updated = max((e["updated"] for e in entries), default="")
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="zh-CN">',
        f"<title>{escape(site['title'] + ' — ' + title)}</title>",
        f"<id>{escape(_tag(site, 'feeds/' + name))}</id>",
        f"<link rel=\"self\" href={quoteattr(base + 'feeds/' + name + '.xml')}/>",
        f"<link rel=\"alternate\" type=\"text/html\" href={quoteattr(base)}/>",
        f"<updated>{_time(updated)}</updated>",
        f"<author><name>{escape(site['footer']['host'] or site['name'])}</name></author>",
    ]
    for e in entries:
        out += [
            "<entry>",
            f"<title>{escape(e['title'])}</title>",
            f"<id>{escape(e['id'])}</id>",
            f"<link rel=\"alternate\" type=\"text/html\" href={quoteattr(base + e['url'])}/>",
            f"<updated>{_time(e['updated'])}</updated>",
            f"<summary>{escape(e['summary'])}</summary>",
            "</entry>",
        ]
    out.append("</feed>\n")
    return "\n".join(out).encode("utf-8")


def files(ds: model.Dataset, ix: Index, site: dict) -> dict[str, bytes]:
    results = []
    for g in ix.groups[:FEED_SIZE]:
        r = g.current
        t = ix.target_pub(g.target)
        task = ix.tasks.get(g.task)
        title = f"{t['name']}：{'、'.join(c.label for c in r.codes)}"
        if r.version > 1:
            title = f"【更正】{title}"
        results.append({
            "id": _tag(site, f"result/{g.task}/{g.target}/{g.department}/v{r.version}"),
            "title": title,
            "url": t["url"],
            "updated": iso(r.published),
            "summary": f"{task.name if task else g.task}；检查结束 {iso(r.inspection_end)}；公示 {iso(r.published)}"
            + (f"；更正原因：{r.correction_reason}" if r.version > 1 else ""),
        })
    tasks = sorted(ds.tasks(), key=lambda t: (t.draw_date, t.id), reverse=True)[:FEED_SIZE]
    plan_published = {}
    for p in ds.plans:
        for v in p.versions:
            for t in v.tasks:
                plan_published.setdefault(t.id, iso(v.published))
    task_entries = [{
        "id": _tag(site, f"task/{t.id}"),
        "title": t.name,
        "url": f"tasks/{t.id}/",
        "updated": plan_published.get(t.id, iso(t.draw_date)),
        "summary": f"计划抽取日期 {iso(t.draw_date)}；检查期间 {iso(t.start)} 至 {iso(t.end)}"
        + ("；部门联合抽查" if t.joint else ""),
    } for t in tasks]
    return {
        "feeds/results.xml": _feed(site, "results", "检查结果公示", results),
        "feeds/tasks.xml": _feed(site, "tasks", "抽查任务", task_entries),
    }


def _loc(path: str) -> str:
    if path.endswith("/index.html"):
        return path[: -len("index.html")]
    return "" if path == "index.html" else path


def _locs(paths: list[str]) -> list[str]:
    """``escape(_loc(path))`` of each path; by a few C-level passes over all of them at once when no
    path needs escaping or holds a line break (at province scale: 150,000 record pages)."""
    joined = "\n".join(paths)
    if not paths or any(c in joined for c in "&<>") or joined.count("\n") != len(paths) - 1:
        return [escape(_loc(p)) for p in paths]
    # a path ending in /index.html loses its index.html; "index.html" itself becomes ""
    joined = ("\n" + joined + "\n").replace("/index.html\n", "/\n").replace("\nindex.html\n", "\n\n")
    return joined[1:-1].split("\n")


SITEMAP_LIMIT = 50_000  # URLs per sitemap file (sitemaps.org protocol)


def sitemaps(site: dict, pages: dict[str, str], content_pages: list[tuple[str, str]]) -> dict[str, bytes]:
    """``sitemap.xml`` of *pages* (path → lastmod, ``""`` for none; in path order, ``404.html`` left
    out) and then *content_pages* (``(save_as, title)``); above 50,000 URLs it becomes a sitemap index of
    ``sitemaps/<n>.xml``."""
    base = escape(site["public_url"])
    paths = sorted(pages)
    lastmods = list(map(pages.__getitem__, paths))
    if "404.html" in pages:
        i = paths.index("404.html")
        del paths[i], lastmods[i]
    urls = [f"<url><loc>{base}{loc}</loc><lastmod>{lm}</lastmod></url>" if lm else f"<url><loc>{base}{loc}</loc></url>"
            for loc, lm in zip(_locs(paths), lastmods)]
    urls += [f"<url><loc>{base}{escape(_loc(save_as))}</loc></url>" for save_as, _title in content_pages]

    def urlset(chunk: list[str]) -> bytes:
        return "\n".join(['<?xml version="1.0" encoding="UTF-8"?>',
                          '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">', *chunk,
                          "</urlset>\n"]).encode("utf-8")

    if len(urls) <= SITEMAP_LIMIT:
        return {"sitemap.xml": urlset(urls)}
    out: dict[str, bytes] = {}
    index = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    for n, i in enumerate(range(0, len(urls), SITEMAP_LIMIT), 1):
        out[f"sitemaps/{n}.xml"] = urlset(urls[i : i + SITEMAP_LIMIT])
        index.append(f"<sitemap><loc>{base}sitemaps/{n}.xml</loc></sitemap>")
    index.append("</sitemapindex>\n")
    out["sitemap.xml"] = "\n".join(index).encode("utf-8")
    return out


def robots(site: dict) -> bytes:
    return f"User-agent: *\nAllow: /\nSitemap: {site['public_url']}sitemap.xml\n".encode()
