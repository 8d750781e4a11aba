"""Tests for sunshine.checkpoint (C2SP tlog-checkpoint).

Interop vectors: the C2SP tlog-checkpoint and tlog-cosignature examples
(tests/vectors/interop/c2sp/) and Go's sumdb/tlog TestFormatTree/TestParseTree golden tree note
(tests/vectors/interop/go-sumdb/tlog_note_test.go). Values are extracted from those copies.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from sunshine import merkle, note
from sunshine.checkpoint import Checkpoint, cosignature_times, format_checkpoint, open_checkpoint, parse_checkpoint
from sunshine.errors import FormatError, IntegrityError

INTEROP = Path(__file__).parent / "vectors" / "interop"
C2SP_CP = (INTEROP / "c2sp" / "tlog-checkpoint.md").read_text()
C2SP_COSIG = (INTEROP / "c2sp" / "tlog-cosignature.md").read_text()
GO_TLOG_NOTE = (INTEROP / "go-sumdb" / "tlog_note_test.go").read_text()


def _fenced(doc: str, start: str) -> bytes:
    return re.search(rf"```\n({re.escape(start)}.*?)```", doc, re.S).group(1).encode()


def test_c2sp_checkpoint_example() -> None:
    signed = _fenced(C2SP_CP, "example.com/behind-the-sofa")
    n = note.parse_note(signed)
    cp = parse_checkpoint(n.text)
    assert cp.origin == "example.com/behind-the-sofa"
    assert cp.size == 20852163
    assert cp.root_hash == base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
    assert cp.extensions == ()
    assert format_checkpoint(cp) == n.text
    assert n.signatures[0].name == cp.origin  # the log's key name matches the origin


def test_c2sp_cosignature_example_checkpoint_is_the_same() -> None:
    signed = _fenced(C2SP_COSIG, "example.com/behind-the-sofa")
    n = note.parse_note(signed)
    assert parse_checkpoint(n.text) == parse_checkpoint(note.parse_note(_fenced(C2SP_CP, "example.com/")).text)
    assert len(n.signatures) == 2


def test_go_sumdb_tree_note() -> None:
    # TestFormatTree: FormatTree(Tree{123456789012, RecordHash("hello world")}) == golden.
    golden = re.search(r'golden := "(go\.sum database tree\\n\d+\\n[A-Za-z0-9+/=]+\\n)"', GO_TLOG_NOTE).group(1)
    golden_bytes = golden.replace("\\n", "\n").encode()
    cp = Checkpoint("go.sum database tree", 123456789012, merkle.leaf_hash(b"hello world"))
    assert format_checkpoint(cp) == golden_bytes
    assert parse_checkpoint(golden_bytes) == cp
    # TestParseTree's bad trees: "not-" prefix is just another origin for tlog-checkpoint; the other two fail.
    with pytest.raises(FormatError, match="line 2: expected the tree size in decimal without leading zeros, got '0xabcdef'"):
        parse_checkpoint(golden_bytes.replace(b"123456789012", b"0xabcdef"))
    too_big = re.search(r'"(go\.sum database tree\\n123456789012\\n[A-Za-z0-9+/]+TOOBIG=\\n)"', GO_TLOG_NOTE).group(1)
    with pytest.raises(FormatError, match=r"checkpoint, line 3 \(root hash\): expected canonical base64"):
        parse_checkpoint(too_big.replace("\\n", "\n").encode())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b"o\n1\n", "expected at least 3 lines"),
        (b"o\n1\n" + b"A" * 43 + b"=", "expected the text to end in a newline"),
        (b"\n1\n" + b"A" * 43 + b"=\n", "line 1: expected a non-empty line"),
        (b"o\n01\n" + b"A" * 43 + b"=\n", "line 2: expected the tree size in decimal without leading zeros, got '01'"),
        (b"o\n-1\n" + b"A" * 43 + b"=\n", "got '-1'"),
        (b"o\n+1\n" + b"A" * 43 + b"=\n", "got '\\+1'"),
        (b"o\n\xd9\xa1\n" + b"A" * 43 + b"=\n", "got '\u0661'"),
        (b"o\n9223372036854775808\n" + b"A" * 43 + b"=\n", "expected a tree size below 2\\*\\*63, got 9223372036854775808"),
        (b"o\n1\n" + b"A" * 42 + b"==\n", "line 3: expected a 32-byte root hash, got 31 bytes"),
        (b"o\n1\n" + b"A" * 43 + b"B\n", "line 3"),
        (b"o\n1\n" + b"A" * 44 + b"\n", "line 3: expected a 32-byte root hash, got 33 bytes"),
        (b"o\n1\n" + b"A" * 43 + b"=\n\n", "line 4: expected a non-empty line"),
        (b"o\n1\n" + b"A" * 43 + b"=\next\r\n", "line 4: expected no control characters, got U\\+000D"),
        (b"o\xff\n1\n" + b"A" * 43 + b"=\n", "expected UTF-8"),
        (b"o\n 1\n" + b"A" * 43 + b"=\n", "got ' 1'"),
    ],
)
def test_parse_rejects(text: bytes, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        parse_checkpoint(text)


def test_extensions_and_construction_checks() -> None:
    cp = Checkpoint("sunshine.example/log", 0, merkle.EMPTY_ROOT, ("ext one", "ext2"))
    assert parse_checkpoint(format_checkpoint(cp)) == cp
    assert cp.text().endswith(b"\next one\next2\n")
    with pytest.raises(FormatError, match="expected 32 bytes, got 31 bytes"):
        Checkpoint("o", 1, b"x" * 31)
    with pytest.raises(FormatError, match="expected an integer in \\[0, 2\\*\\*63\\), got -1"):
        Checkpoint("o", -1, merkle.EMPTY_ROOT)
    with pytest.raises(FormatError, match="origin: expected one line"):
        Checkpoint("a\nb", 1, merkle.EMPTY_ROOT)
    with pytest.raises(FormatError, match="extension line 0: expected a non-empty line"):
        Checkpoint("o", 1, merkle.EMPTY_ROOT, ("",))


LOG = note.new_ed25519_signer("sunshine.example/log", Ed25519PrivateKey.from_private_bytes(b"\x01" * 32))
W1 = note.new_cosignature_signer("witness.example/w1", Ed25519PrivateKey.from_private_bytes(b"\x02" * 32))
OTHER = note.new_ed25519_signer("sunshine.example/log", Ed25519PrivateKey.from_private_bytes(b"\x03" * 32))


def _signed(cp: Checkpoint, *, cosign_at: int | None = None) -> bytes:
    text = format_checkpoint(cp)
    sigs = list(note.parse_note(note.sign_note(text, LOG)).signatures)
    if cosign_at is not None:
        sigs.append(note.cosign(text, W1, cosign_at))
    return note.format_note(text, sigs)


def test_open_checkpoint() -> None:
    cp = Checkpoint("sunshine.example/log", 5, merkle.root([merkle.leaf_hash(bytes([i])) for i in range(5)]))
    data = _signed(cp, cosign_at=1764000000)
    got, opened = open_checkpoint(data, "sunshine.example/log", LOG.verifier(), [W1.verifier()])
    assert got == cp
    assert cosignature_times(opened, [W1.verifier()]) == {"witness.example/w1": 1764000000}
    # Without the witness key, the cosignature is simply unverified.
    got, opened = open_checkpoint(data, "sunshine.example/log", LOG.verifier())
    assert cosignature_times(opened, [W1.verifier()]) == {} and len(opened.unverified) == 1
    with pytest.raises(IntegrityError, match="expected origin 'other.example/log', got 'sunshine.example/log'"):
        open_checkpoint(data, "other.example/log", LOG.verifier())
    # Signed only by a witness: not a checkpoint of this log.
    text = format_checkpoint(cp)
    only_witness = note.format_note(text, [note.cosign(text, W1, 1)])
    with pytest.raises(IntegrityError, match="not signed by the log key sunshine.example/log"):
        open_checkpoint(only_witness, "sunshine.example/log", LOG.verifier(), [W1.verifier()])
    # Another key under the same name: unknown key → no verifiable signature.
    with pytest.raises(IntegrityError, match="no verifiable signatures"):
        open_checkpoint(note.sign_note(text, OTHER), "sunshine.example/log", LOG.verifier())
    # A changed size is tamper evidence.
    tampered = data.replace(b"\n5\n", b"\n6\n", 1)
    with pytest.raises(IntegrityError, match="invalid signature"):
        open_checkpoint(tampered, "sunshine.example/log", LOG.verifier())


@settings(max_examples=200, deadline=None)
@given(
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40),
    st.integers(0, 2**63 - 1),
    st.binary(min_size=32, max_size=32),
    st.lists(st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=20), max_size=3),
)
def test_round_trip(origin: str, size: int, root: bytes, exts: list[str]) -> None:
    cp = Checkpoint(origin, size, root, tuple(exts))
    text = format_checkpoint(cp)
    assert parse_checkpoint(text) == cp
    assert format_checkpoint(parse_checkpoint(text)) == text


# --- sigsum-go vectors (tests/vectors/interop/sigsum/checkpoint_test.go) -----------------------------------

SIGSUM = (INTEROP / "sigsum" / "checkpoint_test.go").read_text()


def _go_raw(name: str) -> bytes:
    return re.search(rf"{name}\s*=\s*`([^`]*)`", SIGSUM).group(1).encode()


KEY17 = Ed25519PrivateKey.from_private_bytes(bytes([17]) + bytes(31))  # crypto.PrivateKey{17}


def test_sigsum_signed_checkpoint_reproduced() -> None:
    import hashlib

    want = _go_raw("validCheckpointASCII")
    pub = KEY17.public_key().public_bytes_raw()
    origin = "sigsum.org/v1/tree/" + hashlib.sha256(pub).hexdigest()
    text = format_checkpoint(Checkpoint(origin, 10, base64.b64decode("HA5H" + "A" * 39 + "=")))
    signer = note.new_ed25519_signer(origin, KEY17)
    assert note.sign_note(text, signer) == want
    cp, _ = open_checkpoint(want, origin, signer.verifier())
    assert cp.size == 10


def test_sigsum_cosignature_reproduced() -> None:
    text = note.parse_note(_go_raw("testCheckpointASCII")).text
    block = SIGSUM[SIGSUM.index("func TestCheckpointVerifyCosignatureByKey") :]
    lines = re.search(r"input := `\n(.*?)`", block, re.S).group(1).splitlines()
    sigs = [note.parse_note(b"x\n\n" + line.encode() + b"\n").signatures[0] for line in lines[:3]]
    w = note.new_cosignature_signer("example.org/witness", KEY17)
    wv = w.verifier()
    assert note.cosign(text, w, 1234) == sigs[1]
    assert note.verify_cosignature(text, sigs[1], wv) == 1234
    with pytest.raises(FormatError, match="expected key example.org/witness"):
        note.verify_cosignature(text, sigs[0], wv)  # another key ID
    with pytest.raises(FormatError, match="expected key example.org/witness"):
        note.verify_cosignature(text, sigs[2], wv)  # another name
    fourth = note.parse_note(b"x\n\n" + lines[3].encode() + b"\n").signatures[0]  # another signature size
    with pytest.raises(FormatError, match="expected 8 \\+ 64 bytes, got 74"):
        note.verify_cosignature(text, fourth, wv)


def test_real_sum_golang_org_checkpoint() -> None:
    block = SIGSUM[SIGSUM.index("func TestGoSumDBCheckpoint") :]
    signed = re.search(r"dbCheckpoint = `([^`]*)`", block).group(1).encode()
    vkey = re.search(r'noteKey = "([^"]+)"', block).group(1)
    assert vkey == "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"
    cp, opened = open_checkpoint(signed, "go.sum database tree", note.parse_verifier_key(vkey))
    assert cp.size == 30055305
    assert [s.name for s in opened.signatures] == ["sum.golang.org"]
    with pytest.raises(IntegrityError, match="invalid signature for key sum.golang.org\\+033de0ae"):
        open_checkpoint(signed.replace(b"30055305", b"30055306"), "go.sum database tree", note.parse_verifier_key(vkey))
