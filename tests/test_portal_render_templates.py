"""The fast paths of page rendering give the same HTML as the straightforward ones.

* :func:`sunshine.portal.render.make_environment` (dict-first ``x.y``, output escaping without
  ``Markup`` objects, the synchronous ``join`` filter) renders every record page of two data sets
  (the portal tests' data, with HTML/JS and quotes in a name, an address and a note; and, marked
  slow because verifying its ledger takes a while, the repository's sample data with its ledger)
  exactly as a stock Jinja2 environment with the same options does;
* the result cards written out in ``enterprise.html`` and ``results_task.html`` are the HTML of
  the ``result_card`` macro of ``macros.html`` (the single source for ``results.html``), for
  varied rows: corrected with several earlier versions, items with and without sub-codes and
  notes, a task without a page, hostile strings.
"""

from __future__ import annotations

import gc
from pathlib import Path

import jinja2
import markupsafe
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sunshine.loading import load_dataset
from sunshine.portal import generator, ledger_view, render, views

from portal_site import HOSTILE_ADDRESS, HOSTILE_NAME, HOSTILE_NOTE, make_data

REPO = Path(__file__).resolve().parent.parent
TEMPLATES = REPO / "theme" / "templates"


def stock_environment() -> jinja2.Environment:
    """Jinja2 as it comes, with the portal's options."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True, trim_blocks=True,
        lstrip_blocks=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
        auto_reload=False, cache_size=-1,
    )


def record_pages(data: Path) -> tuple[dict, list[views.Page]]:
    ds = load_dataset(data)
    ledger = ledger_view.load(data / "ledger", ds)
    ix = views.Index(ds)
    draws = ledger["draws"] if ledger else {}
    by_target = ledger["by_target"] if ledger else {}
    pages = [views.Page(path="index.html", template="index.html", ctx=views.home_context(ix, ledger),
                        title="首页", section="home")]
    pages += views.item_pages(ix) + views.plan_pages(ix) + views.task_pages(ix, draws)
    pages += views.result_pages(ix) + views.enterprise_pages(ix, by_target)
    pages += ledger_view.pages(ledger, ds)
    return generator.site_globals(ds, {}, ledger), pages


def render_page(env: jinja2.Environment, page: views.Page) -> str:
    """What Renderer.page renders for *page* (with the chrome included, not spliced)."""
    root = views.root_of(page.path)
    return env.get_template(page.template).render(
        page.ctx, root=root, home=root or "./", page_title=page.title, section=page.section,
        search_body=page.search, filters=page.filters, path=page.path)


@pytest.fixture(scope="module")
def hostile_data(tmp_path_factory) -> Path:
    return make_data(tmp_path_factory.mktemp("render_templates"))


@pytest.mark.parametrize("which", [pytest.param("sample", marks=pytest.mark.slow), "hostile"])
def test_portal_environment_renders_every_page_like_stock_jinja2(which, hostile_data):
    data = REPO / "data" if which == "sample" else hostile_data
    site, pages = record_pages(data)
    fast, stock = render.make_environment(TEMPLATES), stock_environment()
    fast.globals["site"] = stock.globals["site"] = site
    templates = set()
    for page in pages:
        a, b = render_page(fast, page), render_page(stock, page)
        assert a == b, f"{page.path} ({page.template}) renders differently"
        templates.add(page.template)
    # every kind of record page was compared, and the hostile strings were there, escaped
    assert {"enterprise.html", "results_task.html", "results_month.html", "results.html", "task.html"} <= templates
    if which == "sample":
        assert {"ledger.html", "ledger_entries.html"} <= templates
    else:
        html = "".join(render_page(fast, p) for p in pages if p.template == "enterprise.html")
        assert str(markupsafe.escape(HOSTILE_NAME)) in html and str(markupsafe.escape(HOSTILE_NOTE)) in html
        assert str(markupsafe.escape(HOSTILE_ADDRESS)) in html  # in the footer
        assert "<script>" not in html and "<img src=x" not in html
    gc.collect()


def test_portal_templates_escape_with_the_fast_function():
    env = render.make_environment(TEMPLATES)
    for name in ("enterprise.html", "results_task.html", "macros.html", "base.html"):
        namespace = env.get_template(name).root_render_func.__globals__
        assert namespace["escape"] is render._escape_output, name  # noqa: SLF001
    assert env.filters["join"] is jinja2.filters.sync_do_join


class Html:
    def __html__(self):
        return "<b>safe</b>"


@pytest.mark.parametrize("value", [
    "", "plain 文字", '<script>alert("x")</script>&\'', markupsafe.Markup("<i>ok</i>"), 42, 3.5, None,
    True, Html(), ["<a>"],
])
def test_escape_output_is_markupsafe_escape(value):
    assert render._escape_output(value) == str(markupsafe.escape(value))  # noqa: SLF001


@given(st.text())
def test_escape_output_of_any_text(s):
    assert render._escape_output(s) == str(markupsafe.escape(s))  # noqa: SLF001
    assert type(render._escape_output(s)) is str  # noqa: SLF001


# --------------------------------------------------------------------------- cards written out


def _item(i: int, hostile: bool) -> dict:
    return {
        "id": f"AMR-{i:02d}",
        "name": (HOSTILE_NAME if hostile else f"检查事项{i}") if i % 3 else "",
        "codes": ["未发现问题", "<b>发现问题</b>"] if i % 2 else ["未发现问题"],
        "sub_codes": ["未按规定公示", "x&y"] if i % 4 == 1 else [],
        "note": HOSTILE_NOTE if i % 5 == 2 else "",
    }


def _version(v: int, n_items: int, hostile: bool, reason: str) -> dict:
    return {
        "department": "市场监管局" if not hostile else "<em>局</em>",
        "version": v,
        "inspection_end": "2025-04-18",
        "published": f"2025-0{v + 3}-25",
        "codes": ["未发现问题", "发现问题已责令改正"][: 1 + v % 2],
        "items": [_item(i, hostile) for i in range(n_items)],
        "correction_reason": reason,
        "approver_role": "主要负责人" if not hostile else '"负责人"',
    }


def card_rows() -> list[dict]:
    rows = []
    for k in range(12):
        hostile = k % 4 == 3
        n_old = (0, 1, 2)[k % 3]
        history = [_version(v, (k + v) % 4, hostile, "录入错误<script>" if v > 1 else "")
                   for v in range(n_old, 0, -1)]
        current = _version(n_old + 1, 1 + k % 3, hostile, "原结果录入错误" if n_old else "")
        rows.append({
            "current": current,
            "history": history,
            "corrected": bool(n_old),
            "first_published": "2025-04-25",
            "target": {"name": HOSTILE_NAME if hostile else f"企业{k}", "code": f"9137{k:014d}",
                       "url": f"enterprises/9137{k:014d}/"},
            "task": {"id": "2025-01", "name": HOSTILE_NAME if hostile else "2025年抽查",
                     "url": "" if k % 5 == 4 else "tasks/2025-01/"},
        })
    return rows


@pytest.mark.parametrize("env_kind", ["portal", "stock"])
def test_written_out_cards_are_the_macro(env_kind):
    env = render.make_environment(TEMPLATES) if env_kind == "portal" else stock_environment()
    env.globals["site"] = {"title": "T", "short_title": "t", "sample": False, "nav": [], "footer": {},
                           "has_ledger": False}
    rows = card_rows()
    assert any(r["corrected"] and len(r["history"]) == 2 for r in rows)
    macro = env.from_string(
        '{% from "macros.html" import result_card %}'
        "{% for row in rows %}{{ result_card(row, root, show_target=show_target, show_task=show_task) }}"
        "{% endfor %}")
    common = {"root": "../../", "home": "../../", "page_title": "x", "section": "s", "search_body": False,
              "filters": {}, "path": "p/index.html", "chrome": {"head": "", "header": "", "footer": ""}}
    ent = env.get_template("enterprise.html").render(
        target={"name": "n", "code": "c", "kind": "", "division": ""}, draws=[], results=rows, **common)
    want = macro.render(rows=rows, root="../../", show_target=False, show_task=True)
    assert want.count("<article") == len(rows) and want in ent
    common["root"] = "../../../"
    listing = env.get_template("results_task.html").render(
        task={"id": "2025-01", "name": "t", "url": "tasks/2025-01/"}, rows=rows, count=len(rows),
        pager={"total": 1}, **common)
    want = macro.render(rows=rows, root="../../../", show_target=True, show_task=False)
    assert want.count("<article") == len(rows) and want in listing
    assert "<script>" not in ent + listing and "<em>" not in ent + listing
