"""Record pages rendered in forked worker processes (sunshine.portal.parallel) and the shared
chrome and environment of sunshine.portal.render: the same bytes as one process; a failing or dying
worker fails the build cleanly (BuildError, no stray process, previous output untouched)."""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

import jinja2
import pytest

from portal_site import make_data
from sunshine.errors import BuildError
from sunshine.portal import build as portal_build
from sunshine.portal import parallel, render
from sunshine.portal.views import Page

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return make_data(tmp_path_factory.mktemp("parallel"))


def _snapshot(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def _build(data: Path, out: Path, workers, **kw) -> portal_build.BuildStats:
    return portal_build.build_site(data, out, search=False, quiet=True, incremental=False,
                                   extra_settings={"SUNSHINE_WORKERS": workers}, **kw)


def _children() -> set[int]:
    """Live child processes of this process (from /proc)."""
    me = str(os.getpid())
    out = set()
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                stat = Path(f"/proc/{pid}/stat").read_text()
            except OSError:
                continue
            if stat.rsplit(")", 1)[1].split()[1] == me:
                out.add(int(pid))
    return out


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch) -> None:
    monkeypatch.setattr(parallel, "MIN_CHUNK", 4)  # the fixture site has few pages: many chunks anyway


def test_workers_write_the_same_bytes_as_one_process(data: Path, tmp_path: Path) -> None:
    one = _build(data, tmp_path / "one", 1)
    three = _build(data, tmp_path / "three", 3)
    assert one.pages == three.pages > 40
    assert one.rendered == three.rendered
    assert _snapshot(tmp_path / "one") == _snapshot(tmp_path / "three")
    m1 = render.load_manifest(tmp_path / "one.cache" / "manifest.bin")
    m3 = render.load_manifest(tmp_path / "three.cache" / "manifest.bin")
    assert {k: v[0] for k, v in m1.items()} == {k: v[0] for k, v in m3.items()}  # same input hashes


def test_incremental_build_with_workers_reuses_everything(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    first = _build(data, out, 2)
    before = _snapshot(out)
    again = portal_build.build_site(data, out, search=False, quiet=True, incremental=True,
                                    extra_settings={"SUNSHINE_WORKERS": 2})
    assert again.rendered == 0 or again.rendered < first.rendered // 10
    assert _snapshot(out) == before


def test_workers_setting_is_checked(data: Path, tmp_path: Path) -> None:
    for bad in (0, -1, "two", 1.5, True):
        with pytest.raises(BuildError, match="SUNSHINE_WORKERS: expected a whole number >= 1 or 'auto'"):
            _build(data, tmp_path / "bad", bad)


def _broken_theme(tmp_path: Path) -> Path:
    theme = tmp_path / "theme"
    shutil.copytree(REPO / "theme", theme)
    t = theme / "templates" / "enterprise.html"
    t.write_text(t.read_text(encoding="utf-8").replace("{{ target.name }}", "{{ target.no_such_field }}", 1),
                 encoding="utf-8")
    return theme


def test_a_template_error_in_a_worker_fails_the_build_and_keeps_the_old_site(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    _build(data, out, 1)
    before = _snapshot(out)
    kids = _children()
    with pytest.raises(BuildError, match=r"rendering enterprises/.+/index\.html with enterprise\.html: .*no_such_field"):
        _build(data, out, 3, theme=_broken_theme(tmp_path))
    assert _snapshot(out) == before
    assert _children() == kids  # every worker reaped
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("site.new-")]


def test_a_worker_that_dies_fails_the_build(data: Path, tmp_path: Path, monkeypatch) -> None:
    parent = os.getpid()
    real = render.Renderer.page

    def page(self, p, site_digest):
        if os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(self, p, site_digest)

    monkeypatch.setattr(render.Renderer, "page", page)
    out = tmp_path / "site"
    kids = _children()
    with pytest.raises(BuildError, match="page-rendering worker 1 was killed by signal SIGKILL") as e:
        _build(data, out, 2)
    assert e.value.hint
    assert _children() == kids
    assert not out.exists()


def test_render_pages_rejects_two_pages_with_one_path(tmp_path: Path) -> None:
    env = render.make_environment(REPO / "theme" / "templates")
    r = render.Renderer(env, b"", tmp_path)
    p = Page(path="a/index.html", template="404.html", ctx={}, title="x")
    with pytest.raises(BuildError, match="two pages want the same path 'a/index.html'"):
        parallel.render_pages(r, lambda: r, [p, Page(path="a/index.html", template="404.html", ctx={}, title="y")],
                              b"", 2)
    r.abort()


SITE = {"title": "T", "short_title": "S", "sample": False,
        "nav": [{"id": "home", "label": "首页", "url": ""}, {"id": "tasks", "label": "任务", "url": "tasks/"}],
        "footer": {k: "" for k in ("host", "organiser", "address", "phone", "icp", "police_record", "website_code")}}


def test_chrome_is_rendered_once_per_root_and_section(tmp_path: Path) -> None:
    env = render.make_environment(REPO / "theme" / "templates")
    env.globals["site"] = SITE
    r = render.Renderer(env, b"", tmp_path)
    a = r.chrome("../../", "tasks")
    assert r.chrome("../../", "tasks") is a
    assert 'href="../../tasks/" aria-current="page"' in a["header"]
    assert 'href="../../theme/css/site.css"' in a["head"]
    b = r.chrome("", "home")
    assert '<a class="brand" href="./">' in b["header"] and 'href="" aria-current="page"' in b["header"]
    r.abort()


def test_chrome_partials_see_only_site_root_home_section(tmp_path: Path) -> None:
    theme = tmp_path / "templates"
    shutil.copytree(REPO / "theme" / "templates", theme)
    (theme / "_footer.html").write_text("<footer>{{ page_title }}</footer>\n", encoding="utf-8")
    env = render.make_environment(theme)
    env.globals["site"] = SITE
    r = render.Renderer(env, b"", tmp_path)
    with pytest.raises(BuildError, match="rendering the shared _footer.html for pages under ../: .*page_title"):
        r.chrome("../", "x")
    r.abort()


def test_environment_attribute_lookup_matches_jinja2(tmp_path: Path) -> None:
    """x.y on a dict: the item first unless y is a dict method, exactly as plain Jinja2 resolves it."""
    src = ("{{ d.a }}|{{ d['items'] }}|{{ d.items() | list | length }}|{{ d.get('a') }}|{{ o.real }}|"
           "{{ d.missing is defined }}|{{ n.b.c }}")
    ctx = {"d": {"a": 1, "items": "I", "get": "G"}, "o": 5, "n": {"b": {"c": "<x>"}}}
    ours = render.PortalEnvironment(autoescape=True, undefined=jinja2.StrictUndefined).from_string(src).render(ctx)
    plain = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined).from_string(src).render(ctx)
    assert ours == plain == "1|I|3|1|5|False|&lt;x&gt;"
    with pytest.raises(jinja2.UndefinedError):
        render.PortalEnvironment(undefined=jinja2.StrictUndefined).from_string("{{ d.missing + 1 }}").render(ctx)


def test_page_inputs_fall_back_to_repr_and_differ_by_content() -> None:
    a = Page(path="p", template="t", ctx={"x": ["1", 2]}, title="t")
    b = Page(path="p", template="t", ctx={"x": ["1", 3]}, title="t")
    assert render.page_inputs(a).startswith(b"m") and render.page_inputs(a) != render.page_inputs(b)
    c = Page(path="p", template="t", ctx={"x": object()}, title="t")
    assert render.page_inputs(c).startswith(b"r")
    shared = "共享"
    d1 = Page(path="p", template="t", ctx={"x": [shared, shared]}, title="t")
    d2 = Page(path="p", template="t", ctx={"x": ["共享", "".join(["共", "享"])]}, title="t")
    assert render.page_inputs(d1) == render.page_inputs(d2)  # no back-references


def test_default_workers_and_chunks() -> None:
    assert parallel.default_workers() >= 1
    assert parallel._chunk_size(10) == parallel.MIN_CHUNK
    n = 5_000_000
    assert -(-n // parallel._chunk_size(n)) <= parallel.PIPE_CHUNKS


def test_the_downloads_worker_failing_fails_the_build(data: Path, tmp_path: Path, monkeypatch) -> None:
    """The downloads are written by a process of their own (SideJob): its
    death or its error fails the build like a page worker's, and leaves the previous output as it was."""
    from sunshine.portal import opendata

    out = tmp_path / "site"
    _build(data, out, 2)
    before = _snapshot(out)
    parent = os.getpid()
    real = opendata.files

    def dies(ds, ix):
        if os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(ds, ix)

    monkeypatch.setattr(opendata, "files", dies)
    kids = _children()
    with pytest.raises(BuildError, match="the worker process writing the downloads was killed by signal SIGKILL"):
        _build(data, out, 2)
    assert _children() == kids and _snapshot(out) == before

    def fails(ds, ix):
        raise BuildError("the downloads could not be made", hint="a hint from the worker")

    monkeypatch.setattr(opendata, "files", fails)
    with pytest.raises(BuildError, match="the downloads could not be made") as e:
        _build(data, out, 2)
    assert e.value.hint == "a hint from the worker"
    assert _children() == kids and _snapshot(out) == before


def test_side_job_returns_its_value_and_merges_its_files(tmp_path: Path) -> None:
    env = render.make_environment(REPO / "theme" / "templates")
    r = render.Renderer(env, b"", tmp_path)

    def write(renderer):
        renderer.file("x/a.txt", b"a")
        return {"n": 1}

    job = parallel.SideJob(lambda: render.Renderer(env, b"", tmp_path), write, "a test file")
    assert job.join(r) == {"n": 1}
    r.finish()
    assert (tmp_path / "x" / "a.txt").read_bytes() == b"a" and "x/a.txt" in r.files and r.rendered == 1


def test_forked_returns_its_value_or_raises_its_error() -> None:
    from sunshine.errors import DataError, Problem

    kids = _children()
    assert parallel.Forked(lambda: {"n": os.getpid()}, "a test").join()["n"] != os.getpid()

    def bad_data():
        raise DataError([Problem("results/2025.csv", "line 3", "task", "expected a task, got 'x'")], hint="a hint")

    with pytest.raises(DataError) as e:
        parallel.Forked(bad_data, "a test").join()
    assert e.value.problems == [Problem("results/2025.csv", "line 3", "task", "expected a task, got 'x'")]
    assert e.value.hint == "a hint" and "results/2025.csv, line 3, field 'task'" in e.value.message

    def dies():
        os.kill(os.getpid(), signal.SIGKILL)

    with pytest.raises(BuildError, match="the worker process checking was killed by signal SIGKILL"):
        parallel.Forked(dies, "checking").join()
    job = parallel.Forked(lambda: __import__("time").sleep(60), "sleeping")
    job.stop()
    assert _children() == kids
