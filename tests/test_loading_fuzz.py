"""Property tests: the loaders never fail with anything but SunshineError subclasses on mutated files.

Mutations of the mini fixture: random byte flips, truncation, deleted and duplicated lines, and random
YAML values put in place of existing ones. Example counts are small so the module runs in seconds;
SUNSHINE_FUZZ_EXAMPLES=1500 runs a longer search (done before each change to the loaders).
"""

from __future__ import annotations

import datetime
import os
import shutil
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings, strategies as st

from sunshine import loading
from sunshine.errors import DataError, SunshineError
from sunshine.workdays import Calendar

MINI = Path(__file__).parent / "fixtures" / "mini"
FILES = sorted(str(p.relative_to(MINI)) for p in MINI.rglob("*") if p.is_file() and p.suffix in (".yaml", ".csv"))
YAML_FILES = [f for f in FILES if f.endswith(".yaml")]

FUZZ = settings(max_examples=int(os.environ.get("SUNSHINE_FUZZ_EXAMPLES", "30")), deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check_directory(d: Path) -> None:
    """Everything a caller can do with a data directory either works or raises a SunshineError."""
    try:
        ds, problems = loading.load_dataset_with_warnings(d)
        assert ds is not None
    except DataError as exc:
        problems = exc.problems
        assert any(p.severity == "error" for p in problems) and exc.message
    for p in problems:
        assert p.severity in ("error", "warning")
        assert p.file and p.message and str(p)
    try:
        Calendar.from_dir(d)
    except SunshineError:
        pass


def mutated(file: str, change) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp) / "data"
        shutil.copytree(MINI, d)
        p = d / file
        p.write_bytes(change(p.read_bytes()))
        check_directory(d)


@FUZZ
@given(st.sampled_from(FILES), st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=4))
def test_byte_flips(file, flips):
    def change(raw: bytes) -> bytes:
        b = bytearray(raw)
        for pos, val in flips:
            b[pos % len(b)] = val
        return bytes(b)

    mutated(file, change)


@FUZZ
@given(st.sampled_from(FILES), st.floats(0, 1))
def test_truncation(file, fraction):
    mutated(file, lambda raw: raw[: int(len(raw) * fraction)])


@FUZZ
@given(st.sampled_from(FILES), st.lists(st.tuples(st.booleans(), st.integers(0, 200)), min_size=1, max_size=3))
def test_line_deletion_and_duplication(file, edits):
    def change(raw: bytes) -> bytes:
        lines = raw.splitlines(keepends=True)
        for duplicate, i in edits:
            if not lines:
                break
            i %= len(lines)
            if duplicate:
                lines.insert(i, lines[i])
            else:
                del lines[i]
        return b"".join(lines)

    mutated(file, change)


yaml_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(2100, 1, 1))
    | st.sampled_from(["5%", "1/0", "0.05", "amr", "AMR-01", "2025-02-30", "no_notice", "general", "", "379902"]),
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(st.sampled_from(["id", "x", "ratio", "items"]), children, max_size=3),
    ),
    max_leaves=6,
)


def _paths(obj, prefix=()):
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, (*prefix, i))


@FUZZ
@given(st.sampled_from(YAML_FILES), st.integers(0, 10**6), yaml_values)
def test_random_yaml_values(file, pick, value):
    def change(raw: bytes) -> bytes:
        data = yaml.safe_load(raw)
        paths = list(_paths(data))
        path = paths[pick % len(paths)]
        if not path:
            return yaml.safe_dump(value, allow_unicode=True).encode("utf-8")
        parent = data
        for k in path[:-1]:
            parent = parent[k]
        parent[path[-1]] = value
        return yaml.safe_dump(data, allow_unicode=True).encode("utf-8")

    mutated(file, change)


def test_the_fixture_itself_passes():
    check_directory(MINI)
    assert loading.validate_directory(MINI).ok
