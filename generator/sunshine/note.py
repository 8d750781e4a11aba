"""C2SP signed notes (https://c2sp.org/signed-note) with Ed25519 keys and tlog cosignatures.

Wire format of a signed note (all UTF-8, no ASCII control characters except newline)::

    <text, one or more lines, each ending in "\\n">
    <empty line>
    — <key name> <base64(4-byte key ID || signature)>\\n      (one or more signature lines)

The text ends at the *last* empty line. A key name is non-empty, valid UTF-8, and contains no
Unicode space and no ``+``. The key ID is ``SHA-256(name || 0x0A || type || public key)[:4]``.

Signature types supported:

* ``0x01`` Ed25519 (RFC 8032) over the note text;
* ``0x04`` Ed25519 cosignature/v1 (https://c2sp.org/tlog-cosignature): the signature bytes are
  ``uint64 big-endian timestamp || 64-byte Ed25519 signature`` over the message
  ``"cosignature/v1\\ntime <timestamp>\\n" || note text``; the timestamp is ≤ 2**63 - 1.

Verifier keys ("vkeys") are ``<name>+<8 lowercase hex key ID>+<base64(type || 32-byte public key)>``;
signer keys are ``PRIVATE+KEY+<name>+<hex key ID>+<base64(type || 32-byte Ed25519 seed)>`` (the
format of golang.org/x/mod/sumdb/note).

Parsers are strict: base64 must be canonical (standard alphabet, padded, zero padding bits), the
key ID in a vkey must match the key, and anything malformed raises
:class:`~sunshine.errors.FormatError` with what was expected and what was found. A signature by a
known key that does not verify raises :class:`~sunshine.errors.IntegrityError`, as does a note
that no known key signed (the rule of the spec and of Go's ``note.Open``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .errors import FormatError, IntegrityError

__all__ = [
    "ALG_ED25519",
    "ALG_COSIGNATURE_V1",
    "MAX_SIGNATURES",
    "Signature",
    "Note",
    "Signer",
    "Verifier",
    "key_id",
    "is_valid_key_name",
    "new_ed25519_signer",
    "new_cosignature_signer",
    "new_verifier",
    "parse_verifier_key",
    "format_verifier_key",
    "parse_signer_key",
    "format_signer_key",
    "parse_note",
    "format_note",
    "sign_note",
    "open_note",
    "cosign",
    "cosignature_message",
    "verify_cosignature",
    "b64encode",
    "b64decode",
]

ALG_ED25519 = 0x01
ALG_COSIGNATURE_V1 = 0x04
_ALG_NAMES = {ALG_ED25519: "Ed25519", ALG_COSIGNATURE_V1: "Ed25519 cosignature/v1"}
#: Like Go's note.Open: more signature lines than this is a malformed note (the spec requires ≥ 16).
MAX_SIGNATURES = 100
_MAX_TIMESTAMP = 2**63 - 1
_SIG_PREFIX = "— "  # em dash U+2014, space


# --- small encodings ---------------------------------------------------------------------------------


def b64encode(data: bytes) -> str:
    """Standard, padded base64 (RFC 4648 §4)."""
    return base64.b64encode(data).decode("ascii")


def b64decode(text: str, what: str) -> bytes:
    """Strict standard base64: padded, canonical (re-encoding gives the same text)."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise FormatError(f"{what}: expected standard padded base64, got {text!r}") from None
    if b64encode(raw) != text:
        raise FormatError(f"{what}: expected canonical base64 {b64encode(raw)!r}, got {text!r}")
    return raw


def is_valid_key_name(name: object) -> bool:
    """A key name is non-empty and has no Unicode space, no ``+``, no control character."""
    return (
        isinstance(name, str)
        and name != ""
        and "+" not in name
        and not any(ch.isspace() or ord(ch) < 0x20 or 0xD800 <= ord(ch) <= 0xDFFF for ch in name)
    )


def _check_name(name: object, what: str) -> str:
    if not is_valid_key_name(name):
        raise FormatError(
            f"{what}: expected a non-empty key name without spaces or '+', got {name!r}"
        )
    return name  # type: ignore[return-value]


def key_id(name: str, alg_and_pub: bytes) -> bytes:
    """``SHA-256(name || "\\n" || type || public key)[:4]``: the 4-byte key ID."""
    _check_name(name, "key name")
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes(alg_and_pub)).digest()[:4]


# --- data types -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Signature:
    """One signature line: key name, 4-byte key ID and the signature bytes after the key ID."""

    name: str
    key_id: bytes
    sig: bytes

    @property
    def base64(self) -> str:
        return b64encode(self.key_id + self.sig)

    def line(self) -> str:
        """The signature line without its newline: ``— <name> <base64>``."""
        return f"{_SIG_PREFIX}{self.name} {self.base64}"


@dataclass(frozen=True, slots=True)
class Note:
    """A parsed note: the text (bytes, ending in newline) and its signatures.

    From :func:`parse_note`, ``signatures`` are all the signature lines in order. From
    :func:`open_note`, ``signatures`` are the verified ones and ``unverified`` those by unknown keys.
    """

    text: bytes
    signatures: tuple[Signature, ...]
    unverified: tuple[Signature, ...] = field(default=())


class Signer:
    """Signs with an Ed25519 key under a key name, for signature type 0x01 or 0x04."""

    __slots__ = ("name", "key_id", "alg", "_key", "public_key")

    def __init__(self, name: str, private_key: Ed25519PrivateKey, alg: int = ALG_ED25519) -> None:
        _check_name(name, "signer name")
        if not isinstance(private_key, Ed25519PrivateKey):
            raise FormatError(f"signer {name!r}: expected an Ed25519 private key, got {type(private_key).__name__}")
        if alg not in _ALG_NAMES:
            raise FormatError(f"signer {name!r}: expected signature type 0x01 or 0x04, got 0x{alg:02x}")
        self.name = name
        self.alg = alg
        self._key = private_key
        self.public_key: bytes = private_key.public_key().public_bytes_raw()
        self.key_id = key_id(name, bytes([alg]) + self.public_key)

    def sign(self, msg: bytes) -> bytes:
        """The raw Ed25519 signature of ``msg`` (64 bytes)."""
        return self._key.sign(bytes(msg))

    def verifier(self) -> "Verifier":
        return Verifier(self.name, self.alg, self.public_key)

    def verifier_key(self) -> str:
        return self.verifier().vkey

    def __repr__(self) -> str:
        return f"Signer({self.name!r}, key_id={self.key_id.hex()}, {_ALG_NAMES[self.alg]})"


class Verifier:
    """Verifies signatures of one key (type 0x01 Ed25519 or 0x04 cosignature/v1)."""

    __slots__ = ("name", "key_id", "alg", "public_key", "_key")

    def __init__(self, name: str, alg: int, public_key: bytes) -> None:
        _check_name(name, "verifier name")
        if alg not in _ALG_NAMES:
            raise FormatError(f"verifier key {name!r}: expected signature type 0x01 or 0x04, got 0x{alg:02x}")
        if not isinstance(public_key, (bytes, bytearray)) or len(public_key) != 32:
            n = len(public_key) if isinstance(public_key, (bytes, bytearray)) else type(public_key).__name__
            raise FormatError(f"verifier key {name!r}: expected a 32-byte Ed25519 public key, got {n} bytes")
        self.name = name
        self.alg = alg
        self.public_key = bytes(public_key)
        self.key_id = key_id(name, bytes([alg]) + self.public_key)
        try:
            self._key = Ed25519PublicKey.from_public_bytes(self.public_key)
        except ValueError:  # pragma: no cover - cryptography accepts any 32 bytes
            raise FormatError(f"verifier key {name!r}: invalid Ed25519 public key") from None

    @property
    def vkey(self) -> str:
        return f"{self.name}+{self.key_id.hex()}+{b64encode(bytes([self.alg]) + self.public_key)}"

    def verify(self, msg: bytes, sig: bytes) -> bool:
        """Whether ``sig`` (the bytes after the key ID) is a valid signature of note text ``msg``.

        For a cosignature key, ``sig`` is ``timestamp || ed25519 signature`` and the signed message
        is the cosignature/v1 message built from ``msg``.
        """
        msg, sig = bytes(msg), bytes(sig)
        if self.alg == ALG_COSIGNATURE_V1:
            if len(sig) != 8 + 64:
                return False
            (timestamp,) = struct.unpack(">Q", sig[:8])
            if timestamp > _MAX_TIMESTAMP:
                return False
            msg, sig = cosignature_message(msg, timestamp), sig[8:]
        if len(sig) != 64:
            return False
        try:
            self._key.verify(sig, msg)
        except InvalidSignature:
            return False
        return True

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Verifier) and (self.name, self.alg, self.public_key) == (
            other.name,
            other.alg,
            other.public_key,
        )

    def __hash__(self) -> int:
        return hash((self.name, self.alg, self.public_key))

    def __repr__(self) -> str:
        return f"Verifier({self.vkey!r})"


def new_ed25519_signer(name: str, private_key: Ed25519PrivateKey) -> Signer:
    """A note signer (type 0x01) for ``private_key`` under ``name``."""
    return Signer(name, private_key, ALG_ED25519)


def new_cosignature_signer(name: str, private_key: Ed25519PrivateKey) -> Signer:
    """A cosigner (type 0x04, tlog-cosignature v1) for ``private_key`` under ``name``."""
    return Signer(name, private_key, ALG_COSIGNATURE_V1)


def new_verifier(name: str, public_key: bytes | Ed25519PublicKey, alg: int = ALG_ED25519) -> Verifier:
    if isinstance(public_key, Ed25519PublicKey):
        public_key = public_key.public_bytes_raw()
    return Verifier(name, alg, public_key)


# --- keys --------------------------------------------------------------------------------------------------


def _parse_key_parts(text: str, what: str) -> tuple[str, bytes, int, bytes]:
    # The base64 key may itself contain '+': split at the first two only (as Go's note package).
    parts = text.split("+", 2)
    if len(parts) != 3:
        raise FormatError(f"{what}: expected <name>+<hex key ID>+<base64 key>, got {text!r}")
    name, hex_id, b64 = parts
    _check_name(name, what)
    if len(hex_id) != 8 or any(c not in "0123456789abcdef" for c in hex_id):
        raise FormatError(f"{what}: expected the key ID as 8 lowercase hex digits, got {hex_id!r}")
    raw = b64decode(b64, what)
    if len(raw) < 1:
        raise FormatError(f"{what}: expected a signature type byte and a key, got nothing")
    alg, key = raw[0], raw[1:]
    if alg not in _ALG_NAMES:
        raise FormatError(f"{what}: expected signature type 0x01 (Ed25519) or 0x04 (cosignature/v1), got 0x{alg:02x}")
    if len(key) != 32:
        raise FormatError(f"{what}: expected a 32-byte Ed25519 key, got {len(key)} bytes")
    return name, bytes.fromhex(hex_id), alg, key


def parse_verifier_key(vkey: str) -> Verifier:
    """Parse ``<name>+<hex key ID>+<base64(type || public key)>`` (types 0x01 and 0x04)."""
    if not isinstance(vkey, str):
        raise FormatError(f"verifier key: expected a string, got {type(vkey).__name__}")
    name, kid, alg, key = _parse_key_parts(vkey, "verifier key")
    verifier = Verifier(name, alg, key)
    if verifier.key_id != kid:
        raise FormatError(
            f"verifier key {name!r}: key ID does not match the key: expected {verifier.key_id.hex()}, got {kid.hex()}"
        )
    return verifier


def format_verifier_key(name: str, public_key: bytes | Ed25519PublicKey, alg: int = ALG_ED25519) -> str:
    """``<name>+<hex key ID>+<base64(type || public key)>`` for an Ed25519 public key."""
    return new_verifier(name, public_key, alg).vkey


def parse_signer_key(skey: str) -> Signer:
    """Parse ``PRIVATE+KEY+<name>+<hex key ID>+<base64(type || 32-byte seed)>``."""
    prefix = "PRIVATE+KEY+"
    if not isinstance(skey, str) or not skey.startswith(prefix):
        raise FormatError("signer key: expected a string starting with 'PRIVATE+KEY+'")
    name, kid, alg, seed = _parse_key_parts(skey[len(prefix) :], "signer key")
    signer = Signer(name, Ed25519PrivateKey.from_private_bytes(seed), alg)
    if signer.key_id != kid:
        raise FormatError(
            f"signer key {name!r}: key ID does not match the key: expected {signer.key_id.hex()}, got {kid.hex()}"
        )
    return signer


def format_signer_key(name: str, private_key: Ed25519PrivateKey, alg: int = ALG_ED25519) -> str:
    """``PRIVATE+KEY+<name>+<hex key ID>+<base64(type || seed)>`` (keep it secret)."""
    signer = Signer(name, private_key, alg)
    seed = private_key.private_bytes_raw()
    return f"PRIVATE+KEY+{name}+{signer.key_id.hex()}+{b64encode(bytes([alg]) + seed)}"


# --- notes -------------------------------------------------------------------------------------------------


def _check_note_chars(data: bytes, what: str) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FormatError(f"{what}: expected UTF-8, got invalid byte(s) at offset {exc.start}") from None
    for i, ch in enumerate(text):
        if ord(ch) < 0x20 and ch != "\n":
            line = text.count("\n", 0, i) + 1
            raise FormatError(f"{what}, line {line}: expected no control characters except newline, got U+{ord(ch):04X}")
    return text


def _check_text(text: bytes, what: str = "note text") -> bytes:
    if not isinstance(text, (bytes, bytearray)):
        raise FormatError(f"{what}: expected bytes, got {type(text).__name__}")
    text = bytes(text)
    if not text.endswith(b"\n"):
        raise FormatError(f"{what}: expected text ending in a newline, got {text[-20:]!r}")
    _check_note_chars(text, what)
    return text


def parse_note(data: bytes) -> Note:
    """Parse a signed note without verifying it (see the module docstring for the format)."""
    if not isinstance(data, (bytes, bytearray)):
        raise FormatError(f"note: expected bytes, got {type(data).__name__}")
    data = bytes(data)
    _check_note_chars(data, "note")
    split = data.rfind(b"\n\n")
    if split < 0:
        raise FormatError("note: expected an empty line before the signatures, got none")
    text, block = data[: split + 1], data[split + 2 :]
    if not block:
        raise FormatError("note: expected at least one signature line after the empty line, got none")
    if not block.endswith(b"\n"):
        raise FormatError("note: expected the last signature line to end in a newline")
    lines = block[:-1].decode("utf-8").split("\n")
    first_line = text.count(b"\n") + 2
    if len(lines) > MAX_SIGNATURES:
        raise FormatError(f"note: expected at most {MAX_SIGNATURES} signatures, got {len(lines)}")
    sigs = [_parse_signature_line(line, f"note, line {first_line + i}") for i, line in enumerate(lines)]
    return Note(text, tuple(sigs))


def _parse_signature_line(line: str, what: str) -> Signature:
    if not line.startswith(_SIG_PREFIX):
        raise FormatError(f"{what}: expected a signature line starting with '— ', got {line[:40]!r}")
    rest = line[len(_SIG_PREFIX) :]
    name, sep, b64 = rest.partition(" ")
    if not sep:
        raise FormatError(f"{what}: expected '— <key name> <base64 signature>', got {line[:60]!r}")
    _check_name(name, what)
    raw = b64decode(b64, f"{what}, signature by {name!r}")
    if len(raw) < 5:
        raise FormatError(f"{what}: expected a key ID and a signature (≥ 5 bytes), got {len(raw)} bytes")
    return Signature(name, raw[:4], raw[4:])


def _check_signature(sig: Signature, what: str) -> None:
    if not isinstance(sig, Signature):
        raise FormatError(f"{what}: expected a Signature, got {type(sig).__name__}")
    _check_name(sig.name, what)
    if not isinstance(sig.key_id, (bytes, bytearray)) or len(sig.key_id) != 4:
        raise FormatError(f"{what}: expected a 4-byte key ID, got {sig.key_id!r}")
    if not isinstance(sig.sig, (bytes, bytearray)) or len(sig.sig) < 1:
        raise FormatError(f"{what}: expected non-empty signature bytes")


def format_note(text: bytes, signatures: Iterable[Signature]) -> bytes:
    """``text || "\\n" || signature lines``; the inverse of :func:`parse_note`."""
    text = _check_text(text)
    sigs = list(signatures)
    if not sigs:
        raise FormatError("note: expected at least one signature, got none")
    if len(sigs) > MAX_SIGNATURES:
        raise FormatError(f"note: expected at most {MAX_SIGNATURES} signatures, got {len(sigs)}")
    for i, s in enumerate(sigs):
        _check_signature(s, f"signature {i}")
    return text + b"\n" + "".join(s.line() + "\n" for s in sigs).encode("utf-8")


def sign_note(text: bytes, *signers: Signer) -> bytes:
    """Sign ``text`` with each Ed25519 signer (type 0x01) and return the signed note.

    Cosigners (type 0x04) need a timestamp: use :func:`cosign` and :func:`format_note`.
    """
    text = _check_text(text)
    if not signers:
        raise FormatError("sign_note: expected at least one signer, got none")
    sigs = []
    for s in signers:
        if not isinstance(s, Signer):
            raise FormatError(f"sign_note: expected a Signer, got {type(s).__name__}")
        if s.alg != ALG_ED25519:
            raise FormatError(f"sign_note: signer {s.name!r} is a cosigner; use cosign() with a timestamp")
        sigs.append(Signature(s.name, s.key_id, s.sign(text)))
    return format_note(text, sigs)


def open_note(data: bytes, verifiers: Iterable[Verifier]) -> Note:
    """Parse ``data`` and verify it against the known ``verifiers`` (the rules of Go's ``note.Open``).

    Signatures whose (name, key ID) match no known verifier are returned in ``unverified``. A
    signature by a known key must verify, else IntegrityError. Repeated signatures by one key are
    dropped. If no known key signed the note: IntegrityError. A (name, key ID) pair shared by two
    different known verifiers is ambiguous: FormatError.
    """
    note = parse_note(data)
    known: dict[tuple[str, bytes], list[Verifier]] = {}
    for v in verifiers:
        if not isinstance(v, Verifier):
            raise FormatError(f"open_note: expected Verifier objects, got {type(v).__name__}")
        bucket = known.setdefault((v.name, v.key_id), [])
        bucket.append(v)
    verified: list[Signature] = []
    unverified: list[Signature] = []
    seen: set[tuple[str, bytes]] = set()
    seen_unverified: set[Signature] = set()
    for sig in note.signatures:
        ident = (sig.name, sig.key_id)
        candidates = known.get(ident)
        if not candidates:
            if sig not in seen_unverified:
                seen_unverified.add(sig)
                unverified.append(sig)
            continue
        if len(candidates) > 1:
            raise FormatError(
                f"ambiguous key {sig.name}+{sig.key_id.hex()}: expected one known verifier, got {len(candidates)}"
            )
        if ident in seen:
            continue
        seen.add(ident)
        if not candidates[0].verify(note.text, sig.sig):
            raise IntegrityError(
                f"invalid signature for key {sig.name}+{sig.key_id.hex()}",
                hint="the note was altered or signed by another key with the same name and key ID",
            )
        verified.append(sig)
    if not verified:
        names = sorted({f"{n}+{k.hex()}" for n, k in known}) or ["(none)"]
        got = [f"{s.name}+{s.key_id.hex()}" for s in unverified]
        raise IntegrityError(
            f"note has no verifiable signatures: expected a signature by {', '.join(names)}, "
            f"got signatures by {', '.join(got)}",
            hint="check that the right verifier key (vkey) is configured",
        )
    return Note(note.text, tuple(verified), tuple(unverified))


# --- cosignatures (c2sp.org/tlog-cosignature, Ed25519 v1) ------------------------------------------------


def _check_timestamp(timestamp: object) -> int:
    if not isinstance(timestamp, int) or isinstance(timestamp, bool) or not 0 <= timestamp <= _MAX_TIMESTAMP:
        raise FormatError(f"cosignature timestamp: expected an integer in [0, 2**63), got {timestamp!r}")
    return timestamp


def cosignature_message(checkpoint_text: bytes, timestamp: int) -> bytes:
    """``"cosignature/v1\\ntime <timestamp>\\n" || checkpoint text``: what a v1 cosigner signs."""
    return b"cosignature/v1\ntime %d\n" % _check_timestamp(timestamp) + bytes(checkpoint_text)


def cosign(checkpoint_text: bytes, signer: Signer, timestamp: int) -> Signature:
    """A cosignature/v1 signature line over ``checkpoint_text`` at POSIX ``timestamp``."""
    text = _check_text(checkpoint_text, "checkpoint text")
    if not isinstance(signer, Signer) or signer.alg != ALG_COSIGNATURE_V1:
        raise FormatError("cosign: expected a cosignature signer (type 0x04, see new_cosignature_signer)")
    ts = _check_timestamp(timestamp)
    sig = signer.sign(cosignature_message(text, ts))
    return Signature(signer.name, signer.key_id, struct.pack(">Q", ts) + sig)


def verify_cosignature(checkpoint_text: bytes, signature: Signature, verifier: Verifier) -> int:
    """Verify one cosignature over ``checkpoint_text``; return its timestamp.

    FormatError if the signature line is not a cosignature by ``verifier`` (name, key ID, length);
    IntegrityError if it does not verify.
    """
    if verifier.alg != ALG_COSIGNATURE_V1:
        raise FormatError(f"verifier {verifier.name!r}: expected a cosignature key (type 0x04), got type 0x{verifier.alg:02x}")
    if (signature.name, signature.key_id) != (verifier.name, verifier.key_id):
        raise FormatError(
            f"cosignature: expected key {verifier.name}+{verifier.key_id.hex()}, "
            f"got {signature.name}+{signature.key_id.hex()}"
        )
    if len(signature.sig) != 72:
        raise FormatError(f"cosignature by {signature.name!r}: expected 8 + 64 bytes, got {len(signature.sig)}")
    (timestamp,) = struct.unpack(">Q", signature.sig[:8])
    if timestamp > _MAX_TIMESTAMP:
        raise FormatError(f"cosignature by {signature.name!r}: expected a timestamp < 2**63, got {timestamp}")
    if not verifier.verify(bytes(checkpoint_text), signature.sig):
        raise IntegrityError(f"invalid cosignature by {signature.name}+{signature.key_id.hex()} at time {timestamp}")
    return timestamp


def signatures_by(note: Note, names: Sequence[str]) -> list[Signature]:
    """The signatures in ``note`` (verified or not) whose key name is in ``names``."""
    wanted = set(names)
    return [s for s in (*note.signatures, *note.unverified) if s.name in wanted]
