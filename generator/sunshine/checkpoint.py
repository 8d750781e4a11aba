"""C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint): the signed statement of a log's tree head.

Wire format of the note text (each line ends in ``"\\n"``)::

    <origin>                  non-empty; for this project an ASCII schema-less URL is recommended
    <tree size>               ASCII decimal, no leading zeros ("0" for the empty tree), < 2**63
    <root hash>               standard padded base64 of the 32-byte RFC 6962 tree hash
    [<extension line>]...     optional, each non-empty

The text must also be a valid signed-note text (UTF-8, no control characters but newline).
:func:`parse_checkpoint` accepts only what :func:`format_checkpoint` produces: anything else raises
:class:`~sunshine.errors.FormatError` naming the line. The checkpoint is signed as a note
(:mod:`sunshine.note`) by the log key, and cosigned by witnesses (tlog-cosignature);
:func:`open_checkpoint` verifies both.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass

from . import note as _note
from .errors import FormatError, IntegrityError
from .merkle import HASH_SIZE, MAX_TREE_SIZE

__all__ = ["Checkpoint", "parse_checkpoint", "format_checkpoint", "open_checkpoint", "cosignature_times"]


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A log's tree head: origin, size and root hash, plus opaque extension lines."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check(self)

    def text(self) -> bytes:
        return format_checkpoint(self)


def _check(cp: Checkpoint) -> None:
    if not isinstance(cp.origin, str) or not cp.origin:
        raise FormatError(f"checkpoint origin: expected a non-empty string, got {cp.origin!r}")
    if "\n" in cp.origin or any(ord(c) < 0x20 for c in cp.origin):
        raise FormatError(f"checkpoint origin: expected one line without control characters, got {cp.origin!r}")
    if not isinstance(cp.size, int) or isinstance(cp.size, bool) or not 0 <= cp.size <= MAX_TREE_SIZE:
        raise FormatError(f"checkpoint size: expected an integer in [0, 2**63), got {cp.size!r}")
    if not isinstance(cp.root_hash, bytes) or len(cp.root_hash) != HASH_SIZE:
        got = f"{len(cp.root_hash)} bytes" if isinstance(cp.root_hash, (bytes, bytearray)) else type(cp.root_hash).__name__
        raise FormatError(f"checkpoint root hash: expected {HASH_SIZE} bytes, got {got}")
    if not isinstance(cp.extensions, tuple):
        raise FormatError(f"checkpoint extensions: expected a tuple of strings, got {type(cp.extensions).__name__}")
    for i, ext in enumerate(cp.extensions):
        if not isinstance(ext, str) or not ext or "\n" in ext or any(ord(c) < 0x20 for c in ext):
            raise FormatError(f"checkpoint extension line {i}: expected a non-empty line without control characters, got {ext!r}")


def format_checkpoint(cp: Checkpoint) -> bytes:
    """The checkpoint note text: origin, size, base64 root hash, extension lines, each + ``"\\n"``."""
    _check(cp)
    lines = [cp.origin, str(cp.size), _note.b64encode(cp.root_hash), *cp.extensions]
    return "".join(line + "\n" for line in lines).encode("utf-8")


def parse_checkpoint(text: bytes) -> Checkpoint:
    """Parse a checkpoint note text strictly (the inverse of :func:`format_checkpoint`)."""
    if not isinstance(text, (bytes, bytearray)):
        raise FormatError(f"checkpoint: expected bytes, got {type(text).__name__}")
    data = bytes(text)
    try:
        decoded = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FormatError(f"checkpoint: expected UTF-8, got invalid byte(s) at offset {exc.start}") from None
    if not decoded.endswith("\n"):
        raise FormatError("checkpoint: expected the text to end in a newline")
    lines = decoded[:-1].split("\n")
    if len(lines) < 3:
        raise FormatError(f"checkpoint: expected at least 3 lines (origin, size, root hash), got {len(lines)}")
    for i, line in enumerate(lines, 1):
        if not line:
            raise FormatError(f"checkpoint, line {i}: expected a non-empty line, got an empty one")
        for c in line:
            if ord(c) < 0x20:
                raise FormatError(f"checkpoint, line {i}: expected no control characters, got U+{ord(c):04X}")
    origin, size_text, root_text, *extensions = lines
    if not size_text.isascii() or not size_text.isdigit() or (size_text != "0" and size_text.startswith("0")):
        raise FormatError(f"checkpoint, line 2: expected the tree size in decimal without leading zeros, got {size_text!r}")
    if len(size_text) > 19 or int(size_text) > MAX_TREE_SIZE:
        raise FormatError(f"checkpoint, line 2: expected a tree size below 2**63, got {size_text}")
    root_hash = _note.b64decode(root_text, "checkpoint, line 3 (root hash)")
    if len(root_hash) != HASH_SIZE:
        raise FormatError(f"checkpoint, line 3: expected a {HASH_SIZE}-byte root hash, got {len(root_hash)} bytes")
    return Checkpoint(origin, int(size_text), root_hash, tuple(extensions))


def open_checkpoint(
    data: bytes,
    origin: str,
    log_verifier: _note.Verifier,
    witnesses: Iterable[_note.Verifier] = (),
) -> tuple[Checkpoint, _note.Note]:
    """Verify a signed checkpoint of the log ``origin`` and parse it.

    The note must carry a valid signature by ``log_verifier`` (signatures by other known keys, such
    as the ``witnesses``' cosignatures, must verify too; unknown ones are ignored). Raises
    IntegrityError if the log did not sign it, a known signature is invalid, or the origin line is
    not ``origin``; FormatError if it is malformed.
    """
    opened = _note.open_note(data, [log_verifier, *witnesses])
    if not any(
        (s.name, s.key_id) == (log_verifier.name, log_verifier.key_id) for s in opened.signatures
    ):
        raise IntegrityError(
            f"checkpoint is not signed by the log key {log_verifier.name}+{log_verifier.key_id.hex()}",
            hint="check the log's verifier key (vkey)",
        )
    cp = parse_checkpoint(opened.text)
    if cp.origin != origin:
        raise IntegrityError(f"checkpoint is for another log: expected origin {origin!r}, got {cp.origin!r}")
    return cp, opened


def cosignature_times(opened: _note.Note, witnesses: Iterable[_note.Verifier]) -> dict[str, int]:
    """``{witness name: timestamp}`` for the verified cosignatures in ``opened`` (from open_checkpoint)."""
    wanted = {(w.name, w.key_id) for w in witnesses if w.alg == _note.ALG_COSIGNATURE_V1}
    times: dict[str, int] = {}
    for s in opened.signatures:
        if (s.name, s.key_id) in wanted:
            times[s.name] = struct.unpack(">Q", s.sig[:8])[0]
    return times
