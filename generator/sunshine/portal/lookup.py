"""Exact look-up of a target by code (USCC) or by full name, for ``enterprises/index.html``.

Pagefind tokenises long Chinese company names and may miss an exact quoted name; this index
answers "is this exact code or name on the site, and where". It is sharded so a phone fetches
only a few KiB: ``search/lookup/meta.json`` gives the shard count ``n`` (a power of two), and a
key lives in shard ``fnv1a32(key) mod n`` (FNV-1a, 32 bit, over the UTF-8 bytes of the key,
after :func:`normalise`). A shard ``search/lookup/<k>.json`` is ``{"key": [[code, name, url], …]}``
(keys sorted, no spaces: ``json.dumps(shard, ensure_ascii=False, sort_keys=True, separators=(",", ":"))``).
``theme/static/js/lookup.js`` implements the same hash.

A row's keys are its code's and its name's (one key when both normalise alike; an empty one is
left out), and a key's entries are in row order: :func:`files` is given the rows in code order
(:func:`sunshine.portal.views.enterprise_lookup_rows`), so they are sorted by their code.

A province has ~150,000 targets on the site, so a whole build makes the index from ≈ 300,000 keys:
:func:`fnv1a32_many` hashes them all at once, and the shards are written from pre-encoded entries.
``tests/test_portal_lookup.py`` checks both against the one-key-at-a-time code.

A delta build (only result rows appended) changes the rows of the targets it names at most, and
only by adding those that had no page before (target data is unchanged, rows are never removed):
:func:`delta_files` reads the previous ``meta.json`` and the shards of those targets' keys, adds
the new rows' entries in code order and gives ``meta.json`` and the shards that changed; the
caller keeps every other shard as it is. It gives None, and the caller makes every file, when the
shard count ``n`` changes (the count crossed a power of two), a previous file is missing, or what
it reads does not add up (a row half there, counts that disagree); the caller reads only files whose
bytes are as the previous build's manifest records them.
"""

from __future__ import annotations

import json
import sys
import unicodedata
from array import array
from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Callable
from itertools import compress, groupby
from operator import eq

PER_SHARD = 1500
META = "search/lookup/meta.json"

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


def shard_count(count: int) -> int:
    """The shard count ``n`` for *count* rows: the least power of two with ``n * PER_SHARD >= 2 * count``."""
    n = 1
    while n * PER_SHARD < count * 2:  # two keys per row (code and name)
        n *= 2
    return n


def shard_path(i: int) -> str:
    return f"search/lookup/{i}.json"


def meta(count: int) -> bytes:
    """``meta.json`` for *count* rows."""
    return json.dumps({"version": 1, "shards": shard_count(count), "count": count}).encode()


def row_keys(code: str, name: str) -> list[str]:
    """The keys of a row, as :func:`files` makes them: its code's, then its name's unless the same;
    none empty."""
    # an ASCII letters-and-digits code (a USCC) is its own NFKC form and has no spaces
    kc = code.upper() if code.isascii() and code.isalnum() else normalise(code)
    kn = normalise(name)
    keys = [kc] if kc else []
    if kn and kn != kc:
        keys.append(kn)
    return keys


def files(rows: list[tuple[str, str, str]]) -> dict[str, bytes]:
    """The shards and ``meta.json`` for *rows* ``(code, name, url)``.

    Past the one loop over the rows, every step is a C-level pass over all keys (``sorted``,
    ``map``, ``compress``), not an interpreted loop: a province has ~300,000 keys, on every build."""
    n = shard_count(len(rows))
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
    out = {META: meta(len(rows))}
    for i in range(n):
        shard = members[bisect_left(shard_of, i) : bisect_left(shard_of, i + 1)]
        out[shard_path(i)] = ("{" + ",".join(shard) + "}").encode("utf-8")
    return out


def delta_files(count: int, rows: list[tuple[str, str, str]],
                previous: Callable[[str], bytes | None]) -> dict[str, bytes] | None:
    """``meta.json`` and the shards that change, in a delta build, when the index now has *count*
    rows and *rows* are those that may differ from the previous build's: each is either in the
    previous index as it is or new (see the module docstring). *previous(rel)* gives the previous
    build's file (None when it has none as recorded). None when this cannot be worked out: then
    every file is to be made with :func:`files`. The shards not in the answer are unchanged."""
    n = shard_count(count)
    try:
        before = json.loads(previous(META) or b"null")
    except ValueError:
        return None
    if not isinstance(before, dict) or before.get("version") != 1 or before.get("shards") != n \
            or not isinstance(before.get("count"), int):
        return None
    shards: dict[int, dict] = {}

    def shard(i: int) -> dict | None:
        if i not in shards:
            try:
                data = json.loads(previous(shard_path(i)) or b"null")
            except ValueError:
                return None
            if not isinstance(data, dict):
                return None
            shards[i] = data
        return shards[i]

    new = []
    for code, name, url in rows:
        keys = row_keys(code, name)
        if not keys:
            return None  # in no shard: whether it is new cannot be told
        entry = [code, name, url]
        where = [(fnv1a32(key) & (n - 1), key) for key in keys]
        there = []
        for i, key in where:
            s = shard(i)
            if s is None:
                return None
            entries = s.get(key, [])
            if not isinstance(entries, list) or not all(type(e) is list and e and type(e[0]) is str for e in entries):
                return None
            there.append(entry in entries)
        if all(there):
            continue
        if any(there):
            return None  # half there: neither a row the previous build had nor a new one
        new.append((entry, where))
    if before["count"] + len(new) != count:
        return None
    changed = set()
    for entry, where in new:
        for i, key in where:
            entries = shards[i].setdefault(key, [])
            # a key's entries are in row order, which is code order
            entries.insert(bisect_right([e[0] for e in entries], entry[0]), entry)
            changed.add(i)
    out = {META: meta(count)}
    for i in sorted(changed):
        out[shard_path(i)] = json.dumps(shards[i], ensure_ascii=False, sort_keys=True,
                                        separators=(",", ":")).encode("utf-8")
    return out

