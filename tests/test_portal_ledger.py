"""The portal with a ledger: the 账本 pages, the published tlog-tiles files, and the safety rule
that a ledger failing verification stops the build (exit 4) and leaves the old site untouched."""

from __future__ import annotations

from pathlib import Path

import pytest

from portal_site import copy_data, parse, sample_site
from sunshine import cli

pytest.importorskip("sunshine.ledger_store")
pytest.importorskip("sunshine.verify")
ledger_fixture = pytest.importorskip("ledger_fixture")


@pytest.fixture(scope="module")
def with_ledger(tmp_path_factory):
    sample_site(tmp_path_factory)  # the shared sample data
    base = tmp_path_factory.mktemp("ledger-site")
    data = copy_data(base)
    ledger_fixture.build_sample_ledger(data / "ledger")
    out = base / "output"
    assert cli.main(["build", "--data", str(data), "--output", str(out), "--no-search", "--quiet"]) == 0
    return data, out


def test_ledger_page_shows_head_checkpoint_and_keys(with_ledger):
    data, out = with_ledger
    t = parse(out / "ledger/index.html").text
    assert ledger_fixture.ORIGIN in t
    checkpoint = (data / "ledger/checkpoint").read_text(encoding="utf-8")
    size = checkpoint.splitlines()[1]
    assert f"条目数{size}" in t.replace(" ", "").replace("\n", "")
    assert checkpoint.splitlines()[2] in t  # the root hash line of the signed checkpoint
    assert "amr-op" in t and "ed25519:" in t
    assert "尚未建立账本" not in t
    home = parse(out / "index.html").text
    assert ledger_fixture.ORIGIN in home


def test_ledger_files_are_published_byte_for_byte(with_ledger):
    data, out = with_ledger
    src = data / "ledger"
    for p in src.rglob("*"):
        if p.is_file() and not p.name.startswith("."):
            rel = p.relative_to(src)
            assert (out / "ledger/log" / rel).read_bytes() == p.read_bytes(), rel
    assert not list((out / "ledger/log").rglob(".lock"))


def test_entries_pages_list_every_entry(with_ledger):
    data, out = with_ledger
    size = int((data / "ledger/checkpoint").read_text().splitlines()[1])
    doc = parse(out / "ledger/entries/index.html")
    assert {f"e{i}" for i in range(size)} <= doc.ids
    assert "摇号承诺" in doc.text and "账本创建" in doc.text


def test_task_page_shows_the_draw_from_the_ledger(with_ledger):
    import json

    _, out = with_ledger
    report = json.loads((out / "ledger/report.json").read_text(encoding="utf-8"))
    assert report["tasks"], "the fixture ledger draws at least one task"
    for task_id, info in report["tasks"].items():
        doc = parse(out / f"tasks/{task_id}/index.html")
        t = doc.text
        assert "承诺时间" in t and "账本第" in t and info["state"] in t
        selected = [a["href"] for a in doc.find("a") if "/enterprises/" in a.get("href", "")]
        assert selected, "the selected targets are listed with links to their pages"
        for href in selected:
            page = (out / f"tasks/{task_id}/index.html").parent / href / "index.html"
            t = parse(page.resolve()).text
            assert "被抽中" in t
            if "签值" in t:  # public stratum: the ticket and cut-off are shown and consistent
                assert "入选分界" in t


def test_tampered_ledger_stops_the_build(with_ledger, tmp_path, capsys):
    data, out = with_ledger
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    bundle = next((data / "ledger/tile/entries").rglob("*"))
    while bundle.is_dir():
        bundle = next(bundle.iterdir())
    original = bundle.read_bytes()
    damaged = bytearray(original)
    damaged[len(damaged) // 2] ^= 0x01
    bundle.write_bytes(bytes(damaged))
    try:
        capsys.readouterr()
        code = cli.main(["build", "--data", str(data), "--output", str(out), "--no-search"])
        err = capsys.readouterr().err
    finally:
        bundle.write_bytes(original)
    assert code == 4
    assert err.startswith("error: ") and "fails verification" in err and "hint: run `sunshine verify" in err
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


@pytest.mark.slow
def test_portal_from_the_demo_jurisdiction_with_its_full_ledger(tmp_path):
    """`sunshine demo-data` with its ledger (every task drawn, results signed): the build verifies it
    and every drawn task shows its draw; the ledger page reports a clean verification."""
    import json

    data = tmp_path / "data"
    assert cli.main(["demo-data", "--scale", "300", "--out", str(data)]) == 0
    out = tmp_path / "output"
    assert cli.main(["build", "--data", str(data), "--output", str(out), "--no-search", "--quiet"]) == 0
    report = json.loads((out / "ledger/report.json").read_text(encoding="utf-8"))
    # intact; the demo publishes some results late on purpose, which are rule findings (shown, not fatal)
    assert report["verdict"] in ("ok", "policy"), report["findings"][:5]
    assert all(f["kind"] == "policy" for f in report["findings"])
    assert report["tasks"]
    for task_id in report["tasks"]:
        t = parse(out / f"tasks/{task_id}/index.html").text
        assert "承诺时间" in t, task_id
    ledger_page = parse(out / "ledger/index.html").text
    assert "尚未建立账本" not in ledger_page
    if report["findings"]:
        assert "规则问题" in ledger_page


def test_standalone_verifier_is_downloadable_and_verifies_the_published_ledger(with_ledger):
    """An auditor downloads the one-file verifier from the site and runs it on the site's own ledger files."""
    import subprocess
    import sys

    from sunshine.portal.ledger_view import STANDALONE_VERIFIER

    _, out = with_ledger
    downloaded = out / "ledger" / STANDALONE_VERIFIER.name
    assert downloaded.read_bytes() == STANDALONE_VERIFIER.read_bytes()
    assert f'href="../ledger/{STANDALONE_VERIFIER.name}"' in (out / "ledger/index.html").read_text(encoding="utf-8")
    proc = subprocess.run([sys.executable, str(downloaded), str(out / "ledger/log"), "--json"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
