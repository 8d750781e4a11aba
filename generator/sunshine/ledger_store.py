"""The on-disk ledger: a C2SP tlog-tiles directory with crash-safe appends (spec ``docs/spec/ledger.md`` §12).

Layout of a ledger directory (everything except dot-files is published as is)::

    checkpoint                    the signed checkpoint (C2SP tlog-checkpoint in a signed note): the commit point
    tile/<L>/<N>[.p/<W>]          hash tiles (C2SP tlog-tiles, height 8)
    tile/entries/<N>[.p/<W>]      entry bundles (the entries' canonical JSON bytes)
    blob/sha256/<64 hex>          content-addressed blobs referenced by entries as "sha256:<hex>"
    .lock                         the writers' lock file (not published)

An append (:meth:`Ledger.append`) takes an exclusive ``flock`` on ``.lock``, re-reads the checkpoint,
removes leftovers of an interrupted append, writes the new entry bundle and hash tiles (each file: write
to a temporary file, ``fsync``, ``rename``, ``fsync`` the directory), checks the new tree is consistent
with the last signed checkpoint, and finally replaces ``checkpoint`` the same way. The checkpoint is the
commit point: files describing entries beyond it are unacknowledged torn writes, never published,
ignored by readers and removed by the next writer. A published file is never rewritten with different
bytes (:class:`IntegrityError` if that would happen).
"""

from __future__ import annotations

import copy
import fcntl
import hashlib
import os
import re
import time as _time
from pathlib import Path
from typing import Iterable, Iterator

from . import checkpoint as cp_mod
from . import merkle, note, tiles
from .entries import Entry, LedgerState, blob_refs, build_entry, parse_entry, withholdable_refs
from .errors import FormatError, IntegrityError, LedgerError, PolicyError, SunshineError

TILE_WIDTH = 256
LOCK_FILE = ".lock"
_BLOB_REF = re.compile(r"^sha256:([0-9a-f]{64})\Z")


def blob_path(ref: str) -> str:
    """``"sha256:<hex>"`` → ``blob/sha256/<hex>`` (spec §10)."""
    m = _BLOB_REF.match(ref) if isinstance(ref, str) else None
    if not m:
        raise FormatError(f'blob reference: expected "sha256:<64 lowercase hex>", got {ref!r}')
    return f"blob/sha256/{m.group(1)}"


def blob_ref(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class TreeBuilder:
    """The in-memory tree of a tlog-tiles log: appends entries and says which files change (pure).

    ``tile_hashes[L]`` holds the Merkle nodes of level ``8·L`` (level 0: the leaf hashes), so any
    node can be computed and every tile's bytes are slices of it.
    """

    def __init__(self) -> None:
        self.range = merkle.CompactRange()
        self.tile_hashes: list[list[bytes]] = [[]]

    @property
    def size(self) -> int:
        return self.range.size

    def append(self, entry: bytes) -> None:
        for level, index, h in self.range.append(merkle.leaf_hash(entry)):
            if level % 8 == 0:
                L = level // 8
                while len(self.tile_hashes) <= L:
                    self.tile_hashes.append([])
                assert len(self.tile_hashes[L]) == index
                self.tile_hashes[L].append(h)

    def root(self) -> bytes:
        return self.range.root()

    def node(self, level: int, index: int) -> bytes:
        L, r = divmod(level, 8)
        if r == 0:
            return self.tile_hashes[L][index]
        return merkle.root(self.tile_hashes[L][index << r:(index + 1) << r])

    def tile_files(self, old_size: int, bundles: dict[int, list[bytes]]) -> list[tuple[str, bytes]]:
        """The tile and entry-bundle files that a tree of :attr:`size` has and one of *old_size* had not.

        *bundles* maps a bundle index to its entries (at least those from *old_size* on).
        """
        out: list[tuple[str, bytes]] = []
        new = self.size
        for k in range(old_size // TILE_WIDTH, (new - 1) // TILE_WIDTH + 1 if new else 0):
            end = min(new, (k + 1) * TILE_WIDTH)
            if end <= old_size:
                continue
            w = end - k * TILE_WIDTH
            out.append((tiles.entries_path(k, w), tiles.encode_entry_bundle(bundles[k][:w])))
        L = 0
        while True:
            span = TILE_WIDTH ** L
            old_n, new_n = old_size // span, new // span
            if new_n == 0:
                break
            if L >= len(self.tile_hashes):
                break
            for j in range(old_n // TILE_WIDTH, (new_n - 1) // TILE_WIDTH + 1):
                end = min(new_n, (j + 1) * TILE_WIDTH)
                if end <= old_n:
                    continue
                w = end - j * TILE_WIDTH
                data = b"".join(self.tile_hashes[L][j * TILE_WIDTH:end])
                out.append((tiles.tile_path(L, j, w), data))
            L += 1
        return out


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Ledger:
    """One ledger directory (see the module docstring). Build with :meth:`create` or :meth:`open`."""

    def __init__(self, path: Path, *, log_signer=None, sync: bool = True) -> None:
        self.path = Path(path)
        self._log_signer = log_signer
        self._sync = sync
        self._lock_fd: int | None = None
        self._load()

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(cls, path, *, log_signer=None, sync: bool = True) -> Ledger:
        """Open an existing ledger. Appending needs *log_signer* (a ``note.Signer`` of the log key).

        ``sync=False`` skips ``fsync`` (only for building throw-away ledgers in tests and benchmarks).
        """
        path = Path(path)
        if not (path / "checkpoint").is_file():
            raise LedgerError(f"{path}: not a ledger directory (no checkpoint file)",
                              hint="create one with `sunshine ledger init`")
        return cls(path, log_signer=log_signer, sync=sync)

    @classmethod
    def create(cls, path, origin: str, log_signer, genesis: dict, time: str, *, sync: bool = True) -> Ledger:
        """Create a ledger whose entry 0 is the genesis entry with body *genesis*, signed by the log key.

        ``origin`` and ``log_key`` are filled in (or checked, when *genesis* has them).
        """
        path = Path(path)
        if path.exists() and any(path.iterdir()):
            raise LedgerError(f"{path}: refusing to create a ledger in a non-empty directory")
        vkey = note.format_verifier_key(log_signer.name, log_signer.public_key)
        body = dict(genesis)
        for name, value in (("origin", origin), ("log_key", vkey)):
            if body.setdefault(name, value) != value:
                raise PolicyError(f"genesis: expected {name} {value!r}, got {body[name]!r}")
        entry = build_entry(origin, 0, "0" * 64, time, "genesis", body, log_signer)
        path.mkdir(parents=True, exist_ok=True)
        led = cls.__new__(cls)
        led.path, led._log_signer, led._sync, led._lock_fd = path, log_signer, sync, None
        led.origin = origin
        led._init_empty()
        with led._locked():
            led._commit([entry])
        return led

    def _init_empty(self) -> None:
        self.state = LedgerState(self.origin)
        self.tree = TreeBuilder()
        self._bundles: dict[int, list[bytes]] = {}
        self._entries: list[Entry] = []
        self._checkpoint_bytes = b""
        self.size = 0

    def _load(self) -> None:
        """Read the checkpoint, the entries up to it, replay and check them."""
        cp_bytes = self._read("checkpoint")
        try:
            note_text = note.parse_note(cp_bytes).text
            cp = cp_mod.parse_checkpoint(note_text)
        except FormatError as exc:
            raise LedgerError(f"{self.path}/checkpoint: {exc.message}") from None
        self.origin = cp.origin
        self._init_empty()
        entries = list(self._read_entries(cp.size))
        if not entries:
            raise LedgerError(f"{self.path}: the checkpoint has size 0; a ledger starts with its genesis entry")
        log_vkey = entries[0].body.get("log_key") if entries[0].type == "genesis" else None
        if not isinstance(log_vkey, str):
            raise LedgerError(f"{self.path}: entry 0 is not a genesis entry naming the log key")
        try:
            note.open_note(cp_bytes, [note.parse_verifier_key(log_vkey)])
        except SunshineError as exc:
            raise LedgerError(f"{self.path}/checkpoint: {exc.message}") from None
        for e in entries:
            self._add(e)
            self.state.apply(e)
        if self.tree.root() != cp.root_hash:
            raise LedgerError(
                f"{self.path}: the entries do not hash to the checkpoint's root "
                f"(expected {cp.root_hash.hex()}, got {self.tree.root().hex()})",
                hint="run `sunshine verify` on it to find the damage",
            )
        self._checkpoint_bytes = cp_bytes
        self.size = cp.size

    def _read(self, rel: str) -> bytes:
        try:
            return (self.path / rel).read_bytes()
        except FileNotFoundError:
            raise LedgerError(f"{self.path}: missing {rel}") from None
        except OSError as exc:
            raise LedgerError(f"{self.path}/{rel}: {exc.strerror}") from None

    def _read_entries(self, size: int) -> Iterator[Entry]:
        for k in range((size + TILE_WIDTH - 1) // TILE_WIDTH):
            w = min(TILE_WIDTH, size - k * TILE_WIDTH)
            rel = tiles.entries_path(k, w)
            data = self._read(rel)
            try:
                raws = tiles.decode_entry_bundle(data)
            except FormatError as exc:
                raise LedgerError(f"{self.path}/{rel}: {exc.message}") from None
            if len(raws) != w:
                raise LedgerError(f"{self.path}/{rel}: expected {w} entries, got {len(raws)}")
            for i, raw in enumerate(raws):
                seq = k * TILE_WIDTH + i
                try:
                    yield parse_entry(raw, where=f"{rel} entry {seq}")
                except FormatError as exc:
                    raise LedgerError(f"{self.path}/{exc.message}") from None

    def _add(self, e: Entry) -> None:
        self.tree.append(e.raw)
        self._bundles.setdefault(e.seq // TILE_WIDTH, []).append(e.raw)
        self._entries.append(e)

    # ------------------------------------------------------------------ reading

    @property
    def log_vkey(self) -> str:
        return self.state.log_key

    def entries(self) -> list[Entry]:
        """The entries 0..size-1 (parsed and checked)."""
        return list(self._entries[: self.size])

    def checkpoint_bytes(self) -> bytes:
        return self._checkpoint_bytes

    def keys_summary(self) -> dict:
        """The public key history (``keys.json``, spec §9.4)."""
        return self.state.keys_summary()

    def get_blob(self, ref: str) -> bytes:
        rel = blob_path(ref)
        data = self._read(rel)
        if blob_ref(data) != ref:
            raise IntegrityError(f"{self.path}/{rel}: content does not match its name (expected {ref}, "
                                 f"got {blob_ref(data)})")
        return data

    def has_blob(self, ref: str) -> bool:
        return (self.path / blob_path(ref)).is_file()

    # ------------------------------------------------------------------ writing

    def put_blob(self, data: bytes) -> str:
        """Store *data* as a blob (idempotent); returns ``"sha256:<hex>"``."""
        if not isinstance(data, (bytes, bytearray)):
            raise FormatError(f"blob: expected bytes, got {type(data).__name__}")
        ref = blob_ref(bytes(data))
        self._publish(blob_path(ref), bytes(data))
        return ref

    def append(self, type: str, body: dict, signer, time: str) -> Entry:
        """Sign and append one entry (see the module docstring); returns it once committed."""
        return self.append_batch([(type, body, signer, time)])[0]

    def append_batch(self, items: Iterable[tuple[str, dict, object, str]]) -> list[Entry]:
        """Append several entries under one lock and one new checkpoint (all or nothing)."""
        items = list(items)
        if self._log_signer is None:
            raise LedgerError(f"{self.path}: opened read-only",
                              hint="open the ledger with the log key to append (Ledger.open(path, log_signer=…))")
        with self._locked():
            snapshot = self._snapshot()
            built: list[Entry] = []
            try:
                for type_, body, signer, time in items:
                    seq = self.size + len(built)
                    prev = built[-1].hash if built else self.state.head
                    e = build_entry(self.origin, seq, prev, time, type_, body, signer)
                    findings = self.state.apply(e)
                    if findings:
                        raise PolicyError(f"refused {type_} (entry {seq}): " + "; ".join(f.message for f in findings))
                    missing = [r for r in blob_refs(e.body)
                               if not self.has_blob(r) and r not in withholdable_refs(e.type, e.body)]
                    if missing:
                        raise PolicyError(f"refused {type_}: the body references blob(s) not stored: "
                                          f"{', '.join(missing)}", hint="store them with put_blob() first")
                    built.append(e)
                self._commit(built)
            except BaseException:
                self._restore(snapshot)  # the in-memory view goes back to the committed ledger
                raise
            return built

    def _snapshot(self):
        return (copy.deepcopy(self.state), self.tree.range.copy(), [len(h) for h in self.tree.tile_hashes],
                {k: len(v) for k, v in self._bundles.items()}, len(self._entries), self.size,
                self._checkpoint_bytes)

    def _restore(self, snap) -> None:
        state, rng, tile_lens, bundle_lens, n_entries, size, cp_bytes = snap
        self.state, self.tree.range = state, rng
        del self.tree.tile_hashes[len(tile_lens):]
        for L, n in enumerate(tile_lens):
            del self.tree.tile_hashes[L][n:]
        for k in list(self._bundles):
            if k not in bundle_lens:
                del self._bundles[k]
            else:
                del self._bundles[k][bundle_lens[k]:]
        del self._entries[n_entries:]
        self.size, self._checkpoint_bytes = size, cp_bytes

    def _commit(self, new: list[Entry]) -> None:
        old_size = self.size
        old_root = self.tree.root()
        for e in new:
            if e.seq == 0:
                self.state.apply(e)  # genesis (create) has not been applied yet
            self._add(e)
        new_size = old_size + len(new)
        for rel, data in self.tree.tile_files(old_size, self._bundles):
            self._publish(rel, data)
        new_root = self.tree.root()
        # Refuse to sign a checkpoint inconsistent with the last one signed (the one on disk).
        if self._checkpoint_bytes:
            last = cp_mod.parse_checkpoint(note.parse_note(self._checkpoint_bytes).text)
            proof = merkle.consistency_proof_from_nodes(last.size, new_size, self.tree.node)
            try:
                merkle.verify_consistency(last.size, new_size, last.root_hash, new_root, proof)
            except IntegrityError as exc:
                raise IntegrityError(f"refusing to sign checkpoint {new_size}: not consistent with the last "
                                     f"signed checkpoint ({exc.message})") from None
            if last.root_hash != old_root or last.size != old_size:
                raise IntegrityError("refusing to sign: the in-memory tree does not extend the last checkpoint")
        text = cp_mod.format_checkpoint(cp_mod.Checkpoint(self.origin, new_size, new_root, ()))
        cp_bytes = note.sign_note(text, self._log_signer)
        self._write_atomic("checkpoint", cp_bytes)  # the commit point
        self._checkpoint_bytes = cp_bytes
        self.size = new_size
        self._drop_superseded_partials(old_size, new_size)

    # ------------------------------------------------------------------ files

    def _locked(self):
        ledger = self

        class _Lock:
            def __enter__(self_inner):
                ledger._acquire()

            def __exit__(self_inner, *exc):
                ledger._release()

        return _Lock()

    def _acquire(self, timeout: float = 30.0) -> None:
        fd = os.open(self.path / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = _time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if _time.monotonic() > deadline:
                    os.close(fd)
                    raise LedgerError(f"{self.path}: locked by another writer for more than {timeout:.0f} s",
                                      hint=f"another `sunshine` process is appending; {LOCK_FILE} holds its lock")
                _time.sleep(0.02)
        self._lock_fd = fd
        try:
            on_disk = (self.path / "checkpoint").read_bytes() if (self.path / "checkpoint").exists() else b""
            if on_disk != self._checkpoint_bytes:
                self._load()  # another writer appended since we read it
            self._remove_torn_leftovers()
        except BaseException:
            self._release()
            raise

    def _release(self) -> None:
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None

    def _remove_torn_leftovers(self) -> None:
        """Delete what an interrupted append left beyond the checkpoint (never published)."""
        size = self.size
        for rel in list(self._walk("tile")):
            try:
                t = tiles.parse_tile_path(rel)
            except FormatError:
                continue
            index, width = t.index, t.width
            span = 1 if t.is_entries else TILE_WIDTH ** t.level
            if (index * TILE_WIDTH + width) * span > size:
                os.unlink(self.path / rel)
        for dirpath, _dirs, files in os.walk(self.path):
            for f in files:
                if f.startswith(".") and f.endswith(".tmp"):
                    os.unlink(os.path.join(dirpath, f))

    def _drop_superseded_partials(self, old_size: int, new_size: int) -> None:
        """After a commit: partial tiles whose full tile is now committed.

        tlog-tiles: a log MUST serve the partial tiles of every size it published a checkpoint for, but
        MAY omit a partial tile once the corresponding full tile is available.
        """
        for rel in list(self._walk("tile")):
            if ".p/" not in rel:
                continue
            try:
                t = tiles.parse_tile_path(rel)
            except FormatError:
                continue
            index = t.index
            span = 1 if t.is_entries else TILE_WIDTH ** t.level
            committed = min(TILE_WIDTH, new_size // span - index * TILE_WIDTH)  # this tile's committed width
            if committed == TILE_WIDTH:
                os.unlink(self.path / rel)

    def _walk(self, top: str) -> Iterator[str]:
        base = self.path / top
        for dirpath, _dirs, files in os.walk(base):
            for f in files:
                if not f.startswith("."):
                    yield os.path.relpath(os.path.join(dirpath, f), self.path).replace(os.sep, "/")

    def _publish(self, rel: str, data: bytes) -> None:
        """Write an immutable file; identical bytes are fine, different bytes are refused."""
        target = self.path / rel
        if target.exists():
            if target.read_bytes() == data:
                return
            raise IntegrityError(f"refusing to rewrite published file {target} with different bytes",
                                 hint="the ledger directory was modified outside sunshine; run `sunshine verify`")
        self._write_atomic(rel, data)

    def _mkdirs(self, d: Path) -> None:
        if d.is_dir():
            return
        self._mkdirs(d.parent)
        try:
            d.mkdir()
        except FileExistsError:
            return
        if self._sync:
            _fsync_dir(d.parent)

    def _write_atomic(self, rel: str, data: bytes) -> None:
        target = self.path / rel
        self._mkdirs(target.parent)
        tmp = target.parent / f".{target.name}.{os.getpid()}.tmp"
        with open(tmp, "wb") as f:
            f.write(data)
            if self._sync:
                f.flush()
                os.fsync(f.fileno())
        os.rename(tmp, target)
        if self._sync:
            _fsync_dir(target.parent)


class DirectoryFiles:
    """A read-only ``path -> bytes`` mapping over a ledger directory, for :mod:`sunshine.verify`.

    Files are read when asked for; a missing file raises ``KeyError``. :meth:`listing` gives every
    published file (dot-files and dot-directories excluded).
    """

    def __init__(self, path) -> None:
        self.path = Path(path)
        if not self.path.is_dir():
            raise LedgerError(f"{self.path}: no such ledger directory")

    def __getitem__(self, rel: str) -> bytes:
        if rel.startswith("/") or ".." in rel.split("/"):
            raise KeyError(rel)
        try:
            return (self.path / rel).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise KeyError(rel) from None
        except OSError as exc:
            raise LedgerError(f"{self.path / rel}: {exc.strerror}") from None

    def get(self, rel: str, default=None):
        try:
            return self[rel]
        except KeyError:
            return default

    def listing(self) -> list[str]:
        out = []
        for dirpath, dirs, files in os.walk(self.path):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            for f in files:
                if not f.startswith("."):
                    out.append(os.path.relpath(os.path.join(dirpath, f), self.path).replace(os.sep, "/"))
        return sorted(out)
