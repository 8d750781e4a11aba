"""Entry envelope, body schemas, and the ledger rules replayed by LedgerState."""

import base64
import json

import pytest

from sunshine import canonical
from sunshine.entries import (
    DOMAIN,
    ENTRY_TYPES,
    MAX_ENTRY_SIZE,
    LedgerState,
    blob_refs,
    build_entry,
    parse_entry,
    signed_message,
    verify_signature,
)
from sunshine.errors import FormatError, IntegrityError

from ledger_fixture import ORIGIN, genesis_body, identity, log_signer, make_identities

Z = "0" * 64


def genesis():
    ids = make_identities()
    log = log_signer()
    body = {**genesis_body(ids), "origin": ORIGIN, "log_key": log.verifier_key()}
    return ids, log, build_entry(ORIGIN, 0, Z, "2025-01-01T00:00:00Z", "genesis", body, log)


def test_envelope_is_canonical_and_signed_over_domain_and_origin():
    ids, log, g = genesis()
    obj = json.loads(g.raw)
    assert list(obj) == ["body", "prev", "seq", "sig", "signer", "time", "type", "v"]
    assert canonical.encode(obj) == g.raw
    unsigned = {k: v for k, v in obj.items() if k != "sig"}
    assert g.unsigned_bytes() == canonical.encode(unsigned)
    msg = DOMAIN + ORIGIN.encode() + b"\n" + canonical.encode(unsigned)
    assert signed_message(ORIGIN, g.unsigned_bytes()) == msg
    log.verifier().verify  # the log key signed it
    assert verify_signature(g, ORIGIN, log.public_key)
    assert not verify_signature(g, "other.example/log", log.public_key)  # origin is bound
    assert parse_entry(g.raw) == g


def test_every_listed_type_has_a_schema_and_a_label():
    assert {"genesis", "key.register", "key.rotate", "key.revoke", "items.publish", "plan.publish",
            "directory.snapshot", "draw.commit", "draw.randomness", "draw.lock", "draw.list_reveal",
            "draw.dispatch", "draw.replace_target", "draw.replace_inspector", "draw.void", "result.publish",
            "result.correct", "checkpoint.witness"} <= set(ENTRY_TYPES)
    assert all(t.label for t in ENTRY_TYPES.values())


def mutate(raw: bytes, **changes) -> bytes:
    obj = json.loads(raw)
    obj.update(changes)
    return canonical.encode(obj)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"prev": "ab" * 31}, "prev: expected 64 lowercase hex digits"),
        ({"prev": "AB" * 32}, "prev: expected 64 lowercase hex digits"),
        ({"seq": -1}, "seq: expected an integer >= 0"),
        ({"v": 2}, ".v: expected 1"),
        ({"time": "2025-01-01 00:00:00"}, "time: expected a time"),
        ({"time": "2025-02-30T00:00:00Z"}, "expected a real calendar time"),
        ({"type": "draw.redo"}, "type: expected one of"),
        ({"signer": "has space"}, "signer: expected a key name"),
        ({"sig": "AAAA"}, "sig: expected base64 of a 64-byte"),
        ({"body": []}, "body: expected an object"),
    ],
)
def test_bad_envelopes_are_named_precisely(change, message):
    _, _, g = genesis()
    with pytest.raises(FormatError, match=message.replace("(", r"\(")):
        parse_entry(mutate(g.raw, **change), "e")


def test_non_canonical_missing_extra_and_oversize():
    _, _, g = genesis()
    pretty = json.dumps(json.loads(g.raw), indent=1, ensure_ascii=False).encode()
    with pytest.raises(FormatError, match="non-canonical"):
        parse_entry(pretty)
    obj = json.loads(g.raw)
    del obj["sig"]
    with pytest.raises(FormatError, match="missing sig"):
        parse_entry(canonical.encode(obj))
    with pytest.raises(FormatError, match="unexpected extra"):
        parse_entry(mutate(g.raw, extra=1))
    with pytest.raises(FormatError, match="at most 16384 bytes"):
        parse_entry(b" " * (MAX_ENTRY_SIZE + 1))
    with pytest.raises(FormatError, match="invalid JSON"):
        parse_entry(b'{"body":')
    with pytest.raises(FormatError, match="expected a JSON object"):
        parse_entry(b"[]")
    big = {"task": "t", "blob": "x" * MAX_ENTRY_SIZE}
    ids = make_identities()
    with pytest.raises(FormatError, match="put large payloads in blobs|at most"):
        build_entry(ORIGIN, 1, Z, "2025-01-01T00:00:00Z", "draw.commit", big, ids["amr-op"])


@pytest.mark.parametrize(
    "type_, body, message",
    [
        ("key.register", {"key": {"name": "k"}}, r"body.key: expected member\(s\) 'department'"),
        ("key.register", {"key": {"name": "k", "department": "amr", "role": "god", "alg": "ed25519",
                                  "public_key": "AA=="}}, "body.key.role: expected one of"),
        ("key.register", {"key": {"name": "k", "department": "amr", "role": "head", "alg": "ed25519",
                                  "public_key": "AAAA"}}, "public_key: expected canonical base64 of 32 bytes"),
        ("items.publish", {"version": 0, "published": "2025-01-01", "items": "sha256:" + "0" * 64},
         "version: expected an integer >= 1"),
        ("items.publish", {"version": 1, "published": "2025-01-01", "items": "sha256:" + "0" * 63},
         "items: expected a blob reference"),
        ("plan.publish", {"year": 2025, "version": 1, "published": "2025-13-01", "tasks": []},
         "published: expected a real calendar date"),
        ("draw.lock", {"selected": []}, r"expected member\(s\) 'task'"),
        ("result.publish", {"task": "t", "target": "x", "department": "amr", "version": 2,
                            "inspection_end": "2025-01-01", "published": "2025-01-02"}, "result.correct"),
        ("result.correct", {"task": "t", "target": "x", "department": "amr", "version": 2,
                            "inspection_end": "2025-01-01", "published": "2025-01-02"}, "'reason'"),
        ("checkpoint.witness", {"checkpoint": "x", "cosignatures": []}, "at least one cosignature"),
    ],
)
def test_body_schemas(type_, body, message):
    ids = make_identities()
    with pytest.raises(FormatError, match=message):
        build_entry(ORIGIN, 1, Z, "2025-01-01T00:00:00Z", type_, body, ids["amr-root"])


def test_blob_refs_found_anywhere():
    ref = "sha256:" + "ab" * 32
    assert list(blob_refs({"a": [ref, {"b": ref}], "c": "sha256:short", "d": 1})) == [ref, ref]


class Chain:
    def __init__(self):
        self.ids, self.log, g = genesis()
        self.state = LedgerState(ORIGIN)
        assert self.state.apply(g) == []

    def next(self, type_, body, signer, time="2025-03-01T00:00:00Z"):
        return build_entry(ORIGIN, self.state.size, self.state.head, time, type_, body, signer)

    def add(self, type_, body, signer, time="2025-03-01T00:00:00Z"):
        return self.state.apply(self.next(type_, body, signer, time))


def test_chain_links_and_signatures_are_integrity_errors():
    c = Chain()
    e = c.next("key.register", {"key": c.ids["amr-op"].record()}, c.ids["amr-root"])
    bad_prev = parse_entry(mutate(e.raw, prev="1" * 64))
    with pytest.raises(IntegrityError, match="hash chain broken"):
        c.state.apply(bad_prev)
    with pytest.raises(IntegrityError, match="expected seq 1, got 5"):
        c.state.apply(parse_entry(mutate(e.raw, seq=5)))
    forged = parse_entry(mutate(e.raw, time="2025-03-02T00:00:00Z"))
    with pytest.raises(IntegrityError, match="does not verify"):
        c.state.apply(forged)
    stranger = identity("stranger", "amr", "root")
    with pytest.raises(IntegrityError, match="not a registered key"):
        c.add("key.register", {"key": c.ids["amr-op"].record()}, stranger)
    assert c.add("key.register", {"key": c.ids["amr-op"].record()}, c.ids["amr-root"]) == []


def test_signer_rules_and_key_lifecycle():
    c = Chain()
    root = c.ids["amr-root"]
    for n in ("amr-op", "amr-head", "health-op", "health-head"):
        assert c.add("key.register", {"key": c.ids[n].record()}, root, "2025-01-02T00:00:00Z") == []
    op, hop = c.ids["amr-op"], c.ids["health-op"]
    # only the root key manages keys
    [f] = c.add("key.register", {"key": identity("x", "amr", "operator").record()}, op)
    assert "must be signed by a key with role 'root'" in f.message
    # a key name is never reused
    [f] = c.add("key.register", {"key": c.ids["amr-op"].record()}, root)
    assert "already used" in f.message
    # a draw step needs a task from a published plan, signed by its lead department
    [f] = c.add("draw.commit", {"task": "2025-01"}, op)
    assert "no published plan" in f.message
    plan = {"year": 2025, "version": 1, "published": "2025-02-28",
            "tasks": [{"id": "2025-01", "lead": "amr", "participants": ["health"]}]}
    [f] = c.add("plan.publish", plan, hop)
    assert "office" in f.message
    assert c.add("plan.publish", plan, op) == []
    [f] = c.add("draw.commit", {"task": "2025-01"}, hop)
    assert "lead department" in f.message and "(amr)" in f.message
    assert c.add("draw.commit", {"task": "2025-01"}, op) == []
    # each department replaces its own inspectors
    assert c.add("draw.replace_inspector", {"task": "2025-01", "department": "health"}, hop) == []
    [f] = c.add("draw.replace_inspector", {"task": "2025-01", "department": "health"}, op)
    assert "(health)" in f.message
    # results by their department; corrections only by its head
    res = {"task": "2025-01", "target": "X", "department": "health", "version": 1,
           "inspection_end": "2025-05-30", "published": "2025-06-02"}
    assert c.add("result.publish", res, hop) == []
    [f] = c.add("result.publish", res, op)
    assert "department named in the body" in f.message
    corr = {**res, "version": 2, "reason": "更正"}
    [f] = c.add("result.correct", corr, hop)
    assert "'head' key" in f.message
    assert c.add("result.correct", corr, c.ids["health-head"]) == []
    # time never goes backwards
    [f] = c.add("draw.dispatch", {"task": "2025-01"}, op, "2025-02-01T00:00:00Z")
    assert "before the previous entry's time" in f.message
    # rotation: the old key stops at the rotation time, the new one starts
    new_op = identity("amr-op-2", "amr", "operator")
    assert c.add("key.rotate", {"old": "amr-op", "key": new_op.record()}, root, "2025-07-01T00:00:00Z") == []
    [f] = c.add("draw.dispatch", {"task": "2025-01"}, op, "2025-07-02T00:00:00Z")
    assert "rotated at 2025-07-01T00:00:00Z" in f.message
    assert c.add("draw.dispatch", {"task": "2025-01"}, new_op, "2025-07-02T00:00:00Z") == []
    bad_rotate = {"old": "amr-op-2", "key": identity("amr-op-3", "amr", "head").record()}
    [f] = c.add("key.rotate", bad_rotate, root, "2025-07-03T00:00:00Z")
    assert "keep department 'amr' and role 'operator'" in f.message
    # revocation
    assert c.add("key.revoke", {"name": "health-op", "reason": "离职"}, root, "2025-08-01T00:00:00Z") == []
    [f] = c.add("draw.replace_inspector", {"task": "2025-01", "department": "health"}, hop, "2025-08-02T00:00:00Z")
    assert "revoked" in f.message
    [f] = c.add("key.revoke", {"name": "amr-root", "reason": "x"}, root, "2025-08-03T00:00:00Z")
    assert "rotate" in f.message
    summary = c.state.keys_summary()
    by_name = {k["name"]: k for k in summary["keys"]}
    assert by_name["amr-op"]["status"] == "rotated" and by_name["amr-op"]["replaced_by"] == "amr-op-2"
    assert by_name["health-op"]["status"] == "revoked" and by_name["health-op"]["revocation_reason"] == "离职"
    assert base64.b64decode(by_name["amr-op-2"]["public_key"]) == new_op.public_key_bytes


def test_genesis_rules():
    ids, log, g = genesis()
    st = LedgerState("other.example/log")
    with pytest.raises(IntegrityError, match="expected origin"):
        st.apply(g)
    body = json.loads(g.raw)["body"]
    body["keys"] = [ids["amr-op"].record()]
    with pytest.raises(FormatError, match="role 'root' of the office"):
        build_entry(ORIGIN, 0, Z, "2025-01-01T00:00:00Z", "genesis", body, log)
    body = json.loads(g.raw)["body"]
    not_log = build_entry(ORIGIN, 0, Z, "2025-01-01T00:00:00Z", "genesis", body, ids["amr-root"])
    with pytest.raises(IntegrityError, match="expected signer"):
        LedgerState(ORIGIN).apply(not_log)
    c = Chain()
    with pytest.raises(IntegrityError, match="expected no genesis entry"):
        c.state.apply(build_entry(ORIGIN, 1, c.state.head, "2025-01-01T00:00:00Z", "genesis", body, log))


# ---------------------------------------------------------------------------- the fast canonical path

from hypothesis import given, settings, strategies as st  # noqa: E402

from sunshine.entries import decode_canonical  # noqa: E402

_json = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**53) - 5, max_value=2**53 + 5)
    | st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x1F6FF)),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4),
    max_leaves=12,
)


def _both(data: bytes):
    try:
        want = ("ok", canonical.decode(data))
    except FormatError as exc:
        want = ("error", exc.message)
    try:
        got = ("ok", decode_canonical(data))
    except FormatError as exc:
        got = ("error", exc.message)
    return want, got


@settings(max_examples=150, deadline=None)
@given(_json, st.integers(min_value=0, max_value=5))
def test_fast_path_agrees_with_canonical_decode(value, how):
    import json as _j
    try:
        data = canonical.encode(value)
    except FormatError:  # out-of-range integers, lone surrogates: feed the plain JSON instead
        data = _j.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")
    variants = [
        data,
        _j.dumps(value, ensure_ascii=False, sort_keys=False).encode("utf-8", "surrogatepass"),
        _j.dumps(value, ensure_ascii=True, separators=(",", ":"), sort_keys=True).encode(),
        data.replace(b":", b": ", 1),
        data + b" ",
        data.replace(b"1", b"1.0", 1),
    ]
    want, got = _both(variants[how])
    assert want == got


def test_fast_path_edge_cases():
    for data in (b'{"a":1,"a":1}', b'{"b":1,"a":2}', b'{"\\ud83d":1}', b'[1e2]', b'[NaN]', b'[-0]',
                 b'[9007199254740993]', '{"😀":1,"\uffff":2}'.encode(), '{"\uffff":2,"😀":1}'.encode(),
                 b'"\\u001F"', b'"\\u001f"', b'"\\/"', b"\xef\xbb\xbf{}", b'{"a":[]}'):
        want, got = _both(data)
        assert want == got, data


# ---------------------------------------------------------------------------- the fast envelope path
# parse_entry_fields reads a canonical entry as '{"body":' + body + a tail matched by one pattern, and
# takes the member-by-member path for anything else; both must give the same fields or the same error.

from sunshine.entries import _parse_fields_strictly, parse_entry_fields  # noqa: E402


def _fields_or_error(fn, data: bytes):
    try:
        return ("ok", fn(data, "entry 7"))
    except FormatError as exc:
        return ("error", exc.message)


def _agree(data: bytes) -> None:
    assert _fields_or_error(parse_entry_fields, data) == _fields_or_error(_parse_fields_strictly, data), data


def _result_entry() -> bytes:
    c = Chain()
    body = {"task": "2025-001", "target": "91379900MA00000001", "department": "amr", "version": 1,
            "inspection_end": "2025-05-30", "published": "2025-06-10",
            "items": [{"item": "AMR-03", "codes": ["no_issue"]}]}
    return build_entry(ORIGIN, 5, c.state.head, "2025-06-10T01:00:00Z", "result.publish", body, c.ids["amr-op"]).raw


def test_fast_envelope_path_targeted_cases(monkeypatch):
    raw = _result_entry()
    _agree(raw)
    with monkeypatch.context() as m:  # a valid entry takes the fast path (else the comparisons show nothing)
        m.setattr("sunshine.entries._parse_fields_strictly", lambda *a: pytest.fail("took the slow path"))
        assert parse_entry_fields(raw)[3] == "result.publish"
    i = raw.index(b'"sig":"') + 7
    for c in b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/":  # the last digit carries 2 bits
        _agree(raw[:i + 85] + bytes([c]) + raw[i + 86:])
    t = raw.index(b'"time":"') + 8
    for when in (b"2025-02-29T00:00:00", b"2024-02-29T23:59:59", b"2025-06-10T24:00:00", b"2025-06-10T23:60:00",
                 b"2025-06-10T23:59:60", b"2025-13-10T01:00:00", b"2025-06-31T01:00:00", b"0000-01-01T00:00:00"):
        _agree(raw[:t] + when + raw[t + 19:])
    for old, new in ((b'"seq":5', b'"seq":9007199254740992'), (b'"seq":5', b'"seq":05'), (b'"seq":5', b'"seq":-5'),
                     (b'"v":1', b'"v":2'), (b'"v":1', b'"v":true'), (b'"type":"result.publish"', b'"type":"result.x"'),
                     (b'"signer":"amr-op"', b'"signer":"amr op"'), (b'"signer":"amr-op"', b'"signer":"\\u0061mr-op"'),
                     (b'"version":1', b'"version":2'), (b'"version":1', b'"version":1.0'),
                     (b'"inspection_end":"2025-05-30"', b'"inspection_end":"2025-02-30"'),
                     (b'{"body":{', b'{"body":{"a":1,'), (b'{"body":{', b'{"body":{"z":1,'),
                     (b'{"body":{', b'{"body": {'), (b',"prev":"', b', "prev":"'),
                     (b'"task":"2025-001"', b'"task":"2025-001","task":"2025-001"'),
                     (b'"target":"91379900MA00000001"', b'"target":"\xf0\x9f\x98\x80"'),
                     (b'"target":"91379900MA00000001"', b'"target":"\xed\xa0\x80"'),
                     (b'"target":"91379900MA00000001"', b'"target":"\\ud800"'),
                     (b'"target":"91379900MA00000001"', b'"target":"a,\\"prev\\":\\""')):
        assert old in raw
        _agree(raw.replace(old, new, 1))
    _agree(raw + b" ")
    _agree(b" " + raw)
    _agree(raw[:-1])
    _agree(b'{"body":[],' + raw[raw.index(b'"prev"'):])
    _agree(b'{"body":{}' + raw[raw.index(b',"prev"'):])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(min_value=0, max_value=10_000), st.sampled_from(["set", "insert", "delete"]),
                          st.sampled_from(list(b'{}[],:"\\ 0129aAzZ-.T\x00\x7f') + [0xc3, 0xe4, 0xf0, 0xed])),
                min_size=1, max_size=3))
def test_fast_envelope_path_agrees_on_mutations(edits):
    data = bytearray(_result_entry())
    for pos, how, byte in edits:
        pos %= len(data) + (how == "insert")
        if how == "set" and pos < len(data):
            data[pos] = byte
        elif how == "insert":
            data.insert(pos, byte)
        elif how == "delete" and pos < len(data) and len(data) > 1:
            del data[pos]
    _agree(bytes(data))


def test_dates_times_and_names_are_ascii_without_a_trailing_newline():
    # '$' let a trailing newline through and '\d' any Unicode digit: a signed result whose inspection_end
    # was "2025-05-30\n" or "٢٠٢٥-05-30" passed parse_entry and then crashed layer 3 (date.fromisoformat).
    from sunshine.entries import _date, parse_time

    for bad in ("2025-05-30\n", "٢٠٢٥-05-30", "2025-05-3\u0660"):
        with pytest.raises(FormatError, match="expected a date"):
            _date(bad, "d")
    for bad in ("2025-05-30T00:00:00Z\n", "٢٠٢٥-05-30T00:00:00Z"):
        with pytest.raises(FormatError, match="expected a time"):
            parse_time(bad, "t")
    raw = _result_entry()
    for old, new, message in (
            (b'"inspection_end":"2025-05-30"', b'"inspection_end":"2025-05-30\\n"', "inspection_end: expected a date"),
            (b'"inspection_end":"2025-05-30"', '"inspection_end":"٢٠٢٥-05-30"'.encode(), "inspection_end: expected a date"),
            (b'"task":"2025-001"', b'"task":"2025-001\\n"', "task: expected a task id"),
            (b'"time":"2025-06-10T01:00:00Z"', b'"time":"2025-06-10T01:00:00Z\\n"', "time: expected a time"),
            (b'"signer":"amr-op"', b'"signer":"amr-op\\n"', "signer: expected a key name")):
        data = raw.replace(old, new, 1)
        _agree(data)
        with pytest.raises(FormatError, match=message):
            parse_entry(data)
