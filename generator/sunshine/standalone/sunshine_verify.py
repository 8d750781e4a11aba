#!/usr/bin/env python3
"""sunshine_verify.py — verify a Sunshine (阳光抽查) draw ledger with nothing but Python and `cryptography`.

    pip install cryptography
    python3 sunshine_verify.py LEDGER_DIR [--vkey VKEY] [--json]

One self-contained file, independent of the `sunshine` package: it re-implements the formats of
docs/spec/ledger.md (RFC 8785 canonical JSON, RFC 6962 Merkle trees, C2SP signed notes, checkpoints,
cosignatures and tlog-tiles, the Sunshine entry envelope and signer rules) so that an auditor can check
a published ledger without trusting the code that wrote it.

Checks: layer 1 (checkpoint signature, entry bundles, hash tiles, Merkle root), layer 2 (strict
entries, hash chain, Ed25519 signatures, signer registered, allowed for the type and valid at the
entry's time, blobs, witness cosignatures) and layer 3's ordering rules (one live commitment per task,
commit → randomness → lock → dispatch, no re-draw, results after the lock, correction versions). Not
checked here: working-day deadlines (they need the official holiday calendar) and the recomputation of
each draw (BLS beacon verification) — use `sunshine verify` for those.

Exit status: 0 verified; 3 rule findings only (the ledger is authentic but breaks rules); 4 integrity
failure (tampering or damage); 1 could not run.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import os
import re
import struct
import sys
from datetime import datetime, timezone

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

VERSION = "1"
TILE = 256
MAX_ENTRY = 16384
MAX_SAFE = 2**53 - 1
DOMAIN = b"sunshine/ledger/entry/v1\n"
ZERO = "0" * 64


class Bad(Exception):
    """Malformed or tampered input: an integrity failure."""


# ----------------------------------------------------------------------------- RFC 8785 (no floats)

_ESC = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def _jcs_str(s: str) -> str:
    out = ['"']
    for ch in s:
        if ch in _ESC:
            out.append(_ESC[ch])
        elif ord(ch) < 0x20:
            out.append("\\u%04x" % ord(ch))
        elif 0xD800 <= ord(ch) <= 0xDFFF:
            raise Bad("lone surrogate in a string")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def jcs(v) -> str:
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if type(v) is int:
        if abs(v) > MAX_SAFE:
            raise Bad("integer out of range")
        return str(v)
    if isinstance(v, str):
        return _jcs_str(v)
    if isinstance(v, list):
        return "[" + ",".join(jcs(x) for x in v) + "]"
    if isinstance(v, dict):
        keys = sorted(v, key=lambda k: k.encode("utf-16-be", "surrogatepass"))
        return "{" + ",".join(_jcs_str(k) + ":" + jcs(v[k]) for k in keys) + "}"
    raise Bad(f"unsupported JSON value {type(v).__name__}")


def _pairs(pairs):
    d = dict(pairs)
    if len(d) != len(pairs):
        raise Bad("duplicate member name")
    return d


def _no_float(text):
    raise Bad(f"number {text} is not an integer")


def canonical_decode(data: bytes):
    try:
        v = json.loads(data.decode("utf-8"), object_pairs_hook=_pairs, parse_float=_no_float,
                       parse_constant=_no_float)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise Bad(f"invalid JSON: {exc}") from None
    if jcs(v).encode("utf-8") != data:
        raise Bad("non-canonical JSON (RFC 8785)")
    return v


# ----------------------------------------------------------------------------- RFC 6962 Merkle tree


def leaf_hash(d: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + d).digest()


def node_hash(a: bytes, b: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + a + b).digest()


def mth(hashes: list) -> bytes:
    """RFC 6962 tree hash over (leaf or perfect-subtree) hashes."""
    n = len(hashes)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashes[0]
    k = 1 << ((n - 1).bit_length() - 1)
    return node_hash(mth(hashes[:k]), mth(hashes[k:]))


class Tree:
    """Leaf hashes and the nodes at levels 8, 16, … (what tiles hold)."""

    def __init__(self):
        self.levels = [[]]
        self.stack = []  # compact range: (height, hash)

    def append(self, leaf: bytes):
        self.levels[0].append(leaf)
        h, height = leaf, 0
        while self.stack and self.stack[-1][0] == height:
            h = node_hash(self.stack.pop()[1], h)
            height += 1
            if height % 8 == 0:
                L = height // 8
                if L == len(self.levels):
                    self.levels.append([])
                self.levels[L].append(h)
        self.stack.append((height, h))

    def root_at(self, size: int) -> bytes:
        # decompose [0, size) into perfect subtrees, built from the stored levels
        parts, lo = [], 0
        while lo < size:
            height = (size - lo).bit_length() - 1
            parts.append(self.subtree(height, lo >> height))
            lo += 1 << height
        if not parts:
            return hashlib.sha256(b"").digest()
        r = parts[-1]
        for p in reversed(parts[:-1]):
            r = node_hash(p, r)
        return r

    def subtree(self, height: int, index: int) -> bytes:
        L, r = divmod(height, 8)
        return mth(self.levels[L][index << r:(index + 1) << r])


# ----------------------------------------------------------------------------- C2SP tlog-tiles


def tile_index(n: int) -> str:
    s = "%03d" % (n % 1000)
    n //= 1000
    while n:
        s = "x%03d/" % (n % 1000) + s
        n //= 1000
    return s


def tile_path(level, n: int, w: int) -> str:
    return f"tile/{level}/{tile_index(n)}" + (f".p/{w}" if w < TILE else "")


_TILE_RE = re.compile(r"tile/(entries|0|[1-9][0-9]?)/((?:x[0-9]{3}/)*[0-9]{3})(?:\.p/([1-9][0-9]{0,2}))?")


def parse_tile_path(p: str):
    m = _TILE_RE.fullmatch(p)
    if not m:
        return None
    groups = m.group(2).replace("x", "").split("/")
    if len(groups) > 1 and groups[0] == "000":
        return None
    w = int(m.group(3)) if m.group(3) else TILE
    if w >= TILE and m.group(3):
        return None
    return (m.group(1), int("".join(groups)), w)


def decode_bundle(data: bytes) -> list:
    out, pos = [], 0
    while pos < len(data):
        if len(data) - pos < 2:
            raise Bad("entry bundle: truncated length")
        (n,) = struct.unpack_from(">H", data, pos)
        pos += 2
        if len(data) - pos < n:
            raise Bad("entry bundle: truncated entry")
        out.append(data[pos:pos + n])
        pos += n
    if not 1 <= len(out) <= TILE:
        raise Bad("entry bundle: expected 1..256 entries")
    return out


# ----------------------------------------------------------------------------- C2SP signed note, checkpoint

_NAME_RE = re.compile(r"[^\s+]+")


def b64(s: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(s, validate=True)
    except (binascii.Error, ValueError):
        raise Bad(f"{what}: invalid base64") from None
    if base64.b64encode(raw).decode() != s:
        raise Bad(f"{what}: non-canonical base64")
    return raw


def key_id(name: str, alg_pub: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + alg_pub).digest()[:4]


def parse_vkey(vkey: str):
    parts = vkey.split("+")
    if len(parts) != 3 or not _NAME_RE.fullmatch(parts[0]) or not re.fullmatch(r"[0-9a-f]{8}", parts[1]):
        raise Bad(f"verifier key: expected name+hex8+base64, got {vkey!r}")
    raw = b64(parts[2], "verifier key")
    if len(raw) != 33 or raw[0] not in (1, 4):
        raise Bad("verifier key: expected an Ed25519 key (type 0x01 or 0x04)")
    if key_id(parts[0], raw).hex() != parts[1]:
        raise Bad("verifier key: key ID does not match the key")
    return parts[0], raw[0], raw[1:]


def parse_note(data: bytes):
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise Bad("note: not UTF-8") from None
    if any(ord(c) < 0x20 and c != "\n" for c in text):
        raise Bad("note: control character")
    split = data.rfind(b"\n\n")
    if split < 0 or not data.endswith(b"\n") or len(data) == split + 2:
        raise Bad("note: expected text, an empty line and signature lines")
    body, sigs = data[:split + 1], []
    for line in data[split + 2:-1].decode().split("\n"):
        if not line.startswith("— "):
            raise Bad("note: signature line must start with an em dash")
        name, sep, sig = line[2:].partition(" ")
        if not sep or not _NAME_RE.fullmatch(name):
            raise Bad("note: malformed signature line")
        raw = b64(sig, "note signature")
        if len(raw) < 5:
            raise Bad("note: signature too short")
        sigs.append((name, raw[:4], raw[4:]))
    return body, sigs


def ed_verify(pub: bytes, sig: bytes, msg: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(pub).verify(sig, msg)
        return True
    except (InvalidSignature, ValueError):
        return False


def open_note(data: bytes, name: str, pub: bytes) -> bytes:
    """The note text, if it carries a valid Ed25519 (0x01) signature by (name, pub); Go note.Open rules."""
    text, sigs = parse_note(data)
    kid = key_id(name, b"\x01" + pub)
    ok = False
    for n, k, s in sigs:
        if (n, k) == (name, kid):
            if len(s) != 64 or not ed_verify(pub, s, text):
                raise Bad(f"checkpoint: invalid signature by {name}")
            ok = True
    if not ok:
        raise Bad(f"checkpoint: no signature by the log key {name}+{kid.hex()}")
    return text


def parse_checkpoint(text: bytes):
    lines = text.decode().split("\n")
    if len(lines) < 4 or lines[-1] != "" or any(x == "" for x in lines[:-1]):
        raise Bad("checkpoint: expected origin, size, root hash and optional extension lines")
    origin, size, root = lines[0], lines[1], lines[2]
    if not re.fullmatch(r"0|[1-9][0-9]{0,18}", size) or int(size) >= 2**63:
        raise Bad("checkpoint: bad size line")
    r = b64(root, "checkpoint root")
    if len(r) != 32:
        raise Bad("checkpoint: root hash is not 32 bytes")
    return origin, int(size), r


# ----------------------------------------------------------------------------- entries (spec §6–§8)

_HEX64 = re.compile(r"[0-9a-f]{64}")
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_KNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/:-]{0,63}")
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_DEPT = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
_BLOB = re.compile(r"sha256:[0-9a-f]{64}")
_SIG = re.compile(r"[A-Za-z0-9+/]{86}==")
_ORIGIN = re.compile(r"[\x21-\x7e]{1,255}")

SIGNER = {
    "genesis": "log", "key.register": "root", "key.rotate": "root", "key.revoke": "root",
    "items.publish": "office", "plan.publish": "office", "directory.snapshot": "office",
    "checkpoint.witness": "office", "draw.commit": "lead", "draw.randomness": "lead_or_office",
    "draw.lock": "lead", "draw.list_reveal": "lead", "draw.dispatch": "lead", "draw.replace_target": "lead",
    "draw.replace_inspector": "task_department", "draw.void": "lead", "result.publish": "result_department",
    "result.correct": "result_head",
}


def _need(c, msg):
    if not c:
        raise Bad(msg)


def _is_time(v):
    if not isinstance(v, str) or not _TIME.fullmatch(v):
        return False
    try:
        datetime(int(v[:4]), int(v[5:7]), int(v[8:10]), int(v[11:13]), int(v[14:16]), int(v[17:19]))
    except ValueError:
        return False
    return True


def _is_date(v):
    if not isinstance(v, str) or not _DATE.fullmatch(v):
        return False
    try:
        datetime(int(v[:4]), int(v[5:7]), int(v[8:10]))
    except ValueError:
        return False
    return True


def _is_int(v, lo):
    return type(v) is int and v >= lo


def _text(v):
    return isinstance(v, str) and bool(v.strip())


def _m(p, v):
    return isinstance(v, str) and p.fullmatch(v) is not None


def _key_record(r, w):
    _need(isinstance(r, dict) and set(r) == {"name", "department", "role", "alg", "public_key"},
          f"{w}: bad key record")
    _need(_m(_KNAME, r["name"]) and _m(_DEPT, r["department"]), f"{w}: bad key name or department")
    _need(r["role"] in ("root", "head", "operator", "witness") and r["alg"] == "ed25519", f"{w}: bad role or alg")
    _need(isinstance(r["public_key"], str) and len(b64(r["public_key"], w)) == 32, f"{w}: bad public key")


def check_body(t: str, b, w: str):
    _need(isinstance(b, dict), f"{w}: body is not an object")

    def has(*names):
        for n in names:
            _need(n in b, f"{w}: missing member {n!r}")

    if t == "genesis":
        has("origin", "jurisdiction", "name", "office", "departments", "log_key", "keys")
        _need(_m(_ORIGIN, b["origin"]) and _m(_ID, b["jurisdiction"]) and _text(b["name"]), f"{w}: bad genesis")
        _need(_m(_DEPT, b["office"]) and isinstance(b["departments"], list) and b["departments"], f"{w}: bad genesis")
        ids = []
        for d in b["departments"]:
            _need(isinstance(d, dict) and "id" in d and "name" in d and _m(_DEPT, d["id"]) and _text(d["name"]),
                  f"{w}: bad department")
            ids.append(d["id"])
        _need(len(set(ids)) == len(ids) and b["office"] in ids, f"{w}: bad departments")
        _need(isinstance(b["log_key"], str), f"{w}: bad log key")
        name, alg, _ = parse_vkey(b["log_key"])
        _need(alg == 1, f"{w}: log key must be type 0x01")
        _need(isinstance(b["keys"], list), f"{w}: keys")
        for i, k in enumerate(b["keys"]):
            _key_record(k, f"{w}.keys[{i}]")
        _need(any(k["role"] == "root" and k["department"] == b["office"] for k in b["keys"]), f"{w}: no root key")
        if "settings" in b:
            _need(isinstance(b["settings"], dict) and all(_is_int(v, 0) for v in b["settings"].values()),
                  f"{w}: settings")
    elif t == "key.register":
        has("key")
        _key_record(b["key"], w)
    elif t == "key.rotate":
        has("old", "key")
        _need(_m(_KNAME, b["old"]), f"{w}: old")
        _key_record(b["key"], w)
    elif t == "key.revoke":
        has("name", "reason")
        _need(_m(_KNAME, b["name"]) and _text(b["reason"]), f"{w}: bad revoke")
        _need("compromised_since" not in b or _is_time(b["compromised_since"]), f"{w}: compromised_since")
    elif t == "items.publish":
        has("version", "published", "items")
        _need(_is_int(b["version"], 1) and _is_date(b["published"]) and _m(_BLOB, b["items"]), f"{w}: items.publish")
    elif t == "plan.publish":
        has("year", "version", "published", "tasks")
        _need(_is_int(b["year"], 2000) and _is_int(b["version"], 1) and _is_date(b["published"]), f"{w}: plan")
        _need(isinstance(b["tasks"], list), f"{w}: tasks")
        for x in b["tasks"]:
            _need(isinstance(x, dict) and {"id", "lead", "participants"} <= set(x), f"{w}: task")
            _need(_m(_ID, x["id"]) and _m(_DEPT, x["lead"]) and isinstance(x["participants"], list)
                  and all(_m(_DEPT, p) for p in x["participants"]), f"{w}: task")
        _need("plan" not in b or _m(_BLOB, b["plan"]), f"{w}: plan blob")
    elif t == "directory.snapshot":
        has("targets", "inspectors", "confirmed")
        for n in ("targets", "inspectors"):
            d = b[n]
            _need(isinstance(d, dict) and "blob" in d and "count" in d and _m(_BLOB, d["blob"])
                  and _is_int(d["count"], 0), f"{w}: {n}")
        _need(_is_date(b["confirmed"]), f"{w}: confirmed")
    elif t.startswith("draw."):
        has("task")
        _need(_m(_ID, b["task"]), f"{w}: task")
        if t == "draw.replace_inspector" and "department" in b:
            _need(_m(_DEPT, b["department"]), f"{w}: department")
    elif t in ("result.publish", "result.correct"):
        has("task", "target", "department", "version", "inspection_end", "published")
        _need(_m(_ID, b["task"]) and _text(b["target"]) and _m(_DEPT, b["department"]), f"{w}: result")
        _need(_is_date(b["inspection_end"]) and _is_date(b["published"]), f"{w}: result dates")
        if t == "result.correct":
            has("reason")
            _need(_is_int(b["version"], 2) and _text(b["reason"]), f"{w}: correction")
        else:
            _need(b["version"] == 1 and type(b["version"]) is int, f"{w}: version must be 1")
    elif t == "checkpoint.witness":
        has("checkpoint", "cosignatures")
        _need(_text(b["checkpoint"]) and isinstance(b["cosignatures"], list) and b["cosignatures"]
              and all(_text(x) for x in b["cosignatures"]), f"{w}: witness")


def parse_entry(raw: bytes, seq: int):
    w = f"entry {seq}"
    _need(len(raw) <= MAX_ENTRY, f"{w}: larger than 16 KiB")
    try:
        o = canonical_decode(raw)
    except Bad as exc:
        raise Bad(f"{w}: {exc}") from None
    _need(isinstance(o, dict) and set(o) == {"body", "prev", "seq", "sig", "signer", "time", "type", "v"},
          f"{w}: wrong members")
    _need(o["v"] == 1 and type(o["v"]) is int, f"{w}: v")
    _need(_is_int(o["seq"], 0) and _m(_HEX64, o["prev"]) and _is_time(o["time"]), f"{w}: seq/prev/time")
    _need(o["type"] in SIGNER and _m(_KNAME, o["signer"]) and _m(_SIG, o["sig"]), f"{w}: type/signer/sig")
    check_body(o["type"], o["body"], w)
    o["_sig"] = b64(o["sig"], f"{w}.sig")
    unsigned = {k: v for k, v in o.items() if k not in ("sig", "_sig")}
    o["_msg"] = jcs(unsigned).encode("utf-8")
    o["_hash"] = hashlib.sha256(raw).hexdigest()
    return o


def blob_refs(v):
    if isinstance(v, str):
        if _BLOB.fullmatch(v):
            yield v
    elif isinstance(v, dict):
        for x in v.values():
            yield from blob_refs(x)
    elif isinstance(v, list):
        for x in v:
            yield from blob_refs(x)


# ----------------------------------------------------------------------------- verification

# drand chains whose round times the order rules use (docs/spec/draw.md; quicknet genesis and period)
# (sunshine.beacon: QUICKNET, and TEST_CHAIN whose secret key is public and which shares quicknet's timing)
ROUND_TIMING = {
    "52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971": (1692803367, 3),  # drand quicknet
    "fc44c7a82582106d1374c882fea1d280fba6c029d13916a2564e79148afb7bca": (1692803367, 3),  # sunshine test chain
}


class Report:
    def __init__(self):
        self.findings = []  # (kind, seq, message)
        self.origin, self.size = "", 0

    def add(self, kind, seq, msg):
        self.findings.append((kind, seq, msg))

    @property
    def exit_code(self):
        if any(k == "integrity" for k, _, _ in self.findings):
            return 4
        return 3 if self.findings else 0


def _round_time(body):
    rnd = body.get("randomness") if isinstance(body, dict) else None
    d = rnd.get("drand") if isinstance(rnd, dict) else None
    if isinstance(d, dict) and d.get("chain") in ROUND_TIMING and type(d.get("round")) is int and d["round"] >= 1:
        g, p = ROUND_TIMING[d["chain"]]
        t = g + (d["round"] - 1) * p
        return d["round"], datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return None


def verify(files: dict, listing, vkey: str | None, rep: Report):
    # -- layer 1
    cp = files.get("checkpoint")
    if cp is None:
        raise Bad("checkpoint: missing")
    text, _ = parse_note(cp)
    origin, size, root = parse_checkpoint(text)
    rep.origin, rep.size = origin, size
    tree, raws = Tree(), []
    for k in range((size + TILE - 1) // TILE):
        w = min(TILE, size - k * TILE)
        p = tile_path("entries", k, w)
        data = files.get(p)
        if data is None:
            raise Bad(f"{p}: missing")
        bundle = decode_bundle(data)
        _need(len(bundle) == w, f"{p}: wrong number of entries")
        for raw in bundle:
            tree.append(leaf_hash(raw))
        raws.extend(bundle)
    _need(tree.root_at(size) == root, "Merkle root of the entries does not match the checkpoint")
    expected = {}
    for L in range(len(tree.levels)):
        n = size // TILE ** L
        for j in range((n + TILE - 1) // TILE):
            end = min(n, (j + 1) * TILE)
            expected[tile_path(L, j, end - j * TILE)] = b"".join(tree.levels[L][j * TILE:end])
    for p, want in expected.items():
        _need(files.get(p) == want, f"{p}: missing or does not match the entries")
    if vkey is None:
        g = parse_entry(raws[0], 0) if raws else None
        _need(g is not None and g["type"] == "genesis", "entry 0 is not a genesis entry")
        vkey = g["body"]["log_key"]
    name, alg, pub = parse_vkey(vkey)
    _need(alg == 1, "the log key must be an Ed25519 (0x01) key")
    open_note(cp, name, pub)
    for p in listing:
        if not p.startswith("tile/") or p in expected:
            continue
        t = parse_tile_path(p)
        if t is None:
            continue
        lvl, idx, w = t
        span = 1 if lvl == "entries" else TILE ** int(lvl)
        if (idx * TILE + w) * span > size:
            continue  # beyond the checkpoint: an unacknowledged torn write
        if lvl == "entries":
            ok = decode_bundle(files[p]) == raws[idx * TILE: idx * TILE + w]
        else:
            ok = files[p] == b"".join(tree.levels[int(lvl)][idx * TILE: idx * TILE + w])
        _need(ok, f"{p}: superseded partial tile does not match the log")

    # -- layer 2
    entries = [parse_entry(raw, i) for i, raw in enumerate(raws)]
    keys, depts, tasks, office, head, last = {}, set(), {}, None, ZERO, None
    log_name = log_pub = None
    for i, e in enumerate(entries):
        s, b, t = e["seq"], e["body"], e["type"]
        _need(s == i, f"entry {i}: expected seq {i}, got {s}")
        _need(e["prev"] == head, f"entry {s}: hash chain broken")
        _need((s == 0) == (t == "genesis"), f"entry {s}: genesis only at seq 0")
        msg = DOMAIN + origin.encode() + b"\n" + e["_msg"]

        def pol(m, s=s):
            rep.add("policy", s, m)

        if t == "genesis":
            _need(b["origin"] == origin, "entry 0: origin differs from the checkpoint's")
            gname, _, gpub = parse_vkey(b["log_key"])
            _need(e["signer"] == gname, "entry 0: not signed by the log key")
            _need(ed_verify(gpub, e["_sig"], msg), "entry 0: signature does not verify")
            if vkey != b["log_key"]:
                raise Bad("the genesis entry names another log key than the pinned one")
            office, depts, log_name, log_pub = b["office"], {d["id"] for d in b["departments"]}, gname, gpub
            for r in b["keys"]:
                keys.setdefault(r["name"], dict(r, pub=b64(r["public_key"], "key"), since=e["time"], until=None,
                                                status="active", compromised=None))
        else:
            if last is not None and e["time"] < last:
                pol(f"time {e['time']} is before the previous entry's time {last}")
            k = keys.get(e["signer"])
            if k is None:
                if e["signer"] == log_name:
                    _need(ed_verify(log_pub, e["_sig"], msg), f"entry {s}: signature by the log key does not verify")
                    pol(f"{t} signed by the log key, which may sign only the genesis entry")
                    head, last = e["_hash"], max(last or e["time"], e["time"])
                    continue
                raise Bad(f"entry {s}: signed by {e['signer']!r}, which is not a registered key")
            _need(ed_verify(k["pub"], e["_sig"], msg), f"entry {s}: signature by {e['signer']!r} does not verify")
            if k["role"] == "witness":
                pol("signed by a witness key")
            if e["time"] < k["since"]:
                pol("signed before the key was valid")
            if k["until"] is not None and e["time"] >= k["until"]:
                pol(f"signed by {k['name']!r}, {k['status']} at {k['until']}")
            if k["compromised"] is not None and e["time"] >= k["compromised"]:
                pol("signed by a key reported compromised")
            rule, roles = SIGNER[t], ("head", "operator")
            if rule == "root":
                if not (k["role"] == "root" and k["department"] == office):
                    pol(f"{t} must be signed by a root key of the office")
            else:
                want = None
                if rule == "office":
                    want = {office}
                elif rule in ("lead", "lead_or_office", "task_department"):
                    task = tasks.get(b["task"])
                    if task is None:
                        pol(f"{t} for task {b['task']!r}, which no published plan contains")
                    else:
                        want = {task[0]} | ({office} if rule == "lead_or_office" else set())
                        if rule == "task_department":
                            want = {task[0], *task[1]}
                            if "department" in b:
                                if b["department"] not in want:
                                    pol(f"{t}: department not in the task")
                                    want = None
                                else:
                                    want = {b["department"]}
                else:
                    want = {b["department"]}
                    if rule == "result_head":
                        roles = ("head",)
                if want is not None and not (k["department"] in want and k["role"] in roles):
                    pol(f"{t} signed by {k['name']!r} ({k['department']}, {k['role']}), not allowed")
            # body rules and state
            if t in ("key.register", "key.rotate"):
                r = b["key"]
                if r["name"] in keys or r["name"] == log_name:
                    pol(f"key name {r['name']!r} is already used")
                if r["role"] != "witness" and r["department"] not in depts:
                    pol(f"key {r['name']!r}: unknown department")
                if r["role"] == "root" and r["department"] != office:
                    pol("a root key must belong to the office")
            if t == "key.rotate":
                old = keys.get(b["old"])
                if old is None or old["status"] != "active":
                    pol("key.rotate: not an active key")
                elif (old["department"], old["role"]) != (b["key"]["department"], b["key"]["role"]):
                    pol("key.rotate: the new key must keep department and role")
                else:
                    old.update(status="rotated", until=e["time"])
            if t == "key.revoke":
                old = keys.get(b["name"])
                if old is None or old["status"] != "active":
                    pol("key.revoke: not an active key")
                elif old["role"] == "root":
                    pol("key.revoke: a root key is rotated, not revoked")
                    old.update(status="revoked", until=e["time"], compromised=b.get("compromised_since"))
                else:
                    old.update(status="revoked", until=e["time"], compromised=b.get("compromised_since"))
                if "compromised_since" in b and b["compromised_since"] > e["time"]:
                    pol("key.revoke: compromised_since is after the revocation")
            if t in ("key.register", "key.rotate"):
                r = b["key"]
                keys.setdefault(r["name"], dict(r, pub=b64(r["public_key"], "key"), since=e["time"], until=None,
                                                status="active", compromised=None))
            if t == "plan.publish":
                for x in b["tasks"]:
                    for d in (x["lead"], *x["participants"]):
                        if d not in depts:
                            pol(f"plan.publish: unknown department {d!r}")
                    tasks[x["id"]] = (x["lead"], list(x["participants"]))
            if t in ("result.publish", "result.correct", "draw.replace_inspector") and "department" in b:
                if b["department"] not in depts:
                    pol(f"{t}: unknown department")
        head = e["_hash"]
        last = e["time"] if last is None else max(last, e["time"])

    seen = set()
    for e in entries:
        for ref in blob_refs(e["body"]):
            if ref in seen:
                continue
            data = files.get("blob/sha256/" + ref[7:])
            if data is None and e["type"] == "draw.lock" and e["body"].get("outcome") == ref:
                continue  # a no-notice task's outcome may be withheld until its list reveal (checked below)
            seen.add(ref)
            _need(data is not None and hashlib.sha256(data).hexdigest() == ref[7:], f"blob {ref}: missing or damaged")
    for p in listing:
        m = re.fullmatch(r"blob/sha256/([0-9a-f]{64})", p)
        if m:
            _need(hashlib.sha256(files[p]).hexdigest() == m.group(1), f"{p}: content does not match its hash")

    witnesses = {n: k for n, k in keys.items() if k["role"] == "witness"}
    for e in entries:
        if e["type"] != "checkpoint.witness":
            continue
        wtext = e["body"]["checkpoint"].encode()
        wo, ws, wr = parse_checkpoint(wtext)
        _need(wo == origin and ws <= e["seq"] and tree.root_at(ws) == wr,
              f"entry {e['seq']}: cosigned checkpoint is not of this log")
        _, sigs = parse_note(wtext + b"\n" + "\n".join(e["body"]["cosignatures"]).encode() + b"\n")
        for n, kid, sig in sigs:
            k = witnesses.get(n)
            if k is None:
                rep.add("policy", e["seq"], f"{n!r} is not a registered witness key")
                continue
            _need(kid == key_id(n, b"\x04" + k["pub"]) and len(sig) == 72,
                  f"entry {e['seq']}: cosignature by {n!r} malformed")
            (ts,) = struct.unpack(">Q", sig[:8])
            cmsg = b"cosignature/v1\ntime %d\n" % ts + wtext
            _need(ed_verify(k["pub"], sig[8:], cmsg), f"entry {e['seq']}: cosignature by {n!r} does not verify")

    # -- layer 3: order rules (spec §13; docs/spec/draw.md §10)
    st = {}
    results = {}
    for e in entries:
        t, b, s = e["type"], e["body"], e["seq"]
        if t.startswith("draw."):
            d = st.setdefault(b["task"], {"state": "planned", "commit": None, "voided": [], "reveal": False})
            cur = d["state"]
            task = b["task"]
            if t == "draw.commit":
                if cur not in ("planned", "voided"):
                    rep.add("policy", s, f"task {task}: a second commitment while one is live")
                rt = _round_time(b)
                if rt is not None:
                    if e["time"] >= rt[1]:
                        rep.add("policy", s, f"task {task}: the commitment names a past drand round")
                    old = _round_time(d["voided"][-1]["body"]) if d["voided"] else None
                    if old is not None and rt[0] <= old[0]:
                        rep.add("policy", s, f"task {task}: after a void the new commitment must name a later round")
                d.update(state="committed", commit=e, reveal=False, lock=None)
            elif t == "draw.void":
                if cur != "committed":
                    rep.add("policy", s, f"task {task}: void in state {cur}")
                elif d["commit"] is not None:
                    d["voided"].append(d["commit"])
                d["state"] = "voided"
            elif t == "draw.randomness":
                if cur != "committed":
                    rep.add("policy", s, f"task {task}: randomness in state {cur}")
                elif d["commit"] is not None:
                    if e["time"] <= d["commit"]["time"]:
                        rep.add("policy", s, f"task {task}: randomness not after the commitment")
                    rt = _round_time(d["commit"]["body"])
                    if rt is not None and e["time"] < rt[1]:
                        rep.add("policy", s, f"task {task}: randomness before the drand round exists")
                d["state"] = "randomness"
            elif t == "draw.lock":
                if cur != "randomness":
                    rep.add("policy", s, f"task {task}: lock in state {cur}")
                d.update(state="locked", lock=e)
            elif t == "draw.dispatch":
                if cur != "locked":
                    rep.add("policy", s, f"task {task}: dispatch in state {cur}")
                else:
                    d["state"] = "dispatched"
            elif t == "draw.list_reveal":
                if cur not in ("locked", "dispatched"):
                    rep.add("policy", s, f"task {task}: list reveal in state {cur}")
                elif d["reveal"]:
                    rep.add("policy", s, f"task {task}: the list was already revealed")
                d["reveal"] = True
            elif cur not in ("locked", "dispatched"):
                rep.add("policy", s, f"task {task}: {t} before the lock")
        elif t in ("result.publish", "result.correct"):
            key = (b["task"], b["target"], b["department"])
            have = results.get(key)
            if t == "result.publish":
                if have is not None:
                    rep.add("policy", s, "result published again")
                if st.get(b["task"], {}).get("state") not in ("locked", "dispatched"):
                    rep.add("policy", s, f"result for task {b['task']} before its draw was locked")
                results[key] = max(have or 0, 1)
            else:
                if have is None:
                    rep.add("policy", s, "correction of a result that was never published")
                elif b["version"] != have + 1:
                    rep.add("policy", s, f"correction version: expected {have + 1}, got {b['version']}")
                results[key] = max(have or 0, b["version"])
    # a lock's outcome document is withheld only for a no-notice task, until its list reveal
    for task, d in st.items():
        lock = d.get("lock")
        if lock is None or not isinstance(lock["body"].get("outcome"), str):
            continue
        commit = d.get("commit")
        if commit is not None and commit["body"].get("notice") == "no_notice" and not d["reveal"]:
            continue
        ref = lock["body"]["outcome"]
        data = files.get("blob/sha256/" + ref[7:]) if ref.startswith("sha256:") else None
        _need(data is not None and hashlib.sha256(data).hexdigest() == ref[7:],
              f"task {task}: the lock's outcome document {ref} is not published")


def read_dir(path: str):
    files = {}
    for dirpath, dirs, names in os.walk(path):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for n in names:
            if not n.startswith("."):
                full = os.path.join(dirpath, n)
                with open(full, "rb") as f:
                    files[os.path.relpath(full, path).replace(os.sep, "/")] = f.read()
    return files


def verify_files(files: dict, vkey: str | None = None) -> Report:
    rep = Report()
    try:
        verify(files, sorted(files), vkey, rep)
    except Bad as exc:
        rep.add("integrity", None, str(exc))
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, struct.error) as exc:
        rep.add("integrity", None, f"malformed data: {type(exc).__name__}: {exc}")
    return rep


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Verify a Sunshine (阳光抽查) ledger directory (standalone).")
    ap.add_argument("dir", help="the ledger directory (checkpoint, tile/, blob/)")
    ap.add_argument("--vkey", help="pin the log's verifier key (name+hash+base64); default: the genesis entry's")
    ap.add_argument("--json", action="store_true", help="print a JSON report")
    args = ap.parse_args(argv)
    if not os.path.isfile(os.path.join(args.dir, "checkpoint")):
        print(f"error: {args.dir}: not a ledger directory (no checkpoint file)", file=sys.stderr)
        return 1
    rep = verify_files(read_dir(args.dir), args.vkey)
    verdict = {0: "ok", 3: "policy", 4: "integrity"}[rep.exit_code]
    if args.json:
        print(json.dumps({"verdict": verdict, "exit_code": rep.exit_code, "origin": rep.origin, "size": rep.size,
                          "findings": [{"kind": k, "seq": s, "message": m} for k, s, m in rep.findings]},
                         ensure_ascii=False, indent=2))
    else:
        print(f"ledger {rep.origin}: {rep.size} entries")
        for k, s, m in rep.findings:
            print(f"  {k}: " + (f"entry {s}: " if s is not None else "") + m)
        print({"ok": "OK: the ledger verifies (layers 1-2, order rules of layer 3)",
               "policy": "RULE FINDINGS: the ledger is authentic but breaks rules (exit 3)",
               "integrity": "INTEGRITY FAILURE: tampered or damaged (exit 4)"}[verdict])
    return rep.exit_code


if __name__ == "__main__":
    sys.exit(main())
