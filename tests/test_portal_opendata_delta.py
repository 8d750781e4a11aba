"""The open-data downloads in a delta build (``opendata.write`` with the previous build's state): the
files spliced from the previous ones are byte for byte those made whole (``opendata.files``), and any
state or previous file that is not as recorded makes them whole instead, never wrong.

Each case makes the "previous" downloads from a dataset without some results, then the delta from
the whole dataset, and compares every file with ``files`` of the whole dataset. Enterprise chunks are
made small (a few rows) so that changes land at the first, a middle and the last chunk.
"""

from __future__ import annotations

import bisect
import dataclasses
import json
import os
import shutil
from pathlib import Path

import pytest

from sunshine import cli, loading, model
from sunshine.portal import build as portal_build
from sunshine.portal import opendata, render, views

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> model.Dataset:
    out = tmp_path_factory.mktemp("opendata_delta") / "data"
    assert cli.main(["demo-data", "--scale", "2000", "--tasks", "30", "--no-ledger", "--results", "600",
                     "--out", str(out)]) == 0
    return loading.load_dataset(out)


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    monkeypatch.setattr(opendata, "CHUNK", 4)


@pytest.fixture(scope="module")
def env():
    return render.make_environment(REPO / "theme" / "templates")


class Calls:
    """Counts the calls of ``opendata.files`` (the whole path)."""

    def __init__(self, monkeypatch) -> None:
        self.n = 0
        real = opendata.files

        def files(ds, ix):
            self.n += 1
            return real(ds, ix)

        monkeypatch.setattr(opendata, "files", files)


def _previous(env, ds: model.Dataset, out: Path) -> tuple[render.Renderer, dict]:
    r = render.Renderer(env, b"", out)
    _, state = opendata.write(r, ds, views.Index(ds))
    r.finish()
    return r, json.loads(json.dumps(state))  # as state.json gives it back


def _delta(env, ds: model.Dataset, prev: Path, manifest: dict, stage: Path, keys, state) -> tuple[list, dict]:
    r = render.Renderer(env, b"", stage, previous=prev, manifest=manifest, link_unchanged=False)
    listing, new_state = opendata.write(r, ds, views.Index(ds), keys, state)
    r.finish()
    expected = opendata.files(ds, views.Index(ds))
    for rel, data in expected.items():
        got = stage / rel if (stage / rel).exists() else prev / rel
        assert got.read_bytes() == data, f"{rel} is not what a whole build makes"
    assert set(r.files) == set(expected)
    assert listing == opendata._listing({rel: [len(d), "", expected.sha256.get(rel, "")]
                                         for rel, d in expected.items()})
    return listing, new_state


def _without(ds: model.Dataset, drop) -> model.Dataset:
    return dataclasses.replace(ds, results=tuple(r for r in ds.results if not drop(r)))


def _keys(ds: model.Dataset, pick) -> set[tuple[str, str, str]]:
    return {(r.task, r.target, r.department) for r in ds.results if pick(r)}


def _cases(ds: model.Dataset) -> dict[str, object]:
    """name → which results the previous build did not have."""
    by_target: dict[str, list[model.Result]] = {}
    for r in ds.results:
        by_target.setdefault(r.target, []).append(r)
    codes = sorted(by_target)
    once = [c for c in codes if len({r.task for r in by_target[c]}) == 1]
    tasks = sorted({r.task for r in ds.results})
    corrected = next(r for r in ds.results if r.version > 1)
    return {
        "first target (before the first code)": lambda r: r.target == codes[0],
        "last target": lambda r: r.target == codes[-1],
        "a middle target inspected once": lambda r: r.target == once[len(once) // 2],
        "a correction": lambda r: r is corrected,
        "a whole first task": lambda r: r.task == tasks[0],
        "a whole middle task": lambda r: r.task == tasks[len(tasks) // 2],
        "a whole last task": lambda r: r.task == tasks[-1],
        "several targets and tasks": lambda r: r.target in (codes[1], codes[7], once[3]) or r is corrected,
    }


@pytest.mark.parametrize("case", range(8))
def test_a_delta_gives_the_bytes_of_a_whole_build(demo, env, tmp_path, monkeypatch, case):
    name, drop = list(_cases(demo).items())[case]
    prev_ds = _without(demo, drop)
    r0, state = _previous(env, prev_ds, tmp_path / "prev")
    calls = Calls(monkeypatch)
    _, new_state = _delta(env, demo, tmp_path / "prev", r0.files, tmp_path / "stage", _keys(demo, drop), state)
    assert calls.n == 1, f"{name}: the delta was made whole"  # the one call is _delta's own comparison
    # the state the delta records is a whole build's, but for the enterprise chunks (not cut again)
    r1 = render.Renderer(env, b"", tmp_path / "whole")
    _, whole_state = opendata.write(r1, demo, views.Index(demo))
    r1.finish()
    assert new_state["files"] == whole_state["files"] and new_state["results"] == whole_state["results"]
    for kind in ("csv", "json"):
        assert new_state["enterprises"][kind][-1] == whole_state["enterprises"][kind][-1]


def test_deltas_one_after_another(demo, env, tmp_path, monkeypatch):
    """Each delta's state serves the next one (the output published in place)."""
    _, drop_a = list(_cases(demo).items())[2]
    _, drop_b = list(_cases(demo).items())[5]
    first = _without(demo, lambda r: drop_a(r) or drop_b(r))
    second = _without(demo, drop_b)
    out = tmp_path / "out"
    r0, state = _previous(env, first, out)
    manifest = dict(r0.files)
    calls = Calls(monkeypatch)
    for ds, drop in ((second, drop_a), (demo, drop_b)):
        stage = tmp_path / "stage"
        shutil.rmtree(stage, ignore_errors=True)
        r = render.Renderer(env, b"", stage, previous=out, manifest=manifest, link_unchanged=False)
        _, state = opendata.write(r, ds, views.Index(ds), _keys(ds, drop), json.loads(json.dumps(state)))
        r.finish()
        for rel in os.listdir(stage / "data"):  # publish: the staged files replace the previous ones
            os.replace(stage / "data" / rel, out / "data" / rel)
        manifest.update(r.files)
    assert calls.n == 0
    for rel, data in opendata.files(demo, views.Index(demo)).items():
        assert (out / rel).read_bytes() == data, rel


def _corrupt(state: dict, how: str, changed_task: str) -> dict | None:
    """*state* damaged as *how* says; with its digest made again when *how* ends in "(consistent)"
    (a state that is whole but does not fit the files: the checks against the files must tell)."""
    s = json.loads(json.dumps(state))
    what = how.removesuffix(" (consistent)")
    if what == "missing":
        return None
    if what == "empty":
        return {}
    if what == "old version":
        s["version"] = 0
    elif what == "digest":
        s["digest"] = "0" * 64
    elif what == "offset moved":
        s["results"]["csv"][3] += 1
    elif what == "json offset moved":
        s["results"]["json"][2] -= 2
    elif what == "enterprise offset moved":
        s["enterprises"]["json"][1] += 5
    elif what == "end moved":
        s["results"]["csv"][-1] -= 2
    elif what == "keys unsorted":
        s["results"]["keys"][1], s["results"]["keys"][2] = s["results"]["keys"][2], s["results"]["keys"][1]
    elif what in ("a key renamed", "a changed chunk's key renamed"):
        ks = s["enterprises"]["keys"]
        i = 2 if what == "a key renamed" else max(1, bisect.bisect_right(ks, changed_task[1]) - 1)
        ks[i] += "0"
    elif what in ("a task missing", "the changed task missing"):
        i = 4 if what == "a task missing" else s["results"]["keys"].index(changed_task[0])
        for kind in ("keys", "csv", "json"):
            del s["results"][kind][i]
    elif what == "wrong types":
        s["results"]["csv"] = [str(o) for o in s["results"]["csv"]]
    elif what == "a file's key":
        s["files"]["data/results.json"][1] = "sha256:" + "0" * 40
    elif what == "a kept file's key":
        s["files"]["data/items.csv"][1] = "sha256:" + "0" * 40
    elif what == "a file's size":
        s["files"]["data/enterprises.csv"][0] += 1
    elif what == "a file left out":
        del s["files"]["data/tasks.json"]
    else:
        raise AssertionError(how)
    if how.endswith("(consistent)"):
        s["digest"] = opendata._digest(s)
    return s


BAD_STATES = ["missing", "empty", "old version", "digest", "offset moved"] + [
    f"{what} (consistent)" for what in (
        "offset moved", "json offset moved", "enterprise offset moved", "end moved", "keys unsorted", "a key renamed",
        "a changed chunk's key renamed", "a task missing", "the changed task missing", "wrong types", "a file's key",
        "a kept file's key", "a file's size", "a file left out")]


@pytest.mark.parametrize("how", BAD_STATES)
def test_a_state_that_does_not_fit_makes_the_files_whole(demo, env, tmp_path, monkeypatch, how):
    _, drop = list(_cases(demo).items())[2]
    r0, state = _previous(env, _without(demo, drop), tmp_path / "prev")
    calls = Calls(monkeypatch)
    (changed,) = {k[:2] for k in _keys(demo, drop)}
    _, new_state = _delta(env, demo, tmp_path / "prev", r0.files, tmp_path / "stage", _keys(demo, drop),
                          _corrupt(state, how, changed))
    assert calls.n == 2  # the whole path, and _delta's comparison
    assert new_state["version"] == opendata.STATE_VERSION and new_state["results"]["keys"]


def _tamper(prev: Path, how: str) -> None:
    f = prev / "data" / ("results.json" if "json" in how else "results.csv")
    st = f.stat()
    if how.startswith("deleted"):
        f.unlink()
    elif how.startswith("truncated"):
        os.truncate(f, st.st_size - 10)
        os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))  # same mtime: the size tells
    elif how.startswith("rewritten"):
        data = f.read_bytes()
        f.write_bytes(data.replace(b"2025-", b"2024-", 1))  # same size, a new mtime
    elif how.startswith("shifted"):
        data = f.read_bytes()  # a byte moved from one place to another, mtime kept: the blocks' starts tell
        cut = len(data) // 2
        f.write_bytes(data[:40] + data[41:cut] + b" " + data[cut:])
        os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
    else:
        raise AssertionError(how)


@pytest.mark.parametrize("how", ["deleted csv", "deleted json", "truncated csv", "truncated json", "rewritten csv",
                                 "rewritten json", "shifted csv", "shifted json"])
def test_a_previous_file_not_as_recorded_makes_the_files_whole(demo, env, tmp_path, monkeypatch, how):
    _, drop = list(_cases(demo).items())[2]
    r0, state = _previous(env, _without(demo, drop), tmp_path / "prev")
    _tamper(tmp_path / "prev", how)
    calls = Calls(monkeypatch)
    _delta(env, demo, tmp_path / "prev", r0.files, tmp_path / "stage", _keys(demo, drop), state)
    assert calls.n == 2


def test_a_kept_file_not_as_recorded_is_made_again(demo, env, tmp_path, monkeypatch):
    """items.* and tasks.* are kept as they are (Renderer.keep) unless the previous copy changed."""
    _, drop = list(_cases(demo).items())[2]
    r0, state = _previous(env, _without(demo, drop), tmp_path / "prev")
    (tmp_path / "prev" / "data" / "items.json").write_bytes(b"[]")
    (tmp_path / "prev" / "data" / "tasks.csv").unlink()
    calls = Calls(monkeypatch)
    _delta(env, demo, tmp_path / "prev", r0.files, tmp_path / "stage", _keys(demo, drop), state)
    assert calls.n == 1
    assert (tmp_path / "stage" / "data" / "items.json").exists() and (tmp_path / "stage" / "data" / "tasks.csv").exists()
    assert not (tmp_path / "stage" / "data" / "items.csv").exists()


def test_no_results_records_no_state(demo, env, tmp_path):
    r = render.Renderer(env, b"", tmp_path / "out")
    empty = dataclasses.replace(demo, results=())
    _, state = opendata.write(r, empty, views.Index(empty))
    r.finish()
    assert state == {}


# --------------------------------------------------------------------------- sunshine build


def test_delta_builds_splice_the_downloads(tmp_path, monkeypatch):
    """`sunshine build`'s delta builds (new target, correction, CRLF rows, a new results file) take the
    splice path: the whole path fails them here. Their trees equal full builds' (tests/test_portal_build.py
    compares every scenario; here the downloads)."""
    from test_portal_build import _add_result, _append_rows, _build, _first_result, _new_target, _results_codes

    from portal_site import make_data

    data = make_data(tmp_path / "d")
    out, ref = tmp_path / "output", tmp_path / "reference"
    _build(data, out)  # records the derived state (state.json's "derived"), which the delta builds below use
    real = opendata.files

    def refuse(ds, ix):
        raise AssertionError("a delta build made the downloads whole")

    def step():
        monkeypatch.setattr(opendata, "files", refuse)
        s = _build(data, out)
        assert s.mode == "incremental" and s.scope.endswith("result group(s) changed"), s.scope
        monkeypatch.setattr(opendata, "files", real)
        shutil.rmtree(ref, ignore_errors=True)
        _build(data, ref, incremental=False)
        for p in sorted((ref / "data").iterdir()):
            assert (out / "data" / p.name).read_bytes() == p.read_bytes(), p.name

    code = _new_target(data, _results_codes(data))
    _add_result(data, code, "2025-07-15")
    step()
    first = _first_result(data)
    _append_rows(data, "results/2025.csv", [[first["task"], first["target"], first["department"], first["item"],
                                              "issue_corrected", "", "更正", first["inspection_end"], "2025-06-20",
                                              "2025-06-23", "head", "2", "原结果录入错误"]])
    step()
    _append_rows(data, "results/2025.csv", [["2025-01", code, "amr", "AMR-04", "no_issue", "", "", "2025-07-12",
                                              "2025-07-13", "2025-07-15", "deputy_head", "1", ""]], crlf=True)
    step()
    _append_rows(data, "results/2026.csv", [["2026-02", first["target"], "amr", "AMR-03", "no_issue", "", "",
                                              "2026-04-01", "2026-04-02", "2026-04-07", "deputy_head", "1", ""]])
    step()


def test_delta_build_of_the_sample_data_with_its_ledger_splices_the_downloads(tmp_path, monkeypatch):
    from test_portal_build import _build, sample_built_then_corrected

    data, out, ref = sample_built_then_corrected(tmp_path)
    real = opendata.files

    def refuse(ds, ix):
        raise AssertionError("a delta build made the downloads whole")

    monkeypatch.setattr(opendata, "files", refuse)
    s = _build(data, out)
    assert s.mode == "incremental" and s.scope == "1 result group(s) changed", s.scope
    monkeypatch.setattr(opendata, "files", real)
    _build(data, ref, incremental=False)
    for p in sorted((ref / "data").rglob("*")):
        if p.is_file():
            assert (out / p.relative_to(ref)).read_bytes() == p.read_bytes(), p
    assert portal_build.BuildStats  # the module under test


@pytest.mark.parametrize("how", ["copy_file_range", "EXDEV", "no copy_file_range"])
def test_renderer_spliced_writes_its_pieces(env, tmp_path, monkeypatch, how):
    """Renderer.spliced: bytes and ranges of another file, in order (the kernel's copy, or read and write
    where it cannot); the caller's digest is the manifest key; unchanged → reused."""
    import errno
    import hashlib

    src = tmp_path / "src.bin"
    src.write_bytes(bytes(range(256)) * 5000)
    if how == "EXDEV":
        def refuse(*args):
            raise OSError(errno.EXDEV, "cross-device")
        monkeypatch.setattr(os, "copy_file_range", refuse)
    elif how == "no copy_file_range":
        monkeypatch.delattr(os, "copy_file_range")
    pieces = [b"head", (str(src), 10, 300_000), b"", (str(src), 0, 5), b"tail"]
    want = b"head" + src.read_bytes()[10:300_010] + src.read_bytes()[:5] + b"tail"
    digest = hashlib.sha256(want).hexdigest()
    r = render.Renderer(env, b"", tmp_path / "out")
    r.spliced("data/x.bin", pieces, digest)
    r.finish()
    assert (tmp_path / "out" / "data" / "x.bin").read_bytes() == want
    assert r.files["data/x.bin"][:2] == ["sha256:" + digest[:40], len(want)]
    r2 = render.Renderer(env, b"", tmp_path / "out2", previous=tmp_path / "out", manifest=r.files)
    r2.spliced("data/x.bin", pieces, digest)
    r2.finish()
    assert r2.reused == 1 and (tmp_path / "out2" / "data" / "x.bin").read_bytes() == want
    r3 = render.Renderer(env, b"", tmp_path / "out3")
    r3.spliced("data/y.bin", [(str(src), len(want) * 9, 10)], "0" * 64)  # past the end of the file
    with pytest.raises(OSError, match="expected 10 more bytes"):
        r3.finish()
