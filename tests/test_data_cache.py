"""The parsed-data cache (sunshine.data_cache): same dataset and problems as a plain load, exact
invalidation on a changed byte, and damaged entries ignored with a warning, never trusted."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sunshine import loading
from sunshine.data_cache import DataCache, decode_records, encode_records
from sunshine.model import Result

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture()
def data(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    shutil.copytree(DATA, d, ignore=shutil.ignore_patterns("ledger", "demo-keys"))
    return d


def _cache(tmp_path: Path, warnings: list[str]) -> DataCache:
    return DataCache(tmp_path / "cache", warn=warnings.append)


def test_warm_load_equals_plain_load(data, tmp_path):
    plain = loading.validate_directory(data)
    warnings: list[str] = []
    cold_cache = _cache(tmp_path, warnings)
    cold = loading.validate_directory(data, cache=cold_cache)
    assert cold_cache.hits == [] and "targets.csv" in cold_cache.misses
    warm_cache = _cache(tmp_path, warnings)
    warm = loading.validate_directory(data, cache=warm_cache)
    assert sorted(warm_cache.hits) == sorted(cold_cache.misses)
    assert {"targets.csv", "inspectors.csv"} <= set(warm_cache.hits)
    assert any(h.startswith("results/") for h in warm_cache.hits)
    assert plain.dataset == cold.dataset == warm.dataset
    assert plain.problems == cold.problems == warm.problems
    assert warnings == []


def test_one_changed_byte_is_read_and_checked_again(data, tmp_path):
    warnings: list[str] = []
    loading.validate_directory(data, cache=_cache(tmp_path, warnings))
    targets = data / "targets.csv"
    raw = targets.read_bytes()
    lines = raw.split(b"\n")
    code = lines[1].split(b",")[0]
    # one byte: the last character of the first target's code (its USCC check character) changes
    last = code[-1:]
    other = b"1" if last != b"1" else b"2"
    changed = lines[1].replace(code, code[:-1] + other, 1)
    targets.write_bytes(b"\n".join([lines[0], changed, *lines[2:]]))
    assert len(targets.read_bytes()) == len(raw)
    cache = _cache(tmp_path, warnings)
    v = loading.validate_directory(data, cache=cache)
    assert "targets.csv" in cache.misses and "targets.csv" not in cache.hits
    assert v.dataset is None or all(t.code != code.decode() for t in v.dataset.targets)
    plain = loading.validate_directory(data)
    assert v.problems == plain.problems  # the changed file was checked again: same findings
    assert v.dataset == plain.dataset


def test_changed_results_file_is_a_miss_and_the_rules_see_it(data, tmp_path):
    warnings: list[str] = []
    loading.validate_directory(data, cache=_cache(tmp_path, warnings))
    res = sorted((data / "results").glob("*.csv"))[0]
    text = res.read_text(encoding="utf-8").splitlines(keepends=True)
    header = text[0].rstrip("\n").split(",")
    key = text[1].split(",")[:3]
    for n, line in enumerate(text[1:], 1):  # every item row of the first result
        cells = line.rstrip("\n").split(",")
        if cells[:3] == key and cells[header.index("version")] == "1":
            cells[header.index("published")] = "2000-01-03"  # before 'entered': a rule (not a parse) error
            text[n] = ",".join(cells) + "\n"
    res.write_text("".join(text), encoding="utf-8")
    cache = _cache(tmp_path, warnings)
    v = loading.validate_directory(data, cache=cache)
    rel = f"results/{res.name}"
    assert rel in cache.misses and "targets.csv" in cache.hits
    assert v.problems == loading.validate_directory(data).problems
    assert any(p.file == rel and p.location == "line 2" and p.field == "published" for p in v.errors), v.errors
    # the rules' locations come from the cached file too
    cache = _cache(tmp_path, warnings)
    assert loading.validate_directory(data, cache=cache).problems == v.problems and rel in cache.hits


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage"])
def test_damaged_entry_is_ignored_with_a_warning(data, tmp_path, damage):
    warnings: list[str] = []
    loading.validate_directory(data, cache=_cache(tmp_path, warnings))
    entries = sorted((tmp_path / "cache").glob("targets-*.bin"))
    assert len(entries) == 1
    raw = entries[0].read_bytes()
    if damage == "truncate":
        entries[0].write_bytes(raw[: len(raw) // 2])
    elif damage == "flip":
        entries[0].write_bytes(raw[:-10] + bytes([raw[-10] ^ 1]) + raw[-9:])
    else:
        entries[0].write_bytes(b"not a cache entry at all")
    cache = _cache(tmp_path, warnings)
    v = loading.validate_directory(data, cache=cache)
    assert "targets.csv" in cache.misses
    assert len(warnings) == 1 and "targets.csv" in warnings[0] and str(entries[0]) in warnings[0]
    assert v.dataset == loading.validate_directory(data).dataset
    # the entry was rewritten: the next load is a clean hit
    again: list[str] = []
    cache = _cache(tmp_path, again)
    loading.validate_directory(data, cache=cache)
    assert "targets.csv" in cache.hits and again == []


def test_a_changed_parser_is_a_miss(data, tmp_path):
    warnings: list[str] = []
    loading.validate_directory(data, cache=_cache(tmp_path, warnings))
    cache = _cache(tmp_path, warnings)
    cache.code = "0" * 64  # what a new version of loading.py would give
    loading.validate_directory(data, cache=cache)
    assert cache.hits == [] and warnings == []


def test_columnar_records_round_trip():
    ds = loading.load_dataset(DATA)
    results = list(ds.results)
    assert decode_records(Result, encode_records(Result, results)) == results
    assert tuple(decode_records(type(ds.targets[0]), encode_records(type(ds.targets[0]), ds.targets))) == ds.targets


def test_plans_come_from_the_cache_with_their_rule_locations(data, tmp_path):
    plan = data / "plans" / "2025.yaml"
    text = plan.read_text(encoding="utf-8")
    assert "lead: amr" in text
    plan.write_text(text.replace("lead: amr", "lead: nosuch", 1), encoding="utf-8")  # a rules-phase error
    plain = loading.validate_directory(data)
    located = [p for p in plain.errors if p.file == "plans/2025.yaml" and p.field == "lead"]
    assert located and located[0].location.startswith("versions[0].tasks[")
    warnings: list[str] = []
    loading.validate_directory(data, cache=_cache(tmp_path, warnings))
    cache = _cache(tmp_path, warnings)
    warm = loading.validate_directory(data, cache=cache)
    assert "plans/2025.yaml" in cache.hits
    assert warm.problems == plain.problems and warnings == []


# --------------------------------------------------------------------------- columns and constructors

import csv  # noqa: E402
import io  # noqa: E402
import tempfile  # noqa: E402
from datetime import date  # noqa: E402

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from sunshine import data_cache  # noqa: E402
from sunshine.data_cache import decode_column, encode_column  # noqa: E402
from sunshine.vocabulary import CreditClass, ResultCode, TargetFlag  # noqa: E402

_values = st.one_of(
    st.text(alphabet=st.sampled_from(["a", "b", "示", "\x00", "\x1f", "\x1e", "\ufffe", ";", ","]), max_size=4),
    st.none(),
    st.sampled_from(list(CreditClass)),
    st.dates(min_value=date(2020, 1, 1), max_value=date(2020, 1, 20)),
    st.integers(min_value=-3, max_value=300),
    st.frozensets(st.sampled_from(list(TargetFlag)), max_size=2),
    st.tuples(st.sampled_from(list(ResultCode))),
)


@given(st.lists(_values, max_size=600), st.booleans())
@settings(max_examples=200, deadline=None)
def test_columns_round_trip_with_their_types(values, homogeneous):
    if homogeneous and values:  # the usual case: one type (and None) per column
        first = type(values[0])
        values = [v for v in values if type(v) is first or v is None]
    col = encode_column(values)
    decoded, n = decode_column(data_cache.loads(data_cache.dumps(col)))
    decoded = list(decoded)
    assert n == len(values)
    assert list(map(_canon, decoded)) == list(map(_canon, values))


def _canon(v):
    """Type and value, elements included (a set's iteration order is not a property of its value)."""
    if isinstance(v, frozenset):
        return (frozenset, sorted(map(repr, v)))
    if isinstance(v, tuple):
        return (tuple, [_canon(x) for x in v])
    return (type(v), repr(v))


def test_column_forms():
    assert encode_column([])[0] == "list"
    assert encode_column(["x"] * 5)[0] == "repeat"
    assert encode_column([f"code{i}" for i in range(10)])[0] == "joined"
    assert encode_column(["a\x00", "b\x1f", "c\x1e", "d\ufffe", "e"])[0] == "list"  # every separator taken
    table = encode_column([CreditClass.A, None] * 300)
    assert table[0] == "table" and table[2] == "B"
    assert encode_column(list(range(1000)) * 2)[2] == "H"
    assert encode_column(["A", CreditClass.A])[0] == "list"  # equal values of two types are not merged
    assert encode_column([[1], [2]])[0] == "list"  # unhashable


from sunshine.model import Target  # noqa: E402
from sunshine.vocabulary import RegistrationStatus, TargetKind  # noqa: E402


def _targets(n: int, pool: int, narrow: bool, rnd) -> list:
    """*n* targets drawn by *rnd*, divisions from a pool of *pool*; *narrow*: few values per field,
    so the small tables are stored as one joint column."""
    def pick(values):
        return rnd.choice(values[:2] if narrow else values)

    flag_sets = [frozenset(), frozenset({TargetFlag.KEY_INDUSTRY}), frozenset(TargetFlag)]
    return [Target(
        code=f"C{i}" if rnd.random() < 0.5 else "C0",
        name=rnd.choice(["甲", "乙", "a\x00b", ""]),
        kind=pick(list(TargetKind)),
        division=str(100000 + rnd.randrange(pool)),
        industries=pick([(), ("F52",), ("F52", "C21")]),
        status=pick(list(RegistrationStatus)),
        flags=pick(flag_sets),
        credit_class=pick([None, *CreditClass]),
        established=pick([None, *(date(2000, 1, 1 + k) for k in range(28))]),
    ) for i in range(n)]


@given(st.integers(min_value=0, max_value=1000), st.integers(min_value=1, max_value=300), st.booleans(),
       st.integers(min_value=0))
@settings(max_examples=40, deadline=None)
def test_records_round_trip_through_joint_columns(n, pool, narrow, seed):
    import random

    records = _targets(n, pool, narrow, random.Random(seed))
    encoded = data_cache.loads(data_cache.dumps(encode_records(Target, records)))
    decoded = decode_records(Target, encoded)
    assert all(type(r) is Target for r in decoded)
    assert [[_canon(getattr(r, f)) for f in Target.__slots__] for r in decoded] == \
        [[_canon(getattr(r, f)) for f in Target.__slots__] for r in records]


def test_joint_columns_group_the_small_tables():
    ds = loading.load_dataset(DATA)
    _, _, n, cols, joint = encode_records(Target, ds.targets)
    assert joint is not None and len(joint[0]) >= 2 and all(cols[i] == ("joint",) for i in joint[0])
    assert cols[0][0] == "joined"  # the codes


def test_constructor_builds_the_real_class():
    make = data_cache._constructor(Result)
    ds = loading.load_dataset(DATA)
    r = ds.results[0]
    fields = [getattr(r, f) for f in Result.__slots__]
    built = make(*fields)
    assert type(built) is Result and built == r and hash(built) == hash(r)
    with pytest.raises(Exception):  # still frozen
        built.task = "x"  # type: ignore[misc]


# --------------------------------------------------------------------------- lazy locations


def test_where_fills_deferred_locations_on_first_need():
    w = loading._Where()
    w[1] = ("a", "line 2")
    calls = []

    def fill():
        calls.append(1)
        return [(5, ("b", "line 9"))]

    w.defer(fill)
    assert w and w.get(1) == ("a", "line 2") and calls == []
    assert w.get(5) == ("b", "line 9") and calls == [1]
    assert w.get(6, "default") == "default" and 5 in w and len(w) == 2 and calls == [1]
    late = []
    w.defer(lambda: late.append(1) or [(8, ("d", "line 3"))], late=True)
    w.defer(lambda: [(7, ("c", "line 5"))])
    assert w.get(7) == ("c", "line 5") and late == []  # the item fills wait for a lookup nothing else answers
    assert w.get(8) == ("d", "line 3") and late == [1]
    w2 = loading._Where()
    assert not w2 and w2.get(1) is None
    w2.defer(lambda: [(3, ("c", "line 4"))])
    assert w2 and w2[3] == ("c", "line 4") and dict(w2.items()) == {3: ("c", "line 4")}
    with pytest.raises(KeyError):
        w2[4]


# --------------------------------------------------------------------------- appended results rows

HEADER = "task,target,department,item,codes,sub_codes,note,inspection_end,entered,published,approver_role,version," \
         "correction_reason"
_TASKS = ["2025-01", "2025-02", "bad task!"]
_TARGETS = ["91379902001265641N", "379903648492652", "P-1", "", "a;b"]
_DEPTS = ["amr", "fire", "BAD"]
_ITEMS = ["AMR-03", "AMR-04", "FIRE-01", "-bad"]
_CODES = ["no_issue", "issue_pending", "no_issue;issue_pending", "nonsense", ""]
_SUBS = ["", "dept_violation", "nope"]
_NOTES = ["", "备注", 'a "quoted" note', "two\nlines", "x,y"]
_DATES = ["2025-05-30", "2025-06-04", "2025-13-01"]
_ROLES = ["head", "deputy_head", "boss"]
_VERSIONS = ["1", "2", "0", "x"]
_REASONS = ["", "更正"]

_row = st.tuples(*(st.sampled_from(v) for v in (
    _TASKS, _TARGETS, _DEPTS, _ITEMS, _CODES, _SUBS, _NOTES, _DATES, _DATES, _DATES, _ROLES, _VERSIONS, _REASONS)))
# mostly-valid rows: few distinct keys, so later rows add items to earlier results or repeat them
_good_row = st.tuples(st.sampled_from(_TASKS[:2]), st.sampled_from(_TARGETS[:3]), st.sampled_from(_DEPTS[:2]),
                      st.sampled_from(_ITEMS[:3]), st.sampled_from(_CODES[:2]), st.just(""),
                      st.sampled_from(_NOTES[:2]), st.just(_DATES[0]), st.just(_DATES[1]),
                      st.sampled_from(_DATES[:2]), st.just("head"), st.sampled_from(_VERSIONS[:2]), st.just(""))
_junk = st.sampled_from([b"\n", b"a,b\n", b'x,"unterminated\n', b"\xff\xfe\n", "\ufeff".encode() + b"2025-01,P-1\n",
                         b"\r\n", b"\r", b"no newline at the end", b'"a"b,c\n'])


def _csv_bytes(rows, crlf: bool) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n" if crlf else "\n").writerows(rows)
    return buf.getvalue().encode("utf-8")


_chunk = st.one_of(
    st.builds(_csv_bytes, st.lists(_good_row, min_size=1, max_size=6), st.booleans()).map(lambda b: ("rows", b)),
    st.builds(_csv_bytes, st.lists(_row, min_size=1, max_size=4), st.booleans()).map(lambda b: ("rows", b)),
    _junk.map(lambda b: ("junk", b)),
)
_step = st.one_of(
    _chunk.map(lambda c: ("append", *c)),
    st.tuples(st.just("edit"), st.integers(min_value=0), st.binary(min_size=1, max_size=1)),
    st.tuples(st.just("truncate"), st.integers(min_value=0)),
    st.tuples(st.just("header"), st.sampled_from([HEADER.replace(",note", ""), HEADER + ",extra",
                                                  HEADER.replace("task", "tsk"), HEADER])),
)


def _is_utf8(b: bytes) -> bool:
    try:
        b.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _located(records, where):
    return [(where.get(id(r)), [where.get(id(i)) for i in r.items]) for r in records]


def _load_results(root: Path, cache):
    problems: list = []
    where = loading._Where()
    records = loading._load_results(str(root), problems, where, cache)
    return [repr(r) for r in records], problems, _located(records, where)


def _check_cached_equals_cold(root: Path, cache_dir: Path, warnings: list[str]):
    cache = DataCache(cache_dir, warn=warnings.append)
    got = _load_results(root, cache)
    assert got == _load_results(root, None)
    return cache


@given(bom=st.booleans(), crlf=st.booleans(), base=st.lists(_good_row, max_size=8),
       steps=st.lists(_step, min_size=1, max_size=5))
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_appended_rows_give_exactly_a_full_parse(bom, crlf, base, steps):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "data"
        (root / "results").mkdir(parents=True)
        f = root / "results" / "2025.csv"
        raw = ("\ufeff" if bom else "").encode() + _csv_bytes([HEADER.split(",")] + base, crlf)
        f.write_bytes(raw)
        warnings: list[str] = []
        _check_cached_equals_cold(root, Path(tmp) / "cache", warnings)
        resumable = True  # the file so far ends cleanly between rows, with a good header, as UTF-8
        for step in steps:
            if step[0] == "append":
                _, what, chunk = step
                raw += chunk
                expect_extended = resumable and _is_utf8(chunk)  # else a full parse reports the bytes
                resumable = resumable and what == "rows"
            elif step[0] == "edit":
                pos = step[1] % max(len(raw), 1)  # an empty file gets the byte
                raw = raw[:pos] + step[2] + raw[pos + 1:]
                expect_extended, resumable = False, False
            elif step[0] == "truncate":
                raw = raw[: step[1] % (len(raw) + 1)]
                expect_extended, resumable = False, False
            else:
                first, nl, rest = raw.partition(b"\n")
                raw = step[1].encode() + (b"\r" if first.endswith(b"\r") else b"") + nl + rest
                expect_extended, resumable = False, False
            f.write_bytes(raw)
            cache = _check_cached_equals_cold(root, Path(tmp) / "cache", warnings)
            if expect_extended:
                assert cache.extended == ["results/2025.csv"], (cache.hits, cache.misses)
        assert warnings == []


def _results_rows(n: int, start: int = 0) -> str:
    return "".join(f"2025-01,P-{i},amr,AMR-03,no_issue,,,2025-05-30,2025-06-04,2025-06-04,head,1,\n"
                   for i in range(start, start + n))


def _entry(cache_dir: Path, rel: str = "results/2025.csv"):
    return DataCache(cache_dir).lookup("results", rel)


def test_append_only_new_results_adds_a_segment(tmp_path):
    root = tmp_path / "data"
    (root / "results").mkdir(parents=True)
    f = root / "results" / "2025.csv"
    f.write_text(HEADER + "\n" + _results_rows(3), encoding="utf-8")
    cdir = tmp_path / "cache"
    _check_cached_equals_cold(root, cdir, [])
    for k in range(3):
        with f.open("a", encoding="utf-8") as fh:
            fh.write(_results_rows(2, 10 + 2 * k))
        cache = _check_cached_equals_cold(root, cdir, [])
        assert cache.extended == ["results/2025.csv"]
        entry = _entry(cdir)
        assert len(entry.segments(print, "x")) == 2 + k and entry.size == f.stat().st_size
    cache = _check_cached_equals_cold(root, cdir, [])
    assert cache.hits == ["results/2025.csv"]
    # a row adding an item to a result of the prefix: the entry is written again as one segment
    with f.open("a", encoding="utf-8") as fh:
        fh.write("2025-01,P-0,amr,AMR-04,no_issue,,,2025-05-30,2025-06-04,2025-06-04,head,1,\n")
    cache = _check_cached_equals_cold(root, cdir, [])
    assert cache.extended == ["results/2025.csv"]
    assert len(_entry(cdir).segments(print, "x")) == 1
    records, _problems, located = _load_results(root, cache)
    assert "AMR-04" in records[0] and located[0] == (("results/2025.csv", "line 2"),
                                                     [("results/2025.csv", "line 2"), ("results/2025.csv", "line 11")])


def test_many_appends_are_compacted(tmp_path, monkeypatch):
    monkeypatch.setattr(data_cache, "MAX_SEGMENTS", 3)
    root = tmp_path / "data"
    (root / "results").mkdir(parents=True)
    f = root / "results" / "2025.csv"
    f.write_text(HEADER + "\n" + _results_rows(1), encoding="utf-8")
    cdir = tmp_path / "cache"
    _check_cached_equals_cold(root, cdir, [])
    counts = []
    for k in range(5):
        with f.open("a", encoding="utf-8") as fh:
            fh.write(_results_rows(1, 5 + k))
        assert _check_cached_equals_cold(root, cdir, []).extended == ["results/2025.csv"]
        counts.append(len(_entry(cdir).segments(print, "x")))
    assert counts == [2, 3, 1, 2, 3]


@pytest.mark.parametrize("old_end", ["no newline", "open quote"])
def test_a_prefix_that_did_not_end_between_rows_is_parsed_again(tmp_path, old_end):
    root = tmp_path / "data"
    (root / "results").mkdir(parents=True)
    f = root / "results" / "2025.csv"
    tail = _results_rows(1, 7)
    if old_end == "no newline":
        f.write_text(HEADER + "\n" + _results_rows(2)[:-1], encoding="utf-8")
        more = "\n" + tail
    else:
        f.write_text(HEADER + "\n" + _results_rows(2) + '2025-01,P-9,amr,AMR-03,no_issue,,"open\n', encoding="utf-8")
        more = 'quote",2025-05-30,2025-06-04,2025-06-04,head,1,\n' + tail
    cdir = tmp_path / "cache"
    _check_cached_equals_cold(root, cdir, [])
    with f.open("a", encoding="utf-8") as fh:
        fh.write(more)
    cache = _check_cached_equals_cold(root, cdir, [])
    assert cache.misses == ["results/2025.csv"] and cache.extended == []


def test_a_damaged_entry_is_not_extended(tmp_path):
    root = tmp_path / "data"
    (root / "results").mkdir(parents=True)
    f = root / "results" / "2025.csv"
    f.write_text(HEADER + "\n" + _results_rows(4), encoding="utf-8")
    cdir = tmp_path / "cache"
    _check_cached_equals_cold(root, cdir, [])
    (path,) = cdir.glob("results-*.bin")
    raw = path.read_bytes()
    path.write_bytes(raw[:-5] + bytes([raw[-5] ^ 1]) + raw[-4:])
    with f.open("a", encoding="utf-8") as fh:
        fh.write(_results_rows(1, 9))
    warnings: list[str] = []
    cache = _check_cached_equals_cold(root, cdir, warnings)
    assert cache.misses == ["results/2025.csv"] and len(warnings) == 1 and "checksum mismatch" in warnings[0]
    assert _check_cached_equals_cold(root, cdir, []).hits == ["results/2025.csv"]


def test_rules_locate_appended_rows(data, tmp_path):
    warnings: list[str] = []
    loading.validate_directory(data, cache=_cache(tmp_path, warnings))
    res = sorted((data / "results").glob("*.csv"))[0]
    text = res.read_text(encoding="utf-8")
    header = text.splitlines()[0].split(",")
    first = text.splitlines()[1].split(",")
    row = dict(zip(header, first))
    row.update(target="91379902001265641X", version="1")  # an unknown target: a rules error
    with res.open("a", encoding="utf-8") as f:
        f.write(",".join(row[h] for h in header) + "\n")
    n = len(text.splitlines()) + 1
    cache = _cache(tmp_path, warnings)
    v = loading.validate_directory(data, cache=cache)
    rel = f"results/{res.name}"
    assert cache.extended == [rel] and warnings == []
    assert v.problems == loading.validate_directory(data).problems
    assert any(p.file == rel and p.location == f"line {n}" for p in v.errors), v.errors


def test_loading_restores_the_gc_state(data, tmp_path):
    import gc

    assert gc.isenabled()
    loading.validate_directory(data, cache=_cache(tmp_path, []))
    assert gc.isenabled()
    gc.disable()
    try:
        loading.validate_directory(data, cache=_cache(tmp_path, []))
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_cached_state_that_does_not_fit_is_a_miss_with_a_warning(tmp_path, monkeypatch):
    root = tmp_path / "data"
    (root / "results").mkdir(parents=True)
    f = root / "results" / "2025.csv"
    f.write_text(HEADER + "\n" + _results_rows(3), encoding="utf-8")
    cdir = tmp_path / "cache"
    _check_cached_equals_cold(root, cdir, [])
    entry = _entry(cdir)
    segments = entry.segments(print, "x")
    segments[-1]["state"] = {"cols": {"task": 0}, "width": 13, "lines": "four"}  # not a line count
    DataCache(cdir).put("results", "results/2025.csv", entry.file, entry.size, segments)
    with f.open("a", encoding="utf-8") as fh:
        fh.write(_results_rows(1, 8))
    warnings: list[str] = []
    cache = _check_cached_equals_cold(root, cdir, warnings)
    assert cache.misses == ["results/2025.csv"] and len(warnings) == 1 and "unusable" in warnings[0]


def test_file_digests_give_the_prefix_digest_at_any_cut(tmp_path):
    import hashlib

    raw = bytes(range(256)) * ((2 << 20) // 256) + b"tail\n"
    f = tmp_path / "f"
    f.write_bytes(raw)
    full = hashlib.sha256(raw).hexdigest()
    for cut in (1, 255, 1 << 20, (1 << 20) + 1, 2 << 20, len(raw) - 1):
        digest, size, prefix, before = data_cache.file_digests(f, cut)
        assert (digest, size) == (full, len(raw))
        assert prefix == hashlib.sha256(raw[:cut]).hexdigest() and before == raw[cut - 1 : cut], cut
    for cut in (None, 0, len(raw), len(raw) + 1):  # no proper prefix
        assert data_cache.file_digests(f, cut) == (full, len(raw), None, b"")
