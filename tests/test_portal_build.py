"""sunshine build's incremental mode (sunshine.portal.build): only changed files are rendered and
published in place; the result is byte-identical to a full build; a crash while publishing is
completed by the next build; anything but data changes falls back to a full build."""

from __future__ import annotations

import csv
import json
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest

from portal_site import make_data
from sunshine.portal import build as portal_build
from sunshine.portal import lookup

REPO = Path(__file__).resolve().parents[1]
HEADER = ["task", "target", "department", "item", "codes", "sub_codes", "note", "inspection_end", "entered",
          "published", "approver_role", "version", "correction_reason"]


@pytest.fixture(scope="module")
def base_data(tmp_path_factory) -> Path:
    return make_data(tmp_path_factory.mktemp("incremental"))


@pytest.fixture()
def data(base_data: Path, tmp_path: Path) -> Path:
    d = tmp_path / "data"
    shutil.copytree(base_data, d)
    return d


def _snapshot(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def _build(data: Path, out: Path, **kw) -> portal_build.BuildStats:
    return portal_build.build_site(data, out, search=kw.pop("search", False), quiet=True, **kw)


def _new_target(data: Path, taken: set[str]) -> str:
    """An active enterprise in scope of task 2025-01's AMR-03 item that has no result yet."""
    rows = list(csv.DictReader((data / "targets.csv").open(encoding="utf-8-sig")))
    for t in rows:
        if (t["status"] == "active" and t["kind"] == "enterprise" and t["code"] not in taken
                and any(i.startswith(("F52", "H62")) for i in t["industries"].split(";"))):
            return t["code"]
    raise AssertionError("no free target in the fixture")


def _add_result(data: Path, code: str, published: str) -> list[str]:
    day = date.fromisoformat(published)
    row = ["2025-01", code, "amr", "AMR-03", "no_issue", "", "", str(day - timedelta(days=3)),
           str(day - timedelta(days=2)), published, "deputy_head", "1", ""]
    with (data / "results" / "2025.csv").open("a", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerow(row)
    return row


def _results_codes(data: Path) -> set[str]:
    return {r["target"] for r in csv.DictReader((data / "results" / "2025.csv").open(encoding="utf-8"))}


def test_incremental_equals_a_full_build_when_pages_appear_and_disappear(data, tmp_path):
    out, ref = tmp_path / "output", tmp_path / "reference"
    first = _build(data, out)
    assert first.mode == "full" and first.why_full == ""
    # a new result for a new enterprise, published in a month that had no results: new pages
    code = _new_target(data, _results_codes(data))
    _add_result(data, code, "2025-07-15")
    inc = _build(data, out)
    assert inc.mode == "incremental", inc.why_full
    assert 0 < inc.rendered < first.rendered / 2
    assert (out / "enterprises" / code / "index.html").is_file()
    assert (out / "results" / "2025-07" / "index.html").is_file()
    _build(data, ref, incremental=False)
    assert _snapshot(out) == _snapshot(ref)
    # take it out again: its enterprise page and the month's listing are deleted
    text = (data / "results" / "2025.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    (data / "results" / "2025.csv").write_text("".join(text[:-1]), encoding="utf-8")
    back = _build(data, out)
    assert back.mode == "incremental" and back.deleted >= 2
    assert not (out / "enterprises" / code).exists() and not (out / "results" / "2025-07").exists()
    shutil.rmtree(ref)
    _build(data, ref, incremental=False)
    assert _snapshot(out) == _snapshot(ref)
    cache = tmp_path / "output.cache"
    assert sorted(p.name for p in cache.iterdir()) == ["data", "manifest.json", "state.json"]


def test_unchanged_pages_are_not_touched(data, tmp_path):
    out = tmp_path / "output"
    _build(data, out)
    inodes = {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in out.rglob("*") if p.is_file()}
    code = _new_target(data, _results_codes(data))
    _add_result(data, code, "2025-05-22")
    inc = _build(data, out)
    assert inc.mode == "incremental"
    after = {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in out.rglob("*") if p.is_file()}
    changed = {str(p.relative_to(out)) for p in after if inodes.get(p) != after[p]}
    assert len(changed) == inc.published
    assert "enterprises/index.html" in changed and "index.html" in changed
    assert f"enterprises/{code}/index.html" in changed
    assert not any(c.startswith("items/") or c.startswith("plans/") for c in changed)


def _crash_after(n: int):
    def hook(moved: int) -> None:
        if moved == n:
            raise portal_build._Crash(f"crash injected after {n} moves")

    return hook


@pytest.mark.parametrize("after", [1, 3])
def test_a_crash_while_publishing_is_completed_by_the_next_build(data, tmp_path, monkeypatch, capsys, after):
    out, ref = tmp_path / "output", tmp_path / "reference"
    _build(data, out)
    code = _new_target(data, _results_codes(data))
    _add_result(data, code, "2025-07-15")
    monkeypatch.setattr(portal_build, "_after_move", _crash_after(after))
    with pytest.raises(portal_build._Crash):
        _build(data, out)
    cache = tmp_path / "output.cache"
    journal = json.loads((cache / "journal.json").read_text(encoding="utf-8"))
    assert len(journal["moves"]) > after and (cache / journal["stage"]).is_dir()
    monkeypatch.setattr(portal_build, "_after_move", None)
    # the next build (here: with nothing else changed) first completes the interrupted one
    portal_build.build_site(data, out, search=False)
    assert "completed an interrupted incremental build" in capsys.readouterr().err
    assert not (cache / "journal.json").exists() and not list(cache.glob("stage-*"))
    _build(data, ref, incremental=False)
    assert _snapshot(out) == _snapshot(ref)


def test_recovery_alone_rolls_forward(data, tmp_path, monkeypatch):
    out, ref = tmp_path / "output", tmp_path / "reference"
    _build(data, out)
    _add_result(data, _new_target(data, _results_codes(data)), "2025-07-15")
    monkeypatch.setattr(portal_build, "_after_move", _crash_after(2))
    with pytest.raises(portal_build._Crash):
        _build(data, out)
    monkeypatch.setattr(portal_build, "_after_move", None)
    assert portal_build.recover(out, quiet=True).startswith("completed")
    assert portal_build.recover(out, quiet=True) == ""
    _build(data, ref, incremental=False)
    assert _snapshot(out) == _snapshot(ref)
    assert _build(data, out).published == 0  # nothing left to do


def test_a_failure_before_publishing_leaves_the_output_untouched(data, tmp_path, monkeypatch):
    from sunshine.portal import render

    out = tmp_path / "output"
    _build(data, out)
    before = _snapshot(out)
    _add_result(data, _new_target(data, _results_codes(data)), "2025-07-15")
    original = render.Renderer.page

    def failing(self, page, digest):
        if page.path == "stats/index.html":
            raise RuntimeError("disk full (injected)")
        return original(self, page, digest)

    monkeypatch.setattr(render.Renderer, "page", failing)
    with pytest.raises(RuntimeError, match="injected"):
        _build(data, out)
    assert _snapshot(out) == before
    cache = tmp_path / "output.cache"
    assert not (cache / "journal.json").exists() and not list(cache.glob("stage-*"))


def test_an_unreadable_journal_forces_a_full_build(data, tmp_path, capsys):
    out, ref = tmp_path / "output", tmp_path / "reference"
    _build(data, out)
    (tmp_path / "output.cache" / "journal.json").write_text("{not json", encoding="utf-8")
    _add_result(data, _new_target(data, _results_codes(data)), "2025-07-15")
    stats = portal_build.build_site(data, out, search=False)
    assert "unreadable publish journal" in capsys.readouterr().err
    assert stats.mode == "full" and "no record" in stats.why_full
    _build(data, ref, incremental=False)
    assert _snapshot(out) == _snapshot(ref)


def test_theme_content_or_settings_changes_fall_back_to_a_full_build(data, tmp_path):
    theme, content = tmp_path / "theme", tmp_path / "content"
    shutil.copytree(REPO / "theme", theme)
    shutil.copytree(REPO / "content", content)
    out = tmp_path / "output"
    assert _build(data, out, theme=theme, content=content).mode == "full"
    assert _build(data, out, theme=theme, content=content).mode == "incremental"
    base = theme / "templates" / "base.html"
    base.write_text(base.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    s = _build(data, out, theme=theme, content=content)
    assert s.mode == "full" and s.why_full == "theme changed"
    md = next(content.rglob("*.md"))
    md.write_text(md.read_text(encoding="utf-8") + "\n补充。\n", encoding="utf-8")
    s = _build(data, out, theme=theme, content=content)
    assert s.mode == "full" and s.why_full == "content changed"
    s = _build(data, out, theme=theme, content=content, extra_settings={"SUNSHINE_PUBLIC_URL": "https://x.example/"})
    assert s.mode == "full" and s.why_full == "settings changed"
    assert _build(data, out, theme=theme, content=content, incremental=False).mode == "full"
    # code: the modules the build ran are recorded with their digest; a change in any of them is a full build
    state_path = tmp_path / "output.cache" / "state.json"
    state = json.loads(state_path.read_text(encoding="utf-8"))
    assert {"loading.py", "portal/views.py", "portal/render.py", "portal/build.py"} <= set(state["code_files"])
    assert _build(data, out, theme=theme, content=content).mode == "incremental"
    state = json.loads(state_path.read_text(encoding="utf-8"))
    state["code"] = portal_build.code_digest(state["code_files"] + ["no-such-module.py"])  # as if a module changed
    state_path.write_text(json.dumps(state), encoding="utf-8")
    s = _build(data, out, theme=theme, content=content)
    assert s.mode == "full" and s.why_full == "code changed"


def test_search_index_is_kept_and_the_exact_lookup_is_current(data, tmp_path):
    pytest.importorskip("pagefind")
    out = tmp_path / "output"
    _build(data, out, search=True)
    index = {k: v for k, v in _snapshot(out).items() if k.startswith("pagefind/")}
    assert index
    code = _new_target(data, _results_codes(data))
    _add_result(data, code, "2025-07-15")
    s = _build(data, out, search=True)
    assert s.mode == "incremental" and s.search.startswith("kept")
    assert {k: v for k, v in _snapshot(out).items() if k.startswith("pagefind/")} == index
    meta = json.loads((out / "search" / "lookup" / "meta.json").read_text(encoding="utf-8"))
    key = lookup.normalise(code)
    shard = json.loads((out / "search" / "lookup" / f"{lookup.fnv1a32(key) % meta['shards']}.json").read_text(encoding="utf-8"))
    assert shard[key][0][0] == code


def test_builds_in_processes_with_different_hash_seeds_are_byte_identical(tmp_path):
    """What makes an incremental build in one process equal a full build in another: no page may
    depend on set or dict iteration order (Python randomises string hashes per process). The demo's
    stand-in results have departments with equal counts and many late results (stats page)."""
    import os
    import subprocess
    import sys

    from sunshine import cli

    data = tmp_path / "data"
    assert cli.main(["demo-data", "--scale", "300", "--out", str(data), "--no-ledger"]) == 0
    code = ("import sys; from pathlib import Path; from sunshine.portal.build import build_site; "
            "build_site(Path(sys.argv[1]), Path(sys.argv[2]), search=False, quiet=True, incremental=False)")
    trees = []
    for seed in ("1", "2"):
        out = tmp_path / f"out-{seed}"
        subprocess.run([sys.executable, "-c", code, str(data), str(out)], check=True, cwd=REPO,
                       env={**os.environ, "PYTHONHASHSEED": seed}, capture_output=True)
        trees.append(_snapshot(out))
    assert trees[0].keys() == trees[1].keys()
    assert [k for k in trees[0] if trees[0][k] != trees[1][k]] == []
