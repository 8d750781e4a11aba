"""The exact-lookup index (``sunshine.portal.lookup``): the batched FNV-1a and the pre-encoded
shards give exactly what the one-key-at-a-time code gives — kept below as the reference (it is the
code the module had before it was made fast) — on hostile and on realistic rows."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sunshine.portal import lookup


def ref_files(rows: list[tuple[str, str, str]]) -> dict[str, bytes]:
    n = 1
    while n * lookup.PER_SHARD < len(rows) * 2:
        n *= 2
    shards: list[dict[str, list]] = [{} for _ in range(n)]
    for code, name, url in rows:
        for key in {lookup.normalise(code), lookup.normalise(name)}:
            if key:
                shards[lookup.fnv1a32(key) % n].setdefault(key, []).append([code, name, url])
    out = {"search/lookup/meta.json": json.dumps({"version": 1, "shards": n, "count": len(rows)}).encode()}
    for i, shard in enumerate(shards):
        out[f"search/lookup/{i}.json"] = json.dumps(shard, ensure_ascii=False, sort_keys=True,
                                                    separators=(",", ":")).encode("utf-8")
    return out


def test_published_fnv1a32_vectors_batched():
    # FNV-1a 32-bit test vectors from the reference (Fowler/Noll/Vo, draft-eastlake-fnv, "fnv_test.c"),
    # the same as test_portal.py's test of fnv1a32
    assert lookup.fnv1a32_many(["", "a", "foobar"]) == [0x811C9DC5, 0xE40C292C, 0xBF9CF968]


TOKENS = ["", " ", "\u3000", "\t", "\n", "Ａ", "（", "）", "ﬁ", "ß", "a", "Z", "9", ",", '"', "\\", ":", "<script>",
          "𠀀", "😀", "\x00", "\x7f", "\u2028", "\ufeff", "e\u0301", "示例市", "有限公司"]
text = st.lists(st.sampled_from(TOKENS) | st.characters(blacklist_categories=("Cs",)), max_size=12).map("".join)


@settings(max_examples=200, deadline=None)
@given(st.lists(text, max_size=40))
def test_fnv1a32_many_is_fnv1a32_of_each(keys):
    assert lookup.fnv1a32_many(keys) == [lookup.fnv1a32(k) for k in keys]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(text, text, text), max_size=60))
def test_same_bytes_as_the_reference_on_hostile_rows(rows):
    assert lookup.files(rows) == ref_files(rows)


@settings(max_examples=5, deadline=None)
@given(st.integers(0, 2**32))
def test_same_bytes_as_the_reference_with_many_shards(seed):
    """≈ 4,000 rows (8 shards), with codes and names that collide after normalisation."""
    import random

    rnd = random.Random(seed)
    words = ["示例", "市", "某某", "餐饮", "有限公司", "（", "）", "(", ")", "Ａ", "b", " ", "𠀀", '"', "商行"]
    rows = []
    for i in range(4000):
        code = f"9137{rnd.randrange(10**14):014d}" if rnd.random() < 0.9 else rnd.choice(["", " ", "Ａ1", "a1"])
        name = "".join(rnd.choice(words) for _ in range(rnd.randrange(0, 8)))
        rows.append((code, name if rnd.random() < 0.95 else code.lower(), f"enterprises/{code}/"))
    out = lookup.files(rows)
    assert json.loads(out["search/lookup/meta.json"])["shards"] == 8
    assert out == ref_files(rows)


# --------------------------------------------------------------------------- delta builds: only the shards that change


def _rows(pairs) -> list[tuple[str, str, str]]:
    """Rows as views.enterprise_lookup_rows gives them: one per code, in code order."""
    return sorted((code, name, f"enterprises/{code}/") for code, name in dict(pairs).items())


def _check_delta(old: list, rows: list, changed: list):
    """delta_files(changed rows) against files() of the old and the new rows: the files it gives are the
    new ones, the others are unchanged; returns its answer."""
    before, after = lookup.files(old), lookup.files(rows)
    out = lookup.delta_files(len(rows), changed, before.get)
    if out is not None:
        assert lookup.META in out and set(out) <= set(after)
        for rel, data in after.items():
            assert out.get(rel, before.get(rel)) == data, rel
    return out


CODES = st.sampled_from(["9137A", "9137B", "9137C", "9137D", "9137E", "9137F", "Ａ1", "a1", "A1", " x", "(1)"])


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(CODES | text, text, max_size=30), st.data())
def test_delta_files_give_the_new_files_of_the_changed_shards(pairs, data):
    """Any rows, some of them new and some of them unchanged among the rows given: the shards it gives
    and the shards it leaves are those of a whole build, or it gives None for a reason it may."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(lookup, "PER_SHARD", data.draw(st.sampled_from([1, 2, 3, 1500])))
        _check_any_delta(pairs, data)


def _check_any_delta(pairs, data) -> None:
    rows = _rows(pairs.items())
    new = set(data.draw(st.sets(st.sampled_from(range(len(rows))), max_size=4))) if rows else set()
    kept = set(data.draw(st.sets(st.sampled_from(range(len(rows))), max_size=4))) if rows else set()
    old = [r for i, r in enumerate(rows) if i not in new]
    changed = [r for i, r in enumerate(rows) if i in new | kept]
    out = _check_delta(old, rows, changed)
    if out is None:  # only when the shard count changed or a row given has no key
        assert lookup.shard_count(len(old)) != lookup.shard_count(len(rows)) \
            or any(not lookup.row_keys(c, n) for c, n, _ in changed)


def test_delta_files_same_names_and_many_shards(monkeypatch):
    """New rows sharing a name (one key, entries in code order) before, between and after the old ones."""
    monkeypatch.setattr(lookup, "PER_SHARD", 3)
    rows = _rows([(f"9137{i:04d}", "示例（Ａ）餐饮" if i % 3 == 0 else f"商行{i}") for i in range(200)])
    new = {0, 3, 4, 99, 102, 198, 199}
    old = [r for i, r in enumerate(rows) if i not in new]
    assert lookup.shard_count(len(old)) == lookup.shard_count(len(rows)) == 256
    out = _check_delta(old, rows, [rows[i] for i in sorted(new | {1, 6, 150})])
    assert out is not None and 2 < len(out) < 20
    name_key = lookup.normalise("示例（Ａ）餐饮")
    shard = json.loads(out[lookup.shard_path(lookup.fnv1a32(name_key) % 256)])
    assert [e[0] for e in shard[name_key]] == [f"9137{i:04d}" for i in range(0, 200, 3)]
    # nothing new: only meta.json, the same bytes
    assert _check_delta(rows, rows, rows[:5]) == {lookup.META: lookup.files(rows)[lookup.META]}


def test_delta_files_give_none_when_they_cannot_tell(monkeypatch):
    monkeypatch.setattr(lookup, "PER_SHARD", 3)
    rows = _rows([(f"9137{i:04d}", f"商行{i % 50}") for i in range(100)])
    old, new = rows[:-1], rows[-1:]
    before = lookup.files(old)
    assert lookup.delta_files(len(rows), new, before.get) is not None

    def without(rel):
        return lambda r: None if r == rel else before.get(r)

    def replaced(rel, data):
        return lambda r: data if r == rel else before.get(r)

    key_shard = lookup.shard_path(lookup.fnv1a32(lookup.row_keys(*new[0][:2])[0]) % lookup.shard_count(len(rows)))
    meta = json.loads(before[lookup.META])
    cannot = {
        "no meta.json": without(lookup.META),
        "no shard": without(key_shard),
        "a shard that is not JSON": replaced(key_shard, b"{"),
        "a shard that is not an object": replaced(key_shard, b"[]"),
        "a key that is not a list": replaced(key_shard, json.dumps({lookup.row_keys(*new[0][:2])[0]: 1}).encode()),
        "meta.json of another count": replaced(lookup.META, json.dumps({**meta, "count": meta["count"] - 1}).encode()),
        "meta.json of another version": replaced(lookup.META, json.dumps({**meta, "version": 2}).encode()),
        "meta.json not JSON": replaced(lookup.META, b"\xff"),
    }
    for why, previous in cannot.items():
        assert lookup.delta_files(len(rows), new, previous) is None, why
    # the shard count changes
    assert lookup.delta_files(len(rows), new, lookup.files(rows[:40]).get) is None
    # a row half there (its name is in the index, its code is not): not the row the previous build had
    half = [(rows[5][0], "商行99", rows[5][2])]
    assert lookup.delta_files(len(old), half, before.get) is None
    # a row with no key at all: whether it is new cannot be told
    assert lookup.delta_files(len(rows), [(" ", "", "enterprises/%20/")], lookup.files(old).get) is None
    # the count says one row more than the rows show
    assert lookup.delta_files(len(rows), old[:3], before.get) is None
