"""Exact look-up of a target by code (USCC) or by full name, for ``enterprises/index.html``.

Pagefind tokenises long Chinese company names and may miss an exact quoted name; this index
answers "is this exact code or name on the site, and where". It is sharded so a phone fetches
only a few KiB: ``search/lookup/meta.json`` gives the shard count ``n`` (a power of two), and a
key lives in shard ``fnv1a32(key) mod n`` (FNV-1a, 32 bit, over the UTF-8 bytes of the key,
after :func:`normalise`). A shard ``search/lookup/<k>.json`` is ``{"key": [[code, name, url], …]}``
(keys sorted, no spaces: ``json.dumps(shard, ensure_ascii=False, sort_keys=True, separators=(",", ":"))``).
``theme/static/js/lookup.js`` implements the same hash.

A province has ~150,000 targets on the site, so the index is rebuilt on every build from
≈ 300,000 keys: :func:`fnv1a32_many` hashes them all at once, and the shards are written from
pre-encoded entries. ``tests/test_portal_lookup.py`` checks both against the one-key-at-a-time code.
"""

from __future__ import annotations

import json
import sys
import unicodedata
from array import array
from bisect import bisect_left
from collections import deque
from itertools import compress, groupby
from operator import eq

PER_SHARD = 1500

FNV_OFFSET = 0x811C9DC5
FNV_PRIME = 0x01000193


def normalise(key: str) -> str:
    """NFKC (full-width letters and brackets → ASCII), no spaces, upper-case ASCII letters."""
    k = unicodedata.normalize("NFKC", key)
    k = "".join(k.split())
    return k.upper()


def fnv1a32(s: str) -> int:
    """FNV-1a, 32 bit, of the UTF-8 bytes of *s* (one key; :func:`fnv1a32_many` for many)."""
    h = FNV_OFFSET
    for b in s.encode("utf-8"):
        h ^= b
        h = (h * FNV_PRIME) & 0xFFFFFFFF
    return h


def fnv1a32_many(keys: list[str]) -> list[int]:
    """``[fnv1a32(k) for k in keys]``, computed for all keys of the same UTF-8 length at once.

    The keys of one length *L* are lanes of 64 bits in one Python integer: the state of key *j*
    is bits ``64j … 64j+31``; each of the *L* steps XORs in the step's byte of every key (one
    ``int.from_bytes`` of the bytes laid out one per lane), multiplies by the FNV prime (the
    product of a 32-bit state and the 25-bit prime stays inside its lane) and masks every lane
    back to 32 bits. So the work per byte is done in C, not in the interpreter."""
    encoded = list(map(str.encode, keys))  # UTF-8
    lengths = list(map(len, encoded))
    order = sorted(range(len(encoded)), key=lengths.__getitem__)
    hashes: list[int] = []
    for length, group in groupby(order, key=lengths.__getitem__):
        idx = list(group)
        n = len(idx)
        lanes = int.from_bytes(b"\x01\0\0\0\0\0\0\0" * n, "little")  # 1 in every lane
        h = lanes * FNV_OFFSET
        if length:
            mask = lanes * 0xFFFFFFFF
            blob = b"".join(map(encoded.__getitem__, idx))  # key after key, each *length* bytes
            spread = bytearray(8 * n)
            for p in range(length):
                spread[0::8] = blob[p::length]  # byte p of every key, one per lane
                h = ((h ^ int.from_bytes(spread, "little")) * FNV_PRIME) & mask
        values = array("Q", h.to_bytes(8 * n, "little"))
        if sys.byteorder != "little":
            values.byteswap()
        hashes.extend(values)
    out = [0] * len(keys)
    deque(map(out.__setitem__, order, hashes), maxlen=0)  # out[order[i]] = hashes[i], in C
    return out


def files(rows: list[tuple[str, str, str]]) -> dict[str, bytes]:
    """The shards and ``meta.json`` for *rows* ``(code, name, url)``.

    Past the one loop over the rows, every step is a C-level pass over all keys (``sorted``,
    ``map``, ``compress``), not an interpreted loop: a province has ~300,000 keys, on every build."""
    n = 1
    while n * PER_SHARD < len(rows) * 2:  # two keys per row (code and name)
        n *= 2
    jstr = json.encoder.encode_basestring  # what json.dumps(ensure_ascii=False) writes for a str
    keys: list[str] = []  # every row's keys, in row order (code first; none empty; a key once per row)
    entries: list[str] = []  # the row's [code, name, url] as JSON, for each key
    for code, name, url in rows:
        entry = f"[{jstr(code)},{jstr(name)},{jstr(url)}]"
        # an ASCII letters-and-digits code (a USCC) is its own NFKC form and has no spaces
        kc = code.upper() if code.isascii() and code.isalnum() else normalise(code)
        kn = normalise(name)
        if kc:
            keys.append(kc)
            entries.append(entry)
        if kn and kn != kc:
            keys.append(kn)
            entries.append(entry)
    # by key (as sort_keys=True writes a shard); stable, so a key's rows stay in row order
    order = sorted(range(len(keys)), key=keys.__getitem__)
    keys, entries = list(map(keys.__getitem__, order)), list(map(entries.__getitem__, order))
    repeated = list(compress(range(1, len(keys)), map(eq, keys[1:], keys)))  # same key as the one before
    if repeated:  # a key of several rows (same names): all their entries under the first
        for i in reversed(repeated):
            entries[i - 1] = f"{entries[i - 1]},{entries[i]}"
        unique = [True] * len(keys)
        for i in repeated:
            unique[i] = False
        keys, entries = list(compress(keys, unique)), list(compress(entries, unique))
    members = list(map("%s:[%s]".__mod__, zip(map(jstr, keys), entries)))  # '"key":[entry,…]'
    shard_of = [h & (n - 1) for h in fnv1a32_many(keys)]  # n is a power of two: h mod n
    order = sorted(range(len(keys)), key=shard_of.__getitem__)  # stable: by key within a shard
    members = list(map(members.__getitem__, order))
    shard_of.sort()
    out = {"search/lookup/meta.json": json.dumps({"version": 1, "shards": n, "count": len(rows)}).encode()}
    for i in range(n):
        shard = members[bisect_left(shard_of, i) : bisect_left(shard_of, i + 1)]
        out[f"search/lookup/{i}.json"] = ("{" + ",".join(shard) + "}").encode("utf-8")
    return out

