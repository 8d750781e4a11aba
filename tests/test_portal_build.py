"""sunshine build's incremental mode (sunshine.portal.build): only changed files are rendered and
published in place; the result is byte-identical to a full build; a crash while publishing is
completed by the next build; anything but data changes falls back to a full build."""

from __future__ import annotations

import csv
import json
import os
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest

from portal_site import make_data
from sunshine.errors import BuildError
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
    assert sorted(p.name for p in cache.iterdir()) == ["data", "manifest.bin", "state.bin", "templates"]


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
    assert (cache / "manifest.bin.next").is_file() and (cache / "state.bin.next").is_file()
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
    # raised as it is by the build process, or as a BuildError by the worker that rendered the page
    with pytest.raises((RuntimeError, BuildError), match="disk full \\(injected\\)"):
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


@pytest.mark.parametrize("name", ["manifest.bin", "state.bin"])
def test_a_torn_next_file_installed_by_recovery_makes_the_next_build_a_full_one(data, tmp_path, monkeypatch, name):
    """A crash (power loss) after the journal was written but with a ``*.next`` record not all on disk:
    recovery installs it as the journal says; the next build finds it damaged and builds in full."""
    out, ref = tmp_path / "output", tmp_path / "reference"
    _build(data, out)
    _add_result(data, _new_target(data, _results_codes(data)), "2025-07-15")
    monkeypatch.setattr(portal_build, "_after_move", _crash_after(1))
    with pytest.raises(portal_build._Crash):
        _build(data, out)
    monkeypatch.setattr(portal_build, "_after_move", None)
    nxt = tmp_path / "output.cache" / (name + ".next")
    nxt.write_bytes(nxt.read_bytes()[: nxt.stat().st_size // 2])
    assert portal_build.recover(out, quiet=True).startswith("completed")
    _add_result(data, _new_target(data, _results_codes(data)), "2025-07-16")
    s = _build(data, out)
    assert s.mode == "full" and s.why_full == "no record of the previous build"
    _build(data, ref, incremental=False)
    assert _snapshot(out) == _snapshot(ref)


@pytest.mark.parametrize("damage", ["truncated", "flipped", "empty", "foreign", "json", "missing"])
@pytest.mark.parametrize("name", ["manifest.bin", "state.bin"])
def test_a_damaged_or_foreign_record_gives_a_full_build_never_a_wrong_one(data, tmp_path, name, damage):
    out, ref = tmp_path / "output", tmp_path / "reference"
    _build(data, out)
    path = tmp_path / "output.cache" / name
    raw = path.read_bytes()
    if damage == "truncated":
        path.write_bytes(raw[:-7])
    elif damage == "flipped":  # one byte of the payload (a lastmod, a size …) changed: the SHA-256 says so
        path.write_bytes(raw[:-40] + bytes([raw[-40] ^ 1]) + raw[-39:])
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "foreign":  # another Python's marshal
        head, nl, rest = raw.partition(b"\n")
        path.write_bytes(head.replace(b"cpython-", b"cpython-2") + nl + rest)
    elif damage == "json":  # version 1's JSON under the new name
        path.write_text('{"version": 1, "files": {}}', encoding="utf-8")
    else:
        path.unlink()
    _add_result(data, _new_target(data, _results_codes(data)), "2025-07-15")
    s = _build(data, out)
    assert s.mode == "full" and s.why_full == "no record of the previous build"
    _build(data, ref, incremental=False)
    assert _snapshot(out) == _snapshot(ref)
    again = _build(data, out)
    assert again.mode == "unchanged", again.why_full  # and the records are whole again


def test_build_cache_files_round_trip_and_refuse_anything_else(tmp_path):
    from sunshine.portal import render

    value = {"a/index.html": ["k" * 40, 123, 1795670407969115948], "b": [None, True, 1.5, ("t", -1)], "": {}}
    path = tmp_path / "x.bin"
    render.save_cache_file(path, "thing/1", value)
    assert render.load_cache_file(path, "thing/1") == value and not (tmp_path / "x.bin.tmp").exists()
    assert render.load_cache_file(path, "thing/2") is None
    assert render.load_cache_file(tmp_path / "missing.bin", "thing/1") is None
    raw = path.read_bytes()
    for bad in (raw[:-1], raw + b"\0", raw[:10], raw.replace(b"\n", b" ", 1)):
        path.write_bytes(bad)
        assert render.load_cache_file(path, "thing/1") is None
    render.save_cache_file(path, "thing/1", value, sync=True)
    assert render.load_cache_file(path, "thing/1") == value
    with pytest.raises(ValueError):
        render.save_cache_file(path, "thing/1", {"p": Path("x")})  # plain data only
    assert render.load_cache_file(path, "thing/1") == value  # the previous file is untouched


def test_theme_content_or_settings_changes_fall_back_to_a_full_build(data, tmp_path):
    theme, content = tmp_path / "theme", tmp_path / "content"
    shutil.copytree(REPO / "theme", theme)
    shutil.copytree(REPO / "content", content)
    out = tmp_path / "output"
    assert _build(data, out, theme=theme, content=content).mode == "full"
    assert _build(data, out, theme=theme, content=content).mode == "unchanged"
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
    state_path = tmp_path / "output.cache" / "state.bin"
    state = portal_build._read_state(state_path)
    assert {"loading.py", "portal/views.py", "portal/render.py", "portal/build.py"} <= set(state["code_files"])
    assert _build(data, out, theme=theme, content=content).mode == "unchanged"
    state = portal_build._read_state(state_path)
    state["code"] = portal_build.code_digest(state["code_files"] + ["no-such-module.py"])  # as if a module changed
    portal_build._write_state(state_path, state)
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


# --------------------------------------------------------------------------- delta builds (appended results)


def _append_rows(data: Path, rel: str, rows: list[list[str]], *, crlf: bool = False) -> None:
    path = data / rel
    new = not path.exists()
    with path.open("a", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\r\n" if crlf else "\n")
        if new:
            w.writerow(HEADER)
        w.writerows(rows)


def _first_result(data: Path, target: str | None = None) -> dict:
    rows = list(csv.DictReader((data / "results" / "2025.csv").open(encoding="utf-8")))
    return next(r for r in rows if target is None or r["target"] == target)


def _check_delta_equals_full(data: Path, out: Path, ref: Path) -> portal_build.BuildStats:
    inc = _build(data, out)
    assert inc.mode == "incremental", inc.why_full
    assert inc.scope.endswith("result group(s) changed"), inc.scope
    shutil.rmtree(ref, ignore_errors=True)
    _build(data, ref, incremental=False)
    assert _snapshot(out) == _snapshot(ref)
    return inc


def test_delta_builds_after_appended_results_equal_full_builds(data, tmp_path):
    out, ref = tmp_path / "output", tmp_path / "reference"
    full = _build(data, out)
    taken = _results_codes(data)
    # 1. a first result for a new enterprise, in a month without results
    code = _new_target(data, taken)
    _add_result(data, code, "2025-07-15")
    inc = _check_delta_equals_full(data, out, ref)
    assert 0 < inc.rendered < full.rendered / 2
    # 2. a correction (version 2) published two months later: the result moves between month listings
    first = _first_result(data)
    _append_rows(data, "results/2025.csv", [[first["task"], first["target"], first["department"], first["item"],
                                              "issue_corrected", "", "更正", first["inspection_end"], "2025-06-20",
                                              "2025-06-23", "head", "2", "原结果录入错误"]])
    _check_delta_equals_full(data, out, ref)
    assert "更正" in (out / "enterprises" / first["target"] / "index.html").read_text(encoding="utf-8")
    # 3. a second item of the same new result, in CRLF rows
    _append_rows(data, "results/2025.csv", [["2025-01", code, "amr", "AMR-04", "no_issue", "", "", "2025-07-12",
                                              "2025-07-13", "2025-07-15", "deputy_head", "1", ""]], crlf=True)
    _check_delta_equals_full(data, out, ref)


def test_delta_build_for_a_new_results_file(data, tmp_path):
    out, ref = tmp_path / "output", tmp_path / "reference"
    _build(data, out)
    assert not (data / "results" / "2026.csv").exists()
    # an enterprise of 2025's results inspected again under a 2026 task: a results file that did not exist
    code = _first_result(data)["target"]
    _append_rows(data, "results/2026.csv", [["2026-02", code, "amr", "AMR-03", "no_issue", "", "",
                                              "2026-04-01", "2026-04-02", "2026-04-07", "deputy_head", "1", ""]])
    _check_delta_equals_full(data, out, ref)
    assert "2026-02" in (out / "enterprises" / code / "index.html").read_text(encoding="utf-8")


def test_other_changes_make_every_record_page_again(data, tmp_path):
    out, ref = tmp_path / "output", tmp_path / "reference"
    _build(data, out)
    # an edit in the middle of a results file is not an append
    path = data / "results" / "2025.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("疏散通道堵塞", "疏散通道被堵"), encoding="utf-8")
    inc = _build(data, out)
    assert inc.mode == "incremental" and inc.scope == "results/2025.csv was edited (not only appended to)"
    _build(data, ref, incremental=False)
    assert _snapshot(out) == _snapshot(ref)
    # a change in another data file
    jur = data / "jurisdiction.yaml"
    jur.write_text(jur.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    inc = _build(data, out)
    assert inc.mode == "incremental" and inc.scope == "jurisdiction.yaml changed"


def test_nothing_changed_writes_nothing_unless_the_output_was_touched(data, tmp_path):
    out = tmp_path / "output"
    _build(data, out)
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    s = _build(data, out)
    assert s.mode == "unchanged" and s.rendered == 0 and "up to date" in s.summary()
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == before
    # a page deleted (or replaced) by hand: the next build puts it back
    victim = next((out / "enterprises").glob("*/index.html"))
    good = victim.read_bytes()
    victim.unlink()
    s = _build(data, out)
    assert s.mode == "incremental" and victim.read_bytes() == good


def test_scan_data_records_the_digest_of_the_previous_length():
    import hashlib
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        (root / "results").mkdir()
        f = root / "results" / "2025.csv"
        f.write_bytes(b"a,b\n1,2\n")
        first = portal_build.scan_data(root)
        assert first["results/2025.csv"][:2] == [8, hashlib.sha256(b"a,b\n1,2\n").hexdigest()]
        assert first["results/2025.csv"][3] == ""
        f.write_bytes(b"a,b\n1,2\n3,4\n" * 100000)  # crosses the 1 MiB read size
        second = portal_build.scan_data(root, first)
        assert second["results/2025.csv"][3] == first["results/2025.csv"][1]
        assert second["results/2025.csv"][1] == hashlib.sha256(f.read_bytes()).hexdigest()


@pytest.mark.parametrize("tail, expected", [
    (b"t1,c1,amr,x\n", [("t1", "c1", "amr")]),
    (b'"t1","c,1",amr,"x\ny"\r\n\n', [("t1", "c,1", "amr")]),
    (b"t1,c1,amr\n", None),  # wrong width
    (b't1,"c1,amr,x\n', None),  # unterminated quote
    (b"\xff\n", None),  # not UTF-8
])
def test_changed_results_reads_only_appended_rows(tmp_path, tail, expected):
    (tmp_path / "results").mkdir()
    f = tmp_path / "results" / "2025.csv"
    f.write_bytes("\ufefftask,target,department,item\nt0,c0,amr,x\n".encode())
    old = portal_build.scan_data(tmp_path)
    f.write_bytes(f.read_bytes() + tail)
    new = portal_build.scan_data(tmp_path, old)
    keys, why = portal_build.changed_results(tmp_path, old, new)
    assert keys == (None if expected is None else set(expected))
    assert (why == "") == (expected is not None)


def test_changed_results_needs_a_line_break_at_the_old_end(tmp_path):
    (tmp_path / "results").mkdir()
    f = tmp_path / "results" / "2025.csv"
    f.write_bytes(b"task,target,department\nt0,c0,amr")
    old = portal_build.scan_data(tmp_path)
    f.write_bytes(f.read_bytes() + b"x\nt1,c1,amr\n")
    keys, why = portal_build.changed_results(tmp_path, old, portal_build.scan_data(tmp_path, old))
    assert keys is None and "could not be read" in why


def test_the_number_of_workers_is_not_part_of_the_fingerprint(data, tmp_path):
    out = tmp_path / "output"
    _build(data, out, extra_settings={"SUNSHINE_WORKERS": 1})
    s = _build(data, out, extra_settings={"SUNSHINE_WORKERS": 2})
    assert s.mode == "unchanged", s.why_full
    assert list((tmp_path / "output.cache" / "templates").iterdir())  # compiled templates kept for the next build


def sample_built_then_corrected(tmp_path: Path) -> tuple[Path, Path, Path]:
    """The embedded sample copied and built into ``output``, then a correction of its last result
    appended; returns (data, output, reference) (the reference not built yet)."""
    data = tmp_path / "data"
    shutil.copytree(REPO / "data", data)
    out, ref = tmp_path / "output", tmp_path / "reference"
    _build(data, out)
    rows = list(csv.reader((data / "results" / "2025.csv").open(encoding="utf-8-sig")))
    last = dict(zip(rows[0], rows[-1]))
    last.update(version="2", correction_reason="原结果录入错误", approver_role="head", entered="2025-10-08",
                published="2025-10-09")
    _append_rows(data, "results/2025.csv", [[last[h] for h in rows[0]]])
    return data, out, ref


def test_delta_build_of_the_sample_data_with_its_ledger(tmp_path):
    """The embedded sample (signed ledger, draws on enterprise pages): a correction appended to a result
    is a delta build, and gives the same tree as a full build."""
    data, out, ref = sample_built_then_corrected(tmp_path)
    inc = _check_delta_equals_full(data, out, ref)
    assert inc.scope == "1 result group(s) changed"


def test_delta_carries_exactly_what_family_of_says():
    from sunshine.portal import views

    d = views.Delta(targets=frozenset({"A1", ""}), tasks=frozenset({"2025-01"}), months=frozenset({"2025-07"}))
    paths = ["enterprises/A1/index.html", "enterprises/B2/index.html", "enterprises/index.html",
             "enterprises//index.html", "enterprises/A1/x/index.html", "enterprises/A1/index.htm",
             "enterprises/B2/index.html.bak", "tasks/2025-01/index.html", "tasks/2025-02/index.html",
             "results/tasks/2025-01/2/index.html", "results/tasks/2025-02/index.html", "results/2025-07/index.html",
             "results/2025-08/3/index.html", "results/index.html", "index.html", "data/results.csv",
             "enterprises", "enterprises/", "enterprises/B2/"]
    for p in paths:
        fam = views.family_of(p)
        assert d.carries(p) == (fam is not None and not d.rebuilds(fam)), p
    rows = {p: i for i, p in enumerate(paths + ["enterprises/x/index.html\n", "enterprises/a/b/index.html"])}
    assert list(d.carried(rows).items()) == [(p, i) for p, i in rows.items() if d.carries(p)]


def test_a_page_missing_from_the_output_turns_a_delta_build_into_a_whole_one(data, tmp_path):
    out, ref = tmp_path / "output", tmp_path / "reference"
    _build(data, out)
    victim = next(p for p in (out / "enterprises").glob("*/index.html"))
    victim.unlink()
    _add_result(data, _new_target(data, _results_codes(data)), "2025-07-15")
    inc = _build(data, out)
    assert inc.mode == "incremental" and inc.scope == "files in the output are not as the previous build left them"
    _build(data, ref, incremental=False)
    assert _snapshot(out) == _snapshot(ref)


@pytest.mark.parametrize("incremental", [True, False])
def test_a_rules_error_stops_the_build_and_publishes_nothing(data, tmp_path, incremental):
    """The §2 rules are checked in a process of their own while the site is made (parallel.Forked);
    their DataError still stops the build, names the file, line and field, and nothing is published."""
    from sunshine.errors import DataError

    out = tmp_path / "output"
    _build(data, out)
    before = _snapshot(out)
    row = _add_result(data, _new_target(data, _results_codes(data)), "2025-07-15")
    with (data / "results" / "2025.csv").open("a", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerow(["2025-99", *row[1:]])  # a task of no plan
    lines = (data / "results" / "2025.csv").read_text(encoding="utf-8").count("\n")
    with pytest.raises(DataError) as e:
        _build(data, out, incremental=incremental)
    assert f"results/2025.csv, line {lines}, field 'task'" in e.value.message
    assert "unknown task" in e.value.message
    assert _snapshot(out) == before
    cache = tmp_path / "output.cache"
    assert not (cache / "journal.json").exists() and not list(cache.glob("stage-*"))
    assert not list(tmp_path.glob("output.new-*"))


# --------------------------------------------------------------------------- delta builds: the exact look-up's shards


def _page_count(data: Path) -> int:
    """Targets with a page (no ledger in the fixture: those with results) = rows of the look-up index."""
    return len({r["target"] for p in (data / "results").glob("*.csv")
                for r in csv.DictReader(p.open(encoding="utf-8-sig"))})


def _rename_target(data: Path, code: str, name: str) -> None:
    path = data / "targets.csv"
    rows = list(csv.DictReader(path.open(encoding="utf-8-sig")))
    fields = list(rows[0])
    for r in rows:
        if r["code"] == code:
            r["name"] = name
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


@pytest.fixture()
def lookup_calls(monkeypatch) -> list[int]:
    """Many shards for the fixture's few rows, and the number of rows each whole look-up index was made of."""
    monkeypatch.setattr(lookup, "PER_SHARD", 0.05)  # ≈ 40 shards a row
    calls: list[int] = []
    whole = lookup.files

    def files(rows):
        calls.append(len(rows))
        return whole(rows)

    monkeypatch.setattr(lookup, "files", files)
    return calls


def _shard_of(out: Path, key: str) -> str:
    n = json.loads((out / lookup.META).read_text())["shards"]
    return lookup.shard_path(lookup.fnv1a32(lookup.normalise(key)) % n)


def test_delta_build_makes_only_the_lookup_shards_that_change(data, tmp_path, lookup_calls):
    out, ref = tmp_path / "output", tmp_path / "reference"
    taken = _results_codes(data)
    # a target without results named as one with results: a key of two rows, the new one first or last
    free = sorted(_free_targets(data, taken))
    low, high = free[0], free[-1]
    same = next(c for c in sorted(taken) if low < c < high)
    name = next(r["name"] for r in csv.DictReader((data / "targets.csv").open(encoding="utf-8-sig"))
                if r["code"] == same)
    _rename_target(data, low, name)
    _rename_target(data, high, name)
    _build(data, out)
    assert lookup_calls == [_page_count(data)]
    before = {str(p.relative_to(out)): p.read_bytes() for p in (out / "search" / "lookup").iterdir()}
    n = json.loads(before[lookup.META])["shards"]
    assert n >= 64 and lookup.shard_count(_page_count(data) + 2) == n
    for code in (high, low):  # first results of two targets of the same name as a third
        lookup_calls.clear()
        _add_result(data, code, "2025-07-15")
        _check_delta_equals_full(data, out, ref)
        assert len(lookup_calls) == 1  # the reference build's; the delta build made no whole index
    key = lookup.normalise(name)
    entries = json.loads((out / _shard_of(out, name)).read_text(encoding="utf-8"))[key]
    assert [e[0] for e in entries] == [low, same, high]
    changed = {rel for rel, data in before.items() if (out / rel).read_bytes() != data}
    assert lookup.META in changed and len(changed) <= 6
    # a correction of a result: no row changes, only meta.json is made (the same bytes)
    first = _first_result(data)
    _append_rows(data, "results/2025.csv", [[first["task"], first["target"], first["department"], first["item"],
                                              "issue_corrected", "", "更正", first["inspection_end"], "2025-06-20",
                                              "2025-06-23", "head", "2", "原结果录入错误"]])
    lookup_calls.clear()
    _check_delta_equals_full(data, out, ref)
    assert len(lookup_calls) == 1


def _free_targets(data: Path, taken: set[str]) -> list[str]:
    """Every target _new_target may give (an active enterprise in scope of 2025-01's AMR-03, no result yet)."""
    free = []
    while True:
        try:
            free.append(_new_target(data, taken | set(free)))
        except AssertionError:
            return free


def test_delta_build_makes_every_lookup_shard_when_the_shard_count_changes(data, tmp_path, monkeypatch, lookup_calls):
    out, ref = tmp_path / "output", tmp_path / "reference"
    count = _page_count(data)
    monkeypatch.setattr(lookup, "PER_SHARD", count)  # count rows: 2 shards; one more: 4
    _build(data, out)
    assert json.loads((out / lookup.META).read_text())["shards"] == 2
    _add_result(data, _new_target(data, _results_codes(data)), "2025-07-15")
    lookup_calls.clear()
    _check_delta_equals_full(data, out, ref)
    assert lookup_calls == [count + 1, count + 1]  # the delta build's and the reference build's
    assert json.loads((out / lookup.META).read_text())["shards"] == 4


def _tamper(path: Path, data: bytes) -> None:
    """Other bytes of the same size and mtime: the output check (size, mtime) cannot see it."""
    st = path.stat()
    assert len(data) == st.st_size
    path.write_bytes(data)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


@pytest.mark.parametrize("victim", ["shard", "meta", "kept shard"])
def test_delta_build_makes_every_lookup_shard_when_a_previous_one_is_not_as_recorded(data, tmp_path, monkeypatch,
                                                                                     lookup_calls, victim):
    out, ref = tmp_path / "output", tmp_path / "reference"
    _build(data, out)
    code = _new_target(data, _results_codes(data))
    if victim == "shard":  # the shard the new row goes into: read, and found not as recorded (still JSON)
        code = next(c for c in _free_targets(data, _results_codes(data))
                    if (out / _shard_of(out, c)).stat().st_size > 2)
        path = out / _shard_of(out, code)
        _tamper(path, path.read_bytes().replace(b"enterprises/", b"enterprises_", 1))
    elif victim == "meta":
        path = out / lookup.META
        _tamper(path, path.read_bytes().replace(b'"version": 1', b'"version": 7'))
    else:  # a shard the delta build would keep is not as recorded: Renderer.keep says so
        from sunshine.portal.render import Renderer

        untouched = sorted(set(map(lookup.shard_path, range(json.loads((out / lookup.META).read_text())["shards"])))
                           - {_shard_of(out, code)})[-1]
        keep = Renderer.keep
        monkeypatch.setattr(Renderer, "keep", lambda self, rel: rel != untouched and keep(self, rel))
    _add_result(data, code, "2025-07-15")
    lookup_calls.clear()
    _check_delta_equals_full(data, out, ref)
    assert len(lookup_calls) == 2  # the delta build made the whole index too


def test_replaced_big_files_are_set_aside_and_deleted_by_the_next_build(data, tmp_path, monkeypatch):
    """A delta build hard-links each big output it replaces into <output>.cache/trash (the rename then
    frees no blocks); the next build deletes them while it loads. The published bytes are unaffected."""
    import os

    monkeypatch.setattr(portal_build, "BIG_FILE", 1)  # every replaced file counts as big here
    out, ref = tmp_path / "output", tmp_path / "reference"
    _build(data, out)
    old = (out / "data" / "results.csv").read_bytes()
    _add_result(data, _new_target(data, _results_codes(data)), "2025-07-15")
    assert _build(data, out).scope == "1 result group(s) changed"
    trash = tmp_path / "output.cache" / portal_build.TRASH_DIR
    kept = {p.read_bytes() for p in trash.iterdir()}
    assert old in kept and (out / "data" / "results.csv").read_bytes() != old
    assert all(os.stat(p).st_nlink == 1 for p in trash.iterdir())  # no longer linked from the output
    _build(data, ref, incremental=False)
    assert _snapshot(out) == _snapshot(ref)
    assert _build(data, out).mode == "unchanged" and not list(trash.iterdir())


def test_the_output_check_of_a_delta_build_runs_in_a_process_and_fails_safe(data, tmp_path, monkeypatch):
    """_OutputCheck: a check process that dies counts as 'not as recorded' (a whole build), never as a match."""
    import os
    import signal

    out = tmp_path / "output"
    _build(data, out)
    assert portal_build._OutputCheck(out, {"index.html": ["k", 1, 1]}).matches() is False

    def dies(output, manifest):  # runs in the forked check process
        os.kill(os.getpid(), signal.SIGKILL)

    monkeypatch.setattr(portal_build, "_output_matches", dies)
    _add_result(data, _new_target(data, _results_codes(data)), "2025-07-15")
    assert _build(data, out).scope == "files in the output are not as the previous build left them"
