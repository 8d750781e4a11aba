"""Exact look-up of a target by code (USCC) or by full name, for ``enterprises/index.html``.

Pagefind tokenises long Chinese company names and may miss an exact quoted name; this index
answers "is this exact code or name on the site, and where". It is sharded so a phone fetches
only a few KiB: ``search/lookup/meta.json`` gives the shard count ``n`` (a power of two), and a
key lives in shard ``fnv1a32(key) mod n`` (FNV-1a, 32 bit, over the UTF-8 bytes of the key,
after :func:`normalise`). A shard ``search/lookup/<k>.json`` is ``{"key": [[code, name, url], …]}``.
``theme/static/js/lookup.js`` implements the same hash.
"""

from __future__ import annotations

import json
import unicodedata

PER_SHARD = 1500


def normalise(key: str) -> str:
    """NFKC (full-width letters and brackets → ASCII), no spaces, upper-case ASCII letters."""
    k = unicodedata.normalize("NFKC", key)
    k = "".join(k.split())
    return k.upper()


def fnv1a32(s: str) -> int:
    h = 0x811C9DC5
    for b in s.encode("utf-8"):
        h ^= b
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def files(rows: list[tuple[str, str, str]]) -> dict[str, bytes]:
    n = 1
    while n * PER_SHARD < len(rows) * 2:  # two keys per row (code and name)
        n *= 2
    shards: list[dict[str, list]] = [{} for _ in range(n)]
    for code, name, url in rows:
        for key in {normalise(code), normalise(name)}:
            if key:
                shards[fnv1a32(key) % n].setdefault(key, []).append([code, name, url])
    out = {"search/lookup/meta.json": json.dumps({"version": 1, "shards": n, "count": len(rows)}).encode()}
    for i, shard in enumerate(shards):
        out[f"search/lookup/{i}.json"] = json.dumps(shard, ensure_ascii=False, sort_keys=True,
                                                    separators=(",", ":")).encode("utf-8")
    return out
