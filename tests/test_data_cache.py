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
