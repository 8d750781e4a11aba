"""Tests for sunshine.note (C2SP signed-note, Ed25519, tlog-cosignature v1).

Interop vectors are read straight from copies of their published sources (see the READMEs):
- tests/vectors/interop/go-sumdb/note_note_test.go  (golang.org/x/mod sumdb/note/note_test.go)
- tests/vectors/interop/c2sp/signed-note.md, tlog-cosignature.md, tlog-checkpoint.md (C2SP specs)
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from sunshine import note
from sunshine.errors import FormatError, IntegrityError, SunshineError

INTEROP = Path(__file__).parent / "vectors" / "interop"
GO = (INTEROP / "go-sumdb" / "note_note_test.go").read_text()
C2SP_NOTE = (INTEROP / "c2sp" / "signed-note.md").read_text()
C2SP_COSIG = (INTEROP / "c2sp" / "tlog-cosignature.md").read_text()


def _go_string(var: str) -> str:
    """The first Go string literal assigned to ``var`` (`:=` or `=`), "..." or `...`."""
    m = re.search(rf'\b{var}\s*:?=\s*("(?:[^"\\]|\\.)*"|`[^`]*`)', GO)
    assert m, var
    lit = m.group(1)
    if lit.startswith("`"):
        return lit[1:-1]
    return lit[1:-1].encode().decode("unicode_escape").encode("latin-1").decode("utf-8")


PETER_VKEY = _go_string("vkey")  # TestNewVerifier
PETER_SKEY = _go_string("skey")  # TestNewSigner
ENOCH_VKEY = _go_string("enochKey")  # TestVerifierList
PETER_SIGNED = _go_string("want").encode()  # TestSign
TEXT = PETER_SIGNED.split(b"\n\n")[0] + b"\n"
PETER_SIG = _go_string("peterSig").encode()  # TestOpen
ENOCH_SIG = _go_string("enochSig").encode()


def test_go_vectors_extracted() -> None:
    assert PETER_VKEY == "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
    assert PETER_SKEY.startswith("PRIVATE+KEY+PeterNeumann+c74f20a3+")
    assert ENOCH_VKEY.startswith("EnochRoot+af0cfe78+")
    assert TEXT.startswith(b"If you think cryptography") and TEXT.count(b"\n") == 2
    assert PETER_SIG.startswith("— PeterNeumann ".encode()) and ENOCH_SIG.endswith(b"=\n")


# --- Go sumdb/note vectors ------------------------------------------------------------------------


def test_go_verifier_key() -> None:
    v = note.parse_verifier_key(PETER_VKEY)
    assert v.name == "PeterNeumann"
    assert v.key_id == bytes.fromhex("c74f20a3")
    assert v.alg == note.ALG_ED25519
    assert v.vkey == PETER_VKEY
    assert note.format_verifier_key("PeterNeumann", v.public_key) == PETER_VKEY


def test_go_verifier_key_manglings_rejected() -> None:
    # TestNewVerifier: every proper substring and every single-byte increment is rejected.
    b = PETER_VKEY.encode()
    for i in range(len(b) + 1):
        for j in range(i + 1, len(b) + 1):
            if (i, j) != (0, len(b)):
                with pytest.raises(FormatError):
                    note.parse_verifier_key(b[i:j].decode("utf-8", "replace"))
    for i in range(len(b)):
        mangled = bytearray(b)
        mangled[i] += 1
        with pytest.raises(FormatError):
            note.parse_verifier_key(mangled.decode("utf-8", "replace"))
    # Wrong-length key and unknown algorithm, both with adjusted key hash (from TestNewVerifier).
    m = re.findall(r'badKey\("(PeterNeumann\+[0-9a-f]{8}\+[^"]+)"\)', GO)
    assert len(m) == 2
    # "…BADKEY==" is also non-canonical base64 (its padding bits are not zero), which we reject first.
    with pytest.raises(FormatError, match="verifier key: expected canonical base64"):
        note.parse_verifier_key(m[0])
    with pytest.raises(FormatError, match="expected a 32-byte Ed25519 key, got 36 bytes"):
        note.parse_verifier_key(m[0].replace("BADKEY==", "BADKEQ=="))
    with pytest.raises(FormatError, match="got 0x65"):
        note.parse_verifier_key(m[1])


def test_go_signer_key_and_sign() -> None:
    signer = note.parse_signer_key(PETER_SKEY)
    assert signer.name == "PeterNeumann" and signer.key_id == bytes.fromhex("c74f20a3")
    assert signer.verifier_key() == PETER_VKEY
    assert note.sign_note(TEXT, signer) == PETER_SIGNED  # TestSign's exact output
    assert note.format_signer_key("PeterNeumann", signer._key) == PETER_SKEY
    b = PETER_SKEY.encode()
    for i in range(len(b)):
        mangled = bytearray(b)
        mangled[i] += 1
        with pytest.raises(FormatError):
            note.parse_signer_key(mangled.decode("utf-8", "replace"))


def test_go_open() -> None:
    peter = note.parse_verifier_key(PETER_VKEY)
    enoch = note.parse_verifier_key(ENOCH_VKEY)
    msg = TEXT + b"\n" + PETER_SIG + ENOCH_SIG
    n = note.open_note(msg, [peter])
    assert n.text == TEXT
    assert [(s.name, s.key_id.hex()) for s in n.signatures] == [("PeterNeumann", "c74f20a3")]
    assert [(s.name, s.key_id.hex()) for s in n.unverified] == [("EnochRoot", "af0cfe78")]
    n = note.open_note(msg, [peter, enoch])
    assert [s.name for s in n.signatures] == ["PeterNeumann", "EnochRoot"] and n.unverified == ()
    with pytest.raises(IntegrityError, match="note has no verifiable signatures"):
        note.open_note(msg, [])
    with pytest.raises(FormatError, match="ambiguous key EnochRoot\\+af0cfe78"):
        note.open_note(TEXT + b"\n" + ENOCH_SIG, [enoch, peter, enoch])
    assert note.open_note(TEXT + b"\n" + PETER_SIG, [enoch, peter, enoch]).signatures[0].name == "PeterNeumann"
    with pytest.raises(FormatError, match="expected at most 100 signatures, got 101"):
        note.open_note(TEXT + b"\n" + PETER_SIG * 101, [peter])
    # Invalid signature: "ABCD" spliced into the base64 at byte 60.
    with pytest.raises(IntegrityError, match="invalid signature for key PeterNeumann\\+c74f20a3"):
        note.open_note(TEXT + b"\n" + PETER_SIG[:60] + b"ABCD" + PETER_SIG[60:], [peter])
    # Duplicated verified and unverified signatures are dropped.
    bad_enoch = ENOCH_SIG[:60] + b"ABCD" + ENOCH_SIG[60:]
    n = note.open_note(TEXT + b"\n" + PETER_SIG + PETER_SIG + ENOCH_SIG + ENOCH_SIG + bad_enoch, [peter])
    assert len(n.signatures) == 1 and len(n.unverified) == 2
    assert n.unverified[1].base64 == bad_enoch.decode().split()[-1]


@pytest.mark.parametrize(
    "bad",
    [
        TEXT,
        TEXT + b"\n",
        TEXT + b"\n" + PETER_SIG[:-1],
        b"\x01" + TEXT + b"\n" + PETER_SIG,
        b"\xff" + TEXT + b"\n" + PETER_SIG,
        TEXT + b"\n" + "— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=".encode(),
        TEXT + b"\n" + PETER_SIG + b"Unexpected line.\n",
    ],
)
def test_go_bad_messages(bad: bytes) -> None:
    # TestOpen's badMsgs, all "malformed note".
    with pytest.raises(FormatError):
        note.open_note(bad, [note.parse_verifier_key(PETER_VKEY)])


def test_go_wrong_key_hash_is_unknown_key() -> None:
    peter = note.parse_verifier_key(PETER_VKEY)
    wrong = PETER_SIG.replace(b"x08g", b"xxxx")
    with pytest.raises(IntegrityError, match="no verifiable signatures"):
        note.open_note(TEXT + b"\n" + wrong, [peter])


# --- C2SP signed-note example -------------------------------------------------------------------------


def test_c2sp_signed_note_example() -> None:
    section = C2SP_NOTE[C2SP_NOTE.index("### Example") :]
    vkey = re.search(r"^    (\S+\+[0-9a-f]{8}\+\S+)$", section, re.M).group(1)
    signed = re.search(r"```\n(.*?)```", section, re.S).group(1).encode()
    assert vkey.startswith("example.com/foo+530d903a+")
    n = note.open_note(signed, [note.parse_verifier_key(vkey)])
    assert n.text == b"This is an example message.\n"
    assert note.format_note(n.text, n.signatures) == signed
    tampered = signed.replace(b"example message", b"example massage")
    with pytest.raises(IntegrityError, match="invalid signature for key example.com/foo\\+530d903a"):
        note.open_note(tampered, [note.parse_verifier_key(vkey)])


def test_c2sp_signed_note_intro_example_parses() -> None:
    signed = re.search(r"```\n(Ognuno.*?)```", C2SP_NOTE, re.S).group(1).encode()
    n = note.parse_note(signed)
    assert n.text.endswith("ed è subito sera.\n".encode())
    assert b"\n\n" in n.text  # the text has an empty line; the last one separates the signatures
    assert [s.name for s in n.signatures] == ["quasimodo.example/salvatore"]
    assert note.format_note(n.text, n.signatures) == signed


def test_c2sp_cosignature_example() -> None:
    # The checkpoint with a log signature and a witness cosignature from c2sp.org/tlog-cosignature,
    # and the signed message shown there ("time 1679315147"): the cosignature encodes that timestamp.
    signed = re.search(r"```\n(example\.com/behind-the-sofa.*?)```", C2SP_COSIG, re.S).group(1).encode()
    message = re.search(r"\n    (cosignature/v1\n(?:    .*\n)+)", C2SP_COSIG).group(1)
    message_bytes = re.sub(r"^    ", "", message, flags=re.M).encode()
    n = note.parse_note(signed)
    witness = n.signatures[1]
    assert witness.name == "witness.example.com/w1"
    assert len(witness.sig) == 72
    (timestamp,) = struct.unpack(">Q", witness.sig[:8])
    assert note.cosignature_message(n.text, timestamp) == message_bytes
    assert timestamp == 1679315147


# --- our keys: round trips, cosignatures ---------------------------------------------------------------

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
WKEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32, 64)))


def test_key_id_formula() -> None:
    import hashlib

    pub = KEY.public_key().public_bytes_raw()
    assert note.key_id("log.example/a", b"\x01" + pub) == hashlib.sha256(b"log.example/a\n\x01" + pub).digest()[:4]
    assert note.new_ed25519_signer("log.example/a", KEY).key_id != note.new_cosignature_signer("log.example/a", KEY).key_id


def test_sign_and_open_round_trip() -> None:
    s = note.new_ed25519_signer("sunshine.example/log", KEY)
    v = note.parse_verifier_key(note.format_verifier_key("sunshine.example/log", KEY.public_key()))
    assert v == s.verifier() and hash(v) == hash(s.verifier())
    signed = note.sign_note("阳光\n\nline\n".encode(), s)
    n = note.open_note(signed, [v])
    assert n.text == "阳光\n\nline\n".encode()
    assert note.parse_signer_key(note.format_signer_key(s.name, KEY)).key_id == s.key_id


def test_cosign_and_verify() -> None:
    log = note.new_ed25519_signer("sunshine.example/log", KEY)
    w = note.new_cosignature_signer("witness.example/w1", WKEY)
    wv = note.parse_verifier_key(w.verifier_key())
    assert wv.alg == note.ALG_COSIGNATURE_V1 and wv.vkey.split("+")[2].startswith("B")  # 0x04 → "B…"
    text = b"sunshine.example/log\n3\n" + b"A" * 43 + b"=\n"
    cosig = note.cosign(text, w, 1700000000)
    assert note.verify_cosignature(text, cosig, wv) == 1700000000
    signed = note.format_note(text, [note.parse_note(note.sign_note(text, log)).signatures[0], cosig])
    n = note.open_note(signed, [log.verifier(), wv])
    assert [s.name for s in n.signatures] == ["sunshine.example/log", "witness.example/w1"]
    # The same bytes under another timestamp do not verify.
    forged = note.Signature(cosig.name, cosig.key_id, struct.pack(">Q", 1700000001) + cosig.sig[8:])
    with pytest.raises(IntegrityError, match="invalid cosignature by witness.example/w1\\+[0-9a-f]{8} at time 1700000001"):
        note.verify_cosignature(text, forged, wv)
    with pytest.raises(IntegrityError, match="invalid signature for key witness.example/w1"):
        note.open_note(note.format_note(text, [forged]), [wv])
    with pytest.raises(FormatError, match="expected an integer in \\[0, 2\\*\\*63\\), got 9223372036854775808"):
        note.cosign(text, w, 2**63)
    with pytest.raises(FormatError, match="is a cosigner; use cosign"):
        note.sign_note(text, w)
    with pytest.raises(FormatError, match="expected a cosignature signer"):
        note.cosign(text, log, 1)
    big = note.Signature(cosig.name, cosig.key_id, b"\xff" * 8 + cosig.sig[8:])
    with pytest.raises(FormatError, match="expected a timestamp < 2\\*\\*63"):
        note.verify_cosignature(text, big, wv)
    with pytest.raises(FormatError, match="expected key witness.example/w1"):
        note.verify_cosignature(text, note.Signature("other", cosig.key_id, cosig.sig), wv)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"text\n\n\xe2\x80\x94 name AAAAAAB=\n", "line 3, signature by 'name': expected canonical base64 'AAAAAAA=', got 'AAAAAAB='"),
        (b"text\n\n\xe2\x80\x94 name AAAAAAA\n", "expected standard padded base64"),
        (b"text\n\n- name AAAAAAAA\n", "line 3: expected a signature line starting with '— '"),
        (b"text\n\n\xe2\x80\x94 nam+e AAAAAAAA\n", "expected a non-empty key name without spaces or '\\+', got 'nam\\+e'"),
        (b"text\n\n\xe2\x80\x94 name AAAA\n", r"expected a key ID and a signature \(≥ 5 bytes\), got 3 bytes"),
        (b"text\n\n\xe2\x80\x94 nameAAAAAAAA\n", "expected '— <key name> <base64 signature>'"),
        (b"a\tb\n\n\xe2\x80\x94 name AAAAAAAA\n", "line 1: expected no control characters except newline, got U\\+0009"),
        (b"text\n\n", "expected at least one signature line"),
        (b"text\n", "expected an empty line before the signatures"),
    ],
)
def test_parse_note_errors(data: bytes, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        note.parse_note(data)


def test_vkey_errors() -> None:
    v = note.new_verifier("a.example", KEY.public_key())
    name, kid, b64 = v.vkey.split("+", 2)
    with pytest.raises(FormatError, match=f"key ID does not match the key: expected {kid}, got 00000000"):
        note.parse_verifier_key(f"{name}+00000000+{b64}")
    with pytest.raises(FormatError, match="expected the key ID as 8 lowercase hex digits, got '" + kid.upper()):
        note.parse_verifier_key(f"{name}+{kid.upper()}+{b64}")
    with pytest.raises(FormatError, match="expected canonical base64"):
        note.parse_verifier_key(f"{name}+{kid}+{b64[:-2]}B=" if b64[-2] != "B" else f"{name}+{kid}+{b64[:-2]}C=")
    with pytest.raises(FormatError, match="expected <name>\\+<hex key ID>\\+<base64 key>, got 'a.example'"):
        note.parse_verifier_key("a.example")
    with pytest.raises(FormatError, match="expected standard padded base64"):
        note.parse_verifier_key(v.vkey + "+x")
    with pytest.raises(FormatError, match="expected a string starting with 'PRIVATE\\+KEY\\+'"):
        note.parse_signer_key(v.vkey)
    with pytest.raises(FormatError, match="signer name"):
        note.new_ed25519_signer("has space", KEY)


def test_format_note_errors() -> None:
    sig = note.Signature("n", b"\x00\x00\x00\x00", b"x")
    with pytest.raises(FormatError, match="expected text ending in a newline"):
        note.format_note(b"no newline", [sig])
    with pytest.raises(FormatError, match="expected at least one signature, got none"):
        note.format_note(b"t\n", [])
    with pytest.raises(FormatError, match="expected a 4-byte key ID"):
        note.format_note(b"t\n", [note.Signature("n", b"\x00", b"x")])


# --- properties -------------------------------------------------------------------------------------------

_line = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=30)


@settings(max_examples=100, deadline=None)
@given(st.lists(_line, min_size=1, max_size=6), st.integers(0, 2**63 - 1))
def test_round_trip_and_tamper(lines: list[str], ts: int) -> None:
    text = ("\n".join(lines) + "\n").encode()
    s = note.new_ed25519_signer("log.example", KEY)
    w = note.new_cosignature_signer("w.example", WKEY)
    signed = note.format_note(text, [*note.parse_note(note.sign_note(text, s)).signatures, note.cosign(text, w, ts)])
    parsed = note.parse_note(signed)
    assert parsed.text == text and note.format_note(parsed.text, parsed.signatures) == signed
    assert len(note.open_note(signed, [s.verifier(), w.verifier()]).signatures) == 2
    tampered = signed.replace(b"\n", b"\n ", 1) if text.count(b"\n") > 0 else signed
    with pytest.raises(SunshineError):
        note.open_note(tampered, [s.verifier(), w.verifier()])


# --- transparency-dev/formats cosignature vectors ---------------------------------------------------------

TD = (INTEROP / "transparency-dev-formats" / "note_cosigv1_test.go").read_text()


def test_transparency_dev_cosignature_vkeys() -> None:
    block = TD[TD.index("func TestCoSigV1NewVerifier") : TD.index("func TestCoSigV1Timestamp")]
    material = re.search(r'sigStoreKeyMaterial\s*=\s*"([^"]+)"', TD)
    cases = re.findall(r'pubK:\s*("[^"]*"(?:\s*\+\s*sigStoreKeyMaterial)?),\s*(wantErr:\s*true)?', block)
    assert len(cases) == 8
    remora = note.parse_verifier_key("remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2")
    assert remora.alg == note.ALG_COSIGNATURE_V1 and remora.key_id.hex() == "da77ade7"
    for literal, want_err in cases:
        vkey = re.match(r'"([^"]*)"', literal).group(1)
        if "sigStoreKeyMaterial" in literal:
            if material is None:  # defined in another file of that package; the prefix alone is malformed
                with pytest.raises(FormatError):
                    note.parse_verifier_key(vkey)
                continue
            vkey += material.group(1)
        if want_err or vkey.startswith("test+5893dc2c+"):  # ML-DSA-44 (type 0x06): not supported here
            with pytest.raises(FormatError):
                note.parse_verifier_key(vkey)
        else:
            v = note.parse_verifier_key(vkey)
            assert v.vkey == vkey


def test_transparency_dev_cosignature_timestamp() -> None:
    block = TD[TD.index("func TestCoSigV1Timestamp") :]
    b64 = re.search(r'"works",\s*sig:\s*note\.Signature\{Base64: "([^"]+)"\}', block).group(1)
    want = int(re.search(r"wantTime: time\.Unix\((\d+), 0\)", block).group(1))
    line = f"— witness.example {b64}\n".encode()
    sig = note.parse_note(b"x\n\n" + line).signatures[0]
    assert len(sig.sig) == 72
    assert struct.unpack(">Q", sig.sig[:8])[0] == want == 1727964367
