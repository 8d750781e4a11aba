"""The exact-lookup index (``sunshine.portal.lookup``): the batched FNV-1a and the pre-encoded
shards give exactly what the one-key-at-a-time code gives — kept below as the reference (it is the
code the module had before it was made fast) — on hostile and on realistic rows."""

from __future__ import annotations

import json

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
