"""The Renderer's writes: batches handed to the writer threads, the manifest rows they record,
directories made once, links to the previous output, and errors (the first one, in order)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sunshine.errors import BuildError
from sunshine.portal import render
from sunshine.portal.views import Page



def renderer(out: Path, **kw) -> render.Renderer:
    templates = out.parent / "templates"
    templates.mkdir(exist_ok=True)
    (templates / "t.html").write_text("<title>{{ page_title }} - T</title>\n{{ path }} {{ root }}\n", encoding="utf-8")
    env = render.make_environment(templates)
    out.mkdir(parents=True, exist_ok=True)
    return render.Renderer(env, b"d", out, **kw)


def pages(n: int) -> list[Page]:
    # several pages per directory (listings) and one per directory (records), two levels deep
    return [Page(path=f"a/{i // 3}/index.html" if i % 3 == 0 else f"a/{i // 3}/{i % 3}/index.html",
                 template="t.html", ctx={}, title=f"页{i}") for i in range(n)]


def _check_manifest(r: render.Renderer, out: Path) -> None:
    for rel, (key, size, mtime) in r.files.items():
        st = os.stat(out / rel)
        assert (size, mtime) == (st.st_size, st.st_mtime_ns), rel
        assert len(key) in (40, 47)


@pytest.mark.parametrize("batch,max_pending,n", [(1, 4096, 5), (16, 4096, 37), (4, 6, 50), (16, 8, 100)])
def test_every_page_is_written_and_recorded(tmp_path, monkeypatch, batch, max_pending, n):
    monkeypatch.setattr(render, "BATCH", batch)
    monkeypatch.setattr(render, "MAX_PENDING", max_pending)
    out = tmp_path / "out"
    r = renderer(out, writers=3)
    ps = pages(n)
    for p in ps:
        r.page(p, b"s")
    r.file("x/data.csv", b"a,b\n")
    r.finish()
    assert r.rendered == n + 1 and len(r.files) == n + 1
    _check_manifest(r, out)
    for p in ps:
        html = (out / p.path).read_text(encoding="utf-8")
        assert f"<title>{p.title} - T</title>" in html
    assert (out / "x/data.csv").read_bytes() == b"a,b\n"


def test_pages_equal_a_renderer_with_one_write_per_task(tmp_path, monkeypatch):
    """Batching changes nothing in the output or the manifest keys."""
    ps = pages(40)
    got = {}
    for batch in (1, 16):
        monkeypatch.setattr(render, "BATCH", batch)
        out = tmp_path / f"b{batch}"
        r = renderer(out)
        for p in ps:
            r.page(p, b"s")
        r.finish()
        got[batch] = ({rel: row[0] for rel, row in r.files.items()},
                      {p.path: (out / p.path).read_bytes() for p in ps})
    assert got[1] == got[16]


def test_directories_are_made_once(tmp_path, monkeypatch):
    """No mkdir of a directory already made (one writer thread: with several, two may race for
    the same directory, and the second finds it there)."""
    out = tmp_path / "out"
    r = renderer(out, writers=1)
    made, existed = [], []
    real = os.mkdir

    def mkdir(path, *a, **k):
        try:
            real(path, *a, **k)
        except FileExistsError:
            existed.append(os.fspath(path))
            raise
        made.append(os.fspath(path))

    monkeypatch.setattr(render.os, "mkdir", mkdir)
    for p in pages(60):
        r.page(p, b"s")
    r.finish()
    dirs = {os.path.dirname(os.path.join(out, rel)) for rel in r.files} | {os.path.join(out, "a")}
    assert sorted(made) == sorted(dirs) and existed == []


def test_unchanged_pages_are_linked_from_the_previous_output(tmp_path):
    ps = pages(20)
    r = renderer(tmp_path / "one")
    for p in ps:
        r.page(p, b"s")
    r.finish()
    r2 = renderer(tmp_path / "two", previous=tmp_path / "one", manifest=r.files)
    changed = Page(path=ps[4].path, template="t.html", ctx={}, title="新")
    for p in ps[:4] + [changed] + ps[5:]:
        r2.page(p, b"s")
    r2.finish()
    assert (r2.reused, r2.rendered) == (19, 1)
    for p in ps:
        a, b = tmp_path / "one" / p.path, tmp_path / "two" / p.path
        assert (os.stat(a).st_ino == os.stat(b).st_ino) == (p is not ps[4])
    _check_manifest(r2, tmp_path / "two")


def test_the_first_failed_write_is_raised(tmp_path, monkeypatch):
    monkeypatch.setattr(render, "BATCH", 4)
    out = tmp_path / "out"
    r = renderer(out, writers=2)
    ps = pages(30)
    # files where two pages' directories should be: both writes fail, the earlier one is reported
    (out / "a").mkdir()
    (out / "a" / "3").write_text("x")
    (out / "a" / "7").write_text("x")
    with pytest.raises(OSError) as e:
        for p in ps:
            r.page(p, b"s")
        r.finish()
    assert "a/3" in str(e.value) and "a/7" not in str(e.value)
    r.abort()  # after a failure: idempotent


def test_two_pages_with_one_path_are_refused(tmp_path):
    r = renderer(tmp_path / "out")
    r.page(pages(1)[0], b"s")
    with pytest.raises(BuildError, match="two pages want the same path 'a/0/index.html'"):
        r.page(pages(1)[0], b"s")
    r.abort()


@pytest.mark.parametrize("in_place", [False, True])
def test_keep_carries_a_previous_file_only_while_it_is_as_recorded(tmp_path, in_place):
    r = renderer(tmp_path / "one")
    for rel in ("s/0.json", "s/1.json", "s/2.json"):
        r.file(rel, rel.encode())
    r.finish()
    os.utime(tmp_path / "one" / "s/1.json", ns=(1, 1))  # no longer as the manifest records it
    out = tmp_path / "one" if in_place else tmp_path / "two"
    r2 = renderer(tmp_path / "stage" if in_place else out, previous=tmp_path / "one", manifest=r.files,
                  link_unchanged=not in_place)
    assert r2.keep("s/0.json")
    assert not r2.keep("s/1.json")  # changed since: the caller must make it
    assert not r2.keep("s/9.json")  # never made
    with pytest.raises(BuildError, match="same path"):
        r2.keep("s/0.json")
    r2.finish()
    assert r2.files == {"s/0.json": r.files["s/0.json"]}
    assert r2.reused == 1 and r2.rendered == 0
    assert (out / "s/0.json").read_bytes() == b"s/0.json"
    if not in_place:
        assert os.stat(out / "s/0.json").st_ino == os.stat(tmp_path / "one" / "s/0.json").st_ino
