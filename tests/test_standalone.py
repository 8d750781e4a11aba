"""The standalone verifier (one file, stdlib + cryptography) agrees with `sunshine verify` on verdicts."""

import ast
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from sunshine import canonical, entries
from sunshine.verify import verify_files

from ledger_fixture import ORIGIN, build_sample_ledger, layout_files, make_identities, read_files

SCRIPT = Path(__file__).resolve().parent.parent / "generator" / "sunshine" / "standalone" / "sunshine_verify.py"


def load_standalone():
    spec = importlib.util.spec_from_file_location("sunshine_verify_standalone", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


sv = load_standalone()


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    s = build_sample_ledger(tmp_path_factory.mktemp("standalone") / "ledger")
    return s, read_files(s.ledger.path)


def both(files, vkey=None):
    main = verify_files(files, vkey=vkey, listing=list(files), recompute_draws=False).exit_code
    alone = sv.verify_files(files, vkey).exit_code
    return main, alone


def test_imports_only_stdlib_and_cryptography():
    tree = ast.parse(SCRIPT.read_text(encoding="utf-8"))
    mods = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            mods |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            mods.add((node.module or "").split(".")[0])
    assert "sunshine" not in mods
    assert mods - set(sys.stdlib_module_names) == {"cryptography"}


def test_valid_ledger_same_verdict(sample):
    s, files = sample
    assert both(files) == (0, 0)
    assert both(files, s.vkey) == (0, 0)


def test_cli_in_a_clean_interpreter(sample, tmp_path):
    s, files = sample
    # -I: isolated mode, the sunshine package is not importable from the script's directory
    out = subprocess.run([sys.executable, "-I", str(SCRIPT), str(s.ledger.path), "--json"], capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["verdict"] == "ok"
    assert subprocess.run([sys.executable, "-I", str(SCRIPT), str(tmp_path)], capture_output=True).returncode == 1


def test_tampered_bytes_same_verdict(sample):
    s, files = sample
    checked = 0
    for path, data in files.items():
        for i in range(0, len(data), 23):
            t = dict(files)
            t[path] = data[:i] + bytes([data[i] ^ (1 << (i % 8))]) + data[i + 1:]
            assert both(t) == (4, 4), (path, i)
            checked += 1
    assert checked > 250


def _raws(files):
    from sunshine import tiles
    return tiles.decode_entry_bundle(files["tile/entries/000.p/17"])


def test_dishonest_operator_same_verdict(sample):
    s, files = sample
    blobs = {k: v for k, v in files.items() if k.startswith("blob/")}
    raws = _raws(files)
    swapped = list(raws)
    swapped[5], swapped[6] = swapped[6], swapped[5]
    assert both({**layout_files(ORIGIN, swapped, s.log), **blobs}, s.vkey) == (4, 4)
    assert both({**layout_files(ORIGIN, raws[:9] + raws[10:], s.log), **blobs}, s.vkey) == (4, 4)
    assert both({**layout_files(ORIGIN, raws[:12], s.log), **blobs}, s.vkey) == (0, 0)  # a valid prefix


def chain(raws_prefix, additions, origin=ORIGIN):
    """Append entries built by (type, body, signer, time) to a list of raw entries."""
    raws = list(raws_prefix)
    for type_, body, signer, time in additions:
        prev = entries.parse_entry(raws[-1]).hash
        raws.append(entries.build_entry(origin, len(raws), prev, time, type_, body, signer).raw)
    return raws


def test_policy_findings_same_verdict(sample):
    s, files = sample
    blobs = {k: v for k, v in files.items() if k.startswith("blob/")}
    raws = _raws(files)
    ids = make_identities()
    cases = {
        # a health key signs a draw step of an amr-led task
        "wrong department": [("draw.list_reveal", {"task": "2026-07"}, ids["health-op"], "2026-10-22T00:00:00Z")],
        # the operator, not the head, signs a correction
        "correction not by head": [("result.correct", {
            "task": "2026-07", "target": "91379900MA0000008X", "department": "amr", "version": 3,
            "inspection_end": "2026-09-30", "published": "2026-10-22", "reason": "x"}, ids["amr-op"],
            "2026-10-22T00:00:00Z")],
        # a second commitment while the task's draw is live
        "second commitment": [("draw.commit", {"task": "2026-07"}, ids["amr-op"], "2026-10-22T00:00:00Z")],
        # time going backwards
        "backdated": [("draw.dispatch", {"task": "2026-07"}, ids["amr-op"], "2026-01-01T00:00:00Z")],
        # a result for a task that was never drawn
        "result before draw": [("result.publish", {
            "task": "2026-99", "target": "X", "department": "amr", "version": 1, "inspection_end": "2026-09-30",
            "published": "2026-10-22"}, ids["amr-op"], "2026-10-22T00:00:00Z")],
        # a revoked key keeps signing
        "revoked key": [("key.revoke", {"name": "health-op", "reason": "离职"}, ids["amr-root"],
                         "2026-10-22T00:00:00Z"),
                        ("result.publish", {"task": "2026-07", "target": "91379900MA0000011X",
                                            "department": "health", "version": 1, "inspection_end": "2026-09-30",
                                            "published": "2026-10-23"}, ids["health-op"], "2026-10-23T00:00:00Z")],
    }
    for name, additions in cases.items():
        f = {**layout_files(ORIGIN, chain(raws, additions), s.log), **blobs}
        assert both(f, s.vkey) == (3, 3), name
    # an unregistered signer is an integrity failure for both
    from ledger_fixture import identity
    f = {**layout_files(ORIGIN, chain(raws, [("draw.dispatch", {"task": "2026-07"}, identity("ghost", "amr", "operator"),
                                                "2026-10-22T00:00:00Z")]), s.log), **blobs}
    assert both(f, s.vkey) == (4, 4)


def test_malformed_inputs_never_crash(sample):
    s, files = sample
    for bad in (b"", b"\xff\xfe", b"sunshine.example/x\n1\n\n\n", files["checkpoint"][:-1]):
        f = dict(files)
        f["checkpoint"] = bad
        assert both(f) == (4, 4)
    f = dict(files)
    f["tile/entries/000.p/17"] = b"\x00\x05{}" + b"x" * 3
    assert both(f) == (4, 4)
    assert sv.canonical_decode(canonical.encode({"b": [1, "é\u2028"], "a": None})) == {"a": None, "b": [1, "é\u2028"]}


def test_unpublished_outcome_of_a_notified_task_same_verdict(sample):
    s, files = sample
    lock = entries.parse_entry(_raws(files)[11])
    assert lock.type == "draw.lock"
    f = {k: v for k, v in files.items() if k != "blob/sha256/" + lock.body["outcome"][7:]}
    assert both(f) == (4, 4)
