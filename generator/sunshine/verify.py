"""Verification of a published ledger, in three layers (pure; spec ``docs/spec/ledger.md`` §13).

Input is the ledger's files as a mapping ``path -> bytes`` (a dict in memory, or a lazy mapping over a
directory or a web server; a missing file raises ``KeyError``), plus optionally the list of every file
present (so that stray or superseded files are checked too).

* **Layer 1 — any C2SP tlog-tiles log**: the checkpoint's signature by the log key, the entry bundles,
  every hash tile, the Merkle root, and consistency with the checkpoint this verifier saw last time
  (a different root for an old size is a fork).
* **Layer 2 — ledger semantics**: every entry parses strictly, the hash chain, every signature, the
  signer registered and allowed for the entry type, the key valid at the entry's time, blobs present and
  matching their hashes, witness cosignatures.
* **Layer 3 — domain rules the ledger can show**: one live commitment per task, the draw steps in order
  (commit → randomness → lock → dispatch; nothing redrawn after the randomness), draws recomputed with
  :func:`sunshine.draw.recompute` (sealed strata: the public checks of :func:`sunshine.draw.sealed_public_checks`,
  or in full with the task's opening file), results published within the working-day
  deadline, corrections after an original result.

Tamper evidence is an ``integrity`` finding (exit code 4); a rule broken by validly signed entries is a
``policy`` finding (exit code 3).
"""

from __future__ import annotations

import base64
import gc
import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Callable, Iterable, Mapping

from . import checkpoint as cp_mod
from . import merkle, note, tiles
from .entries import (Entry, Finding, LedgerState, blob_refs, parse_entry, parse_entry_fields, signed_message,
                      unsigned_bytes, withholdable_refs)
from .errors import EXIT_INTEGRITY, EXIT_OK, EXIT_POLICY, CalendarError, FormatError, IntegrityError, SunshineError

TILE_WIDTH = 256
#: Entries parsed and signature-checked per call of :func:`check_entries` (one unit of parallel work).
ENTRY_CHUNK = 1024
#: Below this many entries everything runs in this process: a process pool would cost more than it saves.
PARALLEL_MIN_ENTRIES = 2000
_BLOB_PATH = re.compile(r"^blob/sha256/([0-9a-f]{64})\Z")
_KEY_ENTRY_ENDINGS = (b'"type":"key.register","v":1}', b'"type":"key.rotate","v":1}')

#: ``[(message, signature, public_key), …] -> [bool, …]``: how signatures are checked (parallel or not).
#: It may also have a ``run`` attribute: ``run(function, *args)`` starts ``function(*args)`` elsewhere (a
#: worker process) and returns an object whose ``result()`` waits for the value (a future); verify then
#: hands the strict parsing and signature checks of chunks of entries to it (:func:`check_entries`).
SignatureChecker = Callable[[list[tuple[bytes, bytes, bytes]]], list[bool]]


def check_signatures_serial(batch: list[tuple[bytes, bytes, bytes]]) -> list[bool]:
    """Check ``(message, signature, public_key)`` triples; the verdicts are those of ``cryptography`` (OpenSSL).

    When PyNaCl is importable, libsodium (about twice as fast here) checks each signature first and
    only its *rejections* are re-checked by OpenSSL, whose verdict stands. This gives OpenSSL's verdicts
    because libsodium accepts a subset of what OpenSSL accepts: both check ``[S]B = R + [k]A`` without the
    cofactor and reject ``S >= L``; libsodium also rejects small-order and non-canonical ``A`` and ``R``
    (the ed25519-speccheck cases 0-2 pass OpenSSL, not libsodium; tests/test_verify_backend.py).
    """
    try:
        from nacl.bindings import crypto_sign_open  # optional faster backend, imported lazily
        from nacl.exceptions import CryptoError
    except ImportError:
        return _check_signatures_openssl(batch)
    out: list[bool] = []
    again: list[int] = []
    for i, (msg, sig, pub) in enumerate(batch):
        try:
            if len(sig) != 64 or len(pub) != 32:  # sig + msg must split where OpenSSL splits; it decides
                raise ValueError
            crypto_sign_open(sig + msg, pub)
            out.append(True)
        except (CryptoError, ValueError, TypeError):
            out.append(False)
            again.append(i)
    if again:
        for i, ok in zip(again, _check_signatures_openssl([batch[i] for i in again])):
            out[i] = ok
    return out


def _check_signatures_openssl(batch: list[tuple[bytes, bytes, bytes]]) -> list[bool]:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    out = []
    cache: dict[bytes, Ed25519PublicKey] = {}
    for msg, sig, pub in batch:
        key = cache.get(pub)
        if key is None:
            key = cache[pub] = Ed25519PublicKey.from_public_bytes(pub)
        try:
            key.verify(sig, msg)
            out.append(True)
        except InvalidSignature:
            out.append(False)
    return out


#: What :func:`check_entries` gives for one entry: its fields as :func:`~sunshine.entries.parse_entry_fields`
#: returns them ``(seq, prev, time, type, signer, body, sig, hash)``, then the public key its signature
#: was checked with and the verdict (``None, None`` when *keys* names no key for its signer).
CheckedEntry = tuple[int, str, str, str, str, dict, bytes, str, "bytes | None", "bool | None"]


def check_entries(origin: str, keys: Mapping[str, bytes], start: int, raws: list[bytes]) -> list:
    """Parse entries ``start, start + 1, …`` strictly and check each one's signature (pure; one unit of work).

    Each signature is checked (:func:`check_signatures_serial`) with the key that *keys* gives for its
    signer's name. That is a guess made before replaying the ledger (:func:`signing_keys`): the replay
    uses a verdict only if the key it resolves for the entry is the key used here, and checks the
    signature again otherwise. Returns one :data:`CheckedEntry` per entry; the first entry that does not
    parse ends the list with its error message (a ``str``: ``"entry <seq>: …"``, as :func:`parse_entry`
    words it).
    """
    out: list = []
    batch: list[tuple[bytes, bytes, bytes]] = []
    where: list[int] = []
    try:
        prefix = signed_message(origin, b"")
    except UnicodeEncodeError:  # not a ledger's origin: entry 0 will say so; check nothing here
        prefix, keys = b"", {}
    for k, raw in enumerate(raws):
        try:
            f = parse_entry_fields(raw, f"entry {start + k}")
        except FormatError as exc:
            out.append(exc.message)
            break
        pub = keys.get(f[4])
        if pub is None:
            out.append((*f, None, None))
            continue
        where.append(len(out))
        batch.append((prefix + unsigned_bytes(raw), f[6], pub))
        out.append(f)
    for n, (_msg, _sig, pub), ok in zip(where, batch, check_signatures_serial(batch)):
        out[n] = (*out[n], pub, ok)
    return out


def signing_keys(raws: list[bytes]) -> dict[str, bytes]:
    """The public key each signer name will stand for when the ledger is replayed, guessed in advance.

    Keys are registered by the genesis entry and by ``key.register``/``key.rotate`` entries (found by
    their canonical ending) and a name keeps its first key; the log key's name means the log key unless
    a registered key has the name. Entries that do not parse are skipped here (the replay reports them).
    The guess is only an optimisation: the replay checks every signature whose key it resolves differently.
    """
    keys: dict[str, bytes] = {}
    log: tuple[str, bytes] | None = None
    for seq, raw in enumerate(raws):
        if seq and not raw.endswith(_KEY_ENTRY_ENDINGS):
            continue
        try:
            e = parse_entry(raw)
            if seq == 0 and e.type == "genesis":
                v = note.parse_verifier_key(e.body["log_key"])
                log = (v.name, v.public_key)
                records = e.body["keys"]
            elif e.type in ("key.register", "key.rotate"):
                records = [e.body["key"]]
            else:
                continue
            for rec in records:
                keys.setdefault(rec["name"], base64.b64decode(rec["public_key"]))
        except SunshineError:
            continue
    if log is not None:
        keys.setdefault(*log)
    return keys


class _EntryWork:
    """The parse and signature results of every entry, chunk by chunk in ledger order.

    With a parallel runner (and enough entries) every chunk is started at once; otherwise each chunk is
    worked out in this process when the replay reaches it."""

    def __init__(self, origin: str, raws: list[bytes], run) -> None:
        self.origin, self.raws = origin, raws
        self.keys = signing_keys(raws)
        self.futures = None
        if run is not None and len(raws) >= PARALLEL_MIN_ENTRIES:
            self.futures = [run(check_entries, origin, self.keys, start, raws[start:start + ENTRY_CHUNK])
                            for start in range(0, len(raws), ENTRY_CHUNK)]

    def __iter__(self):
        for n, start in enumerate(range(0, len(self.raws), ENTRY_CHUNK)):
            if self.futures is not None:
                yield start, self.futures[n].result()
            else:
                yield start, check_entries(self.origin, self.keys, start, self.raws[start:start + ENTRY_CHUNK])

    def cancel(self) -> None:
        for f in self.futures or ():
            cancel = getattr(f, "cancel", None)
            if cancel is not None:
                cancel()


@dataclass
class Report:
    origin: str = ""
    size: int = 0
    root: str = ""
    checkpoint: str = ""
    log_key: str = ""
    log_key_source: str = ""  # "given" (pinned with --vkey) or "genesis" (trust on first use)
    findings: list[Finding] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    types: dict[str, int] = field(default_factory=dict)
    tasks: dict[str, dict] = field(default_factory=dict)
    witnesses: list[dict] = field(default_factory=list)
    layers_run: list[int] = field(default_factory=list)
    keys: dict | None = None
    stored_blobs: list[str] = field(default_factory=list)  # hex names of the blob files (directory mode)

    @property
    def integrity_ok(self) -> bool:
        return not any(f.kind == "integrity" for f in self.findings)

    @property
    def exit_code(self) -> int:
        if not self.integrity_ok:
            return EXIT_INTEGRITY
        if self.findings:
            return EXIT_POLICY
        return EXIT_OK

    @property
    def verdict(self) -> str:
        return {EXIT_OK: "ok", EXIT_POLICY: "policy", EXIT_INTEGRITY: "integrity"}[self.exit_code]

    def add(self, kind: str, layer: int, seq: int | None, message: str) -> None:
        self.findings.append(Finding(kind, layer, seq, message))

    def to_json(self) -> dict:
        return {
            "verdict": self.verdict,
            "exit_code": self.exit_code,
            "origin": self.origin,
            "size": self.size,
            "root": self.root,
            "log_key": self.log_key,
            "log_key_source": self.log_key_source,
            "layers": self.layers_run,
            "findings": [
                {"kind": f.kind, "layer": f.layer, "seq": f.seq, "message": f.message} for f in self.findings
            ],
            "notices": self.notices,
            "entry_types": dict(sorted(self.types.items())),
            "tasks": self.tasks,
            "witnesses": self.witnesses,
        }

    def to_text(self) -> str:
        lines = [f"ledger {self.origin or '?'}: {self.size} entries, root {self.root or '?'}"]
        if self.log_key:
            how = "pinned with --vkey" if self.log_key_source == "given" else "taken from the genesis entry (pin it with --vkey)"
            lines.append(f"log key {self.log_key} ({how})")
        names = {1: "layer 1 (tlog: checkpoint, tiles, Merkle root)", 2: "layer 2 (entries, chain, signers, keys, blobs)",
                 3: "layer 3 (draw order, recomputation, deadlines)"}
        for layer in (1, 2, 3):
            if layer not in self.layers_run:
                lines.append(f"  -    {names[layer]}: not run")
                continue
            fs = [f for f in self.findings if f.layer == layer]
            status = "FAIL" if any(f.kind == "integrity" for f in fs) else ("RULE" if fs else "ok")
            lines.append(f"  {status:<4} {names[layer]}")
            for f in fs[:50]:
                lines.append(f"         {f.kind}: {f}")
            if len(fs) > 50:
                lines.append(f"         … and {len(fs) - 50} more")
        for task, info in sorted(self.tasks.items()):
            lines.append(f"  task {task}: {info['state']}" + (f" — {info['note']}" if info.get("note") else ""))
        for w in self.witnesses:
            lines.append(f"  witness {w['name']} cosigned size {w['size']} (entry {w['seq']})")
        for n in self.notices:
            lines.append(f"  note: {n}")
        verdict = {
            "ok": "OK: the ledger verifies",
            "policy": "RULE FINDINGS: the ledger is intact but breaks rules (exit 3)",
            "integrity": "INTEGRITY FAILURE: the ledger has been tampered with or is damaged (exit 4)",
        }[self.verdict]
        lines.append(verdict)
        return "\n".join(lines)


class _Tree:
    """Merkle nodes of levels 0, 8, 16, … (for tiles and old roots): ``levels[L]`` holds the hashes of the
    complete subtrees of height ``8 L``, left to right, built level by level from the leaf hashes."""

    def __init__(self, leaves: list[bytes]) -> None:
        self.levels: list[list[bytes]] = [leaves]
        level = leaves
        while len(level) >= TILE_WIDTH:
            for _ in range(8):
                level = [merkle.node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
            self.levels.append(level)

    def node(self, level: int, index: int) -> bytes:
        L, r = divmod(level, 8)
        if r == 0:
            return self.levels[L][index]
        return merkle.root(self.levels[L][index << r:(index + 1) << r])

    def root_at(self, size: int) -> bytes:
        return merkle.root_from_nodes(size, self.node)

    def expected_tiles(self, size: int) -> dict[str, bytes]:
        out = {}
        L = 0
        while L < len(self.levels):
            n = size // TILE_WIDTH ** L
            if n == 0:
                break
            for j in range((n + TILE_WIDTH - 1) // TILE_WIDTH):
                end = min(n, (j + 1) * TILE_WIDTH)
                out[tiles.tile_path(L, j, end - j * TILE_WIDTH)] = b"".join(self.levels[L][j * TILE_WIDTH:end])
            L += 1
        return out


def _get(files: Mapping[str, bytes], path: str) -> bytes | None:
    try:
        return files[path]
    except KeyError:
        return None


def verify_files(
    files: Mapping[str, bytes],
    *,
    vkey: str | None = None,
    listing: Iterable[str] | None = None,
    previous: bytes | None = None,
    tlog_only: bool = False,
    check_signatures: SignatureChecker = check_signatures_serial,
    calendar=None,
    recompute_draws: bool = True,
    allow_test_chain: bool = False,
    openings: Mapping[str, dict] | None = None,
) -> Report:
    """Verify a ledger given as files; returns a :class:`Report` (never raises for bad input).

    *vkey* pins the log's verifier key (``name+hash+base64``); without it the key named in the genesis
    entry is used (trust on first use, said in the report). *previous* is the checkpoint note this
    verifier accepted last time for the same origin. *tlog_only* stops after layer 1 (any C2SP log).
    *openings* maps a task id to the opening file of its sealed strata (oversight bodies): that draw is
    then recomputed in full; without one a sealed draw gets the public checks (docs/spec/draw.md §8).
    """
    # Python's cyclic garbage collector would rescan every parsed entry again and again (a third of the
    # time on 100,000 entries); verification makes next to no cyclic garbage, so pause the collector meanwhile.
    paused = gc.isenabled()
    gc.disable()
    try:
        return _verify_files(files, vkey, listing, previous, tlog_only, check_signatures, calendar,
                             recompute_draws, allow_test_chain, openings)
    finally:
        if paused:
            gc.enable()


def _verify_files(files, vkey, listing, previous, tlog_only, check_signatures, calendar, recompute_draws,
                  allow_test_chain, openings) -> Report:
    rep = Report()
    work = None
    try:
        cp_bytes, cp, raws = _read_log(files, rep)
        if not tlog_only:  # start parsing and checking signatures (in parallel) while layer 1 goes on
            work = _EntryWork(rep.origin, raws, getattr(check_signatures, "run", None))
        tree = _layer1(files, vkey, listing, previous, tlog_only, rep, cp_bytes, cp, raws)
        if tlog_only:
            return rep
        rules = _EntryRules(calendar)  # layer 3's per-entry rules, applied during the replay
        state, entries = _layer2(files, raws, work, check_signatures, rep, rules)
    except _Stop:
        return rep
    finally:
        if work is not None:
            work.cancel()  # what is left after a failure
    # cosignatures recorded in checkpoint.witness entries
    _witnesses(entries, state, tree, rep)
    rep.keys = state.keys_summary()
    _layer3(entries, state, files, rep, calendar, recompute_draws, allow_test_chain, openings or {}, rules)
    return rep


class _Stop(Exception):
    pass


def _fail(rep: Report, layer: int, seq: int | None, message: str) -> _Stop:
    rep.add("integrity", layer, seq, message)
    return _Stop()


def _read_log(files, rep: Report):
    """Layer 1, first part: the checkpoint (not yet authenticated) and the entries of its entry bundles."""
    rep.layers_run.append(1)
    cp_bytes = _get(files, "checkpoint")
    if cp_bytes is None:
        raise _fail(rep, 1, None, "checkpoint: missing")
    try:
        parsed = note.parse_note(cp_bytes)
        cp = cp_mod.parse_checkpoint(parsed.text)
    except SunshineError as exc:
        raise _fail(rep, 1, None, f"checkpoint: {exc.message}")
    rep.origin, rep.size, rep.root = cp.origin, cp.size, cp.root_hash.hex()
    rep.checkpoint = parsed.text.decode("utf-8", "replace")

    raws: list[bytes] = []
    for k in range((cp.size + TILE_WIDTH - 1) // TILE_WIDTH):
        w = min(TILE_WIDTH, cp.size - k * TILE_WIDTH)
        rel = tiles.entries_path(k, w)
        data = _get(files, rel)
        if data is None:
            raise _fail(rep, 1, None, f"{rel}: missing (needed for size {cp.size})")
        try:
            bundle = tiles.decode_entry_bundle(data)
        except SunshineError as exc:
            raise _fail(rep, 1, None, f"{rel}: {exc.message}")
        if len(bundle) != w:
            raise _fail(rep, 1, None, f"{rel}: expected {w} entries, got {len(bundle)}")
        raws.extend(bundle)
    return cp_bytes, cp, raws


def _layer1(files, vkey, listing, previous, tlog_only, rep: Report, cp_bytes: bytes, cp, raws: list[bytes]) -> "_Tree":
    """Layer 1: leaf hashes → tree, Merkle root, tiles, stray files, the log key and the checkpoint's signature."""
    tree = _Tree([merkle.leaf_hash(raw) for raw in raws])

    # Cheap checks first: the entries must hash to the (not yet authenticated) root, the tiles must match.
    computed = tree.root_at(cp.size)
    if computed != cp.root_hash:
        raise _fail(rep, 1, None, f"Merkle root of the entries is {computed.hex()}, "
                                  f"the checkpoint says {cp.root_hash.hex()}")
    expected = tree.expected_tiles(cp.size)
    for rel, want in expected.items():
        got = _get(files, rel)
        if got is None:
            rep.add("integrity", 1, None, f"{rel}: missing")
        elif got != want:
            rep.add("integrity", 1, None, f"{rel}: hash tile does not match the entries")
    if listing is not None:
        read = {tiles.entries_path(k, min(TILE_WIDTH, cp.size - k * TILE_WIDTH))  # the bundles raws came from
                for k in range((cp.size + TILE_WIDTH - 1) // TILE_WIDTH)}
        _check_stray_tiles(listing, expected.keys() | read, tree, raws, cp.size, files, rep)
        if not tlog_only:
            _check_blob_files(listing, files, rep)
    if not rep.integrity_ok:
        raise _Stop()
    # The log key: given, or from the genesis entry (ledger mode).
    if vkey is None and not tlog_only:
        try:
            genesis = parse_entry(raws[0], "entry 0") if raws else None
        except FormatError as exc:
            raise _fail(rep, 1, 0, exc.message)
        if genesis is None or genesis.type != "genesis":
            raise _fail(rep, 1, 0, "expected a genesis entry naming the log key")
        vkey, rep.log_key_source = genesis.body["log_key"], "genesis"
    elif vkey is None:
        raise _fail(rep, 1, None, "a verifier key (--vkey) is needed to verify a log that is not a Sunshine ledger")
    else:
        rep.log_key_source = "given"
    rep.log_key = vkey
    try:
        verifier = note.parse_verifier_key(vkey)
    except SunshineError as exc:
        raise _fail(rep, 1, None, f"verifier key: {exc.message}")
    try:
        note.open_note(cp_bytes, [verifier])
    except SunshineError as exc:
        raise _fail(rep, 1, None, f"checkpoint signature: {exc.message}")
    if cp.origin != verifier.name:
        rep.notices.append(f"the log key is named {verifier.name!r}, the checkpoint origin is {cp.origin!r}")

    if previous is not None:
        _check_previous(previous, verifier, cp, tree, rep)
    if not rep.integrity_ok:
        raise _Stop()
    return tree


def _check_blob_files(listing, files, rep: Report) -> None:
    """Every stored blob must hash to its name, even one no entry references (checked early: it is cheap)."""
    for rel in sorted(listing):
        if not rel.startswith("blob/"):
            continue
        m = _BLOB_PATH.match(rel)
        if not m:
            rep.notices.append(f"{rel}: not a blob path; ignored")
            continue
        data = _get(files, rel)
        if data is not None and hashlib.sha256(data).hexdigest() != m.group(1):
            rep.add("integrity", 2, None, f"{rel}: content does not match its hash")
        elif data is not None:
            rep.stored_blobs.append(m.group(1))


def _check_stray_tiles(listing, current, tree: _Tree, raws: list[bytes], size: int, files, rep: Report) -> None:
    """Files under tile/ other than the *current* ones: superseded partial tiles must be prefixes."""
    for rel in sorted(listing):
        if not rel.startswith("tile/") or rel in current:
            continue
        try:
            t = tiles.parse_tile_path(rel)
        except SunshineError:
            rep.notices.append(f"{rel}: not a tile path; ignored")
            continue
        level, index, width = t.level, t.index, t.width
        span = 1 if t.is_entries else TILE_WIDTH ** level
        if (index * TILE_WIDTH + width) * span > size:
            rep.notices.append(f"{rel}: beyond the checkpoint (left by an interrupted append, not published)")
            continue
        data = _get(files, rel)
        if data is None:
            continue
        if t.is_entries:
            start = index * TILE_WIDTH
            try:
                ok = tiles.decode_entry_bundle(data) == raws[start:start + width]
            except SunshineError:
                ok = False
        else:
            ok = data == b"".join(tree.levels[level][index * TILE_WIDTH:index * TILE_WIDTH + width])
        if not ok:
            rep.add("integrity", 1, None, f"{rel}: superseded partial tile does not match the log")


def _check_previous(previous: bytes, verifier, cp, tree: _Tree, rep: Report) -> None:
    try:
        old_note = note.open_note(previous, [verifier])
        old = cp_mod.parse_checkpoint(old_note.text)
    except SunshineError as exc:
        rep.notices.append(f"the remembered checkpoint cannot be used: {exc.message}")
        return
    if old.origin != cp.origin:
        return
    if old.size > cp.size:
        rep.add("integrity", 1, None, f"rollback: this log has {cp.size} entries, but a checkpoint of size "
                                      f"{old.size} was verified before")
        return
    if tree.root_at(old.size) != old.root_hash:
        rep.add("integrity", 1, None, f"fork: the checkpoint verified before (size {old.size}, root "
                                      f"{old.root_hash.hex()}) is not a prefix of this log")
    else:
        rep.notices.append(f"consistent with the checkpoint verified before (size {old.size})")


def _layer2(files, raws: list[bytes], work: _EntryWork, check_signatures: SignatureChecker, rep: Report,
            rules: "_EntryRules | None" = None):
    """Replay the entries in order from their parse results; blobs; then the signature verdicts.

    The first entry that does not parse or breaks the chain ends the replay (integrity). Signature
    verdicts come from :func:`check_entries` when it used the key the replay resolves for the entry;
    the others are checked here."""
    rep.layers_run.append(2)
    state = LedgerState(rep.origin)
    entries: list[Entry] = []
    verdicts: list[tuple[bytes | None, bool | None]] = []
    types = rep.types
    findings = rep.findings
    for start, results in work:
        for k, r in enumerate(results):
            seq = start + k
            if r.__class__ is str:
                raise _fail(rep, 2, seq, r)
            e = Entry(r[0], r[1], r[2], r[3], r[4], r[5], r[6], raws[seq], r[7])
            types[e.type] = types.get(e.type, 0) + 1
            try:
                found = state.apply(e, defer_signatures=True)
            except SunshineError as exc:
                raise _fail(rep, 2, seq, exc.message)
            if found:
                findings.extend(found)
            entries.append(e)
            verdicts.append((r[8], r[9]))
            if rules is not None:
                rules.feed(e)
    if rep.log_key_source == "given" and state.log_key != rep.log_key:
        rep.add("integrity", 2, 0, f"the genesis entry names log key {state.log_key!r}, not the pinned key")
    # blobs: every referenced blob present and matching; every stored blob matching its name
    seen: set[str] = set()
    for e in entries:
        if b'"sha256:' not in e.raw:
            continue
        for ref in blob_refs(e.body):
            if ref in seen:
                continue
            seen.add(ref)
            rel = "blob/sha256/" + ref[7:]
            data = _get(files, rel)
            if data is None:
                if ref in withholdable_refs(e.type, e.body):
                    seen.discard(ref)  # a no-notice outcome, published later: checked in layer 3
                    continue
                rep.add("integrity", 2, e.seq, f"{rel}: missing (referenced by entry {e.seq})")
            elif hashlib.sha256(data).hexdigest() != ref[7:]:
                rep.add("integrity", 2, e.seq, f"{rel}: content does not match its hash")
    for hexdigest in rep.stored_blobs:
        if "sha256:" + hexdigest not in seen:
            rep.notices.append(f"blob/sha256/{hexdigest}: a blob no entry references (left by an interrupted append?)")
    if not rep.integrity_ok:
        raise _Stop()
    bad: list[int] = []
    again: list[Entry] = []
    batch: list[tuple[bytes, bytes, bytes]] = []
    for e, pub in state.pending:
        used, ok = verdicts[e.seq]
        if used is not None and (used is pub or used == pub):
            if not ok:
                bad.append(e.seq)
        else:  # checked with another key (or not at all) before the replay: check it now
            again.append(e)
            batch.append((signed_message(state.origin, e.unsigned_bytes()), e.sig, pub))
    if batch:
        bad.extend(e.seq for e, ok in zip(again, check_signatures(batch)) if not ok)
    for seq in sorted(bad):
        rep.add("integrity", 2, seq, f"signature by {entries[seq].signer!r} does not verify")
    state.pending = []
    if not rep.integrity_ok:
        raise _Stop()
    return state, entries


def cosignature_verifiers(state: LedgerState) -> list:
    """tlog-cosignature/v1 verifiers of the witness keys registered in the ledger."""
    return [note.new_verifier(k.name, k.public_key, note.ALG_COSIGNATURE_V1)
            for k in state.keys.values() if k.role == "witness"]


def _witnesses(entries: list[Entry], state: LedgerState, tree: _Tree, rep: Report) -> None:
    verifiers = {v.name: v for v in cosignature_verifiers(state)}
    for e in entries:
        if e.type != "checkpoint.witness":
            continue
        text = e.body["checkpoint"].encode("utf-8")
        try:
            wcp = cp_mod.parse_checkpoint(text)
            sigs = note.parse_note(text + b"\n" + "\n".join(e.body["cosignatures"]).encode("utf-8") + b"\n").signatures
        except SunshineError as exc:
            rep.add("integrity", 2, e.seq, f"checkpoint.witness: {exc.message}")
            continue
        if wcp.origin != rep.origin or wcp.size > e.seq or tree.root_at(wcp.size) != wcp.root_hash:
            rep.add("integrity", 2, e.seq, f"checkpoint.witness: the cosigned checkpoint (size {wcp.size}) is "
                                           "not a checkpoint of this log before this entry")
            continue
        for sig in sigs:
            v = verifiers.get(sig.name)
            if v is None:
                rep.add("policy", 2, e.seq, f"checkpoint.witness: {sig.name!r} is not a registered witness key")
                continue
            try:
                ts = note.verify_cosignature(text, sig, v)
            except SunshineError as exc:
                rep.add("integrity", 2, e.seq, f"checkpoint.witness: {exc.message}")
                continue
            rep.witnesses.append({"name": sig.name, "size": wcp.size, "seq": e.seq, "timestamp": ts})


# --------------------------------------------------------------------------- layer 3


class _EntryRules:
    """Layer 3's rules over the entries in ledger order (draw steps, results, deadlines), applied while layer 2
    replays them; the findings wait in :attr:`found` until layer 3 runs (only if layers 1 and 2 pass).

    If a rule fails with an exception, feeding stops and layer 3 applies the rules to every entry again
    itself (so the exception surfaces where it always did)."""

    def __init__(self, calendar) -> None:
        from . import ceremony, workdays

        self.tracker = ceremony.DrawTracker()
        self.found = Report()
        self.results: dict[tuple[str, str, str], int] = {}
        self.deadlines: dict[str, str] = {}
        self.add_workdays = calendar.add_workdays if calendar is not None else workdays.add_workdays
        self.publish_days: int | None = None
        self.broken = False

    def feed(self, e: Entry) -> None:
        if not self.broken:
            try:
                self.apply(e)
            except Exception:
                self.broken = True

    def apply(self, e: Entry) -> None:
        b = e.body
        if self.publish_days is None:  # the genesis entry
            self.publish_days = b.get("settings", {}).get("publish_within_workdays", 20)
        if e.type.startswith("draw."):
            for m in self.tracker.apply(e):
                self.found.add("policy", 3, e.seq, m)
        elif e.type in ("result.publish", "result.correct"):
            key = (b["task"], b["target"], b["department"])
            have = self.results.get(key)
            if e.type == "result.publish":
                if have is not None:
                    self.found.add("policy", 3, e.seq, f"result for {b['target']} in task {b['task']} by "
                                                       f"{b['department']} published again; a change must be a "
                                                       "result.correct")
                if self.tracker.get(b["task"]).state not in ("locked", "dispatched"):
                    self.found.add("policy", 3, e.seq, f"result for task {b['task']} before its draw was locked")
                due = self.deadlines.get(b["inspection_end"])
                if due is None or e.time[:10] > due:  # not computed yet, or published late
                    _deadline(e, self.publish_days, self.add_workdays, self.found, self.deadlines)
                self.results[key] = max(have or 0, 1)
            else:
                if have is None:
                    self.found.add("policy", 3, e.seq, f"correction of a result that was never published "
                                                       f"({b['target']}, task {b['task']})")
                elif b["version"] != have + 1:
                    self.found.add("policy", 3, e.seq, f"correction version: expected {have + 1}, got {b['version']}")
                self.results[key] = max(have or 0, b["version"])


def _layer3(entries: list[Entry], state: LedgerState, files, rep: Report, calendar, recompute_draws: bool,
            allow_test_chain: bool, openings: Mapping[str, dict] | None = None,
            rules: _EntryRules | None = None) -> None:
    """Draw order (the ceremony's own :class:`~sunshine.ceremony.DrawTracker`), recomputation, results.

    *rules* is the :class:`_EntryRules` fed during layer 2 (made and fed here if not given or broken)."""
    from . import ceremony
    from . import draw as draw_mod

    rep.layers_run.append(3)
    openings = openings or {}
    if rules is None or rules.broken:
        rules = _EntryRules(calendar)
        for e in entries:
            rules.apply(e)
    rep.findings.extend(rules.found.findings)
    tracker = rules.tracker

    def get_blob(ref: str) -> bytes:
        data = _get(files, "blob/sha256/" + ref[7:]) if isinstance(ref, str) and ref.startswith("sha256:") else None
        if data is None or hashlib.sha256(data).hexdigest() != ref[7:]:
            raise IntegrityError(f"blob {ref}: missing or damaged")
        return data

    for task, t in sorted(tracker.tasks.items()):
        if t.lock is not None and isinstance(t.lock.body.get("outcome"), str) and not (
                t.commit is not None and t.commit.body.get("notice") == "no_notice" and t.list_reveal is None):
            try:  # withheld only for a no-notice task, until its list reveal (entries.withholdable_refs)
                get_blob(t.lock.body["outcome"])
            except IntegrityError:
                rep.add("integrity", 3, t.lock.seq, f"task {task}: the lock's outcome document "
                                                    f"{t.lock.body['outcome']} is not published (only a no-notice "
                                                    "task's outcome is withheld, until its list reveal)")
                continue
        if recompute_draws and t.lock is not None and t.commit is not None and t.randomness is not None:
            _recompute(draw_mod, ceremony, t, get_blob, rep, allow_test_chain=allow_test_chain,
                       opening=openings.get(task))
        rep.tasks[task] = {"state": t.state, "commitments": t.commits, "voided": len(t.voided),
                           "replacements": len(t.replacements), "note": t.note}
    if not recompute_draws and any(t.lock is not None for t in tracker.tasks.values()):
        rep.notices.append("draws not recomputed (recomputation switched off)")
    for task in sorted(openings):
        t = tracker.tasks.get(task)
        if t is None or t.lock is None:
            rep.notices.append(f"opening file for task {task}: the ledger has no locked draw of that task; not used")
        elif t.commit is not None and "sealed" not in t.commit.body:
            rep.notices.append(f"opening file for task {task}: its strata are public; not used")


def _deadline(e: Entry, n: int, add_workdays, rep: Report, memo: dict[str, str]) -> None:
    """Report a result published after its deadline, *n* working days after the inspection ended.

    *memo* maps an ``inspection_end`` to its deadline; dates are compared as ``YYYY-MM-DD`` strings
    (checked by parse_entry), which order as the dates do."""
    end = e.body["inspection_end"]
    due = memo.get(end)
    if due is None:
        try:
            due = add_workdays(date.fromisoformat(end), n).isoformat()
        except CalendarError as exc:
            rep.add("policy", 3, e.seq, f"publication deadline cannot be computed: {exc.message}")
            return
        memo[end] = due
    published = e.time[:10]
    if published > due:
        rep.add("policy", 3, e.seq, f"result for {e.body['target']} (task {e.body['task']}) published {published}, "
                                    f"after the deadline {due} ({n} working days after the inspection ended {end})")


def _recompute(draw_mod, ceremony, t, get_blob, rep: Report, *, allow_test_chain: bool,
               opening: dict | None = None) -> None:
    """Recompute a locked draw from its commitment and randomness; compare with the lock; replay replacements.

    Sealed strata (docs/spec/draw.md §8): with the task's *opening* file the draw is recomputed in full;
    without it the public checks run (:func:`sunshine.draw.sealed_public_checks`)."""
    lock = t.lock
    list_reveal = t.list_reveal.body if t.list_reveal is not None else None
    try:
        c = draw_mod.load_commitment(t.commit.body, get_blob)
        if any(mode == "with_list" for _d, _c, mode in c.contributions) and t.list_reveal is None:
            t.note = "no-notice task: the draw is recomputed once the list is revealed"
            return
        if c.sealed and opening is None:
            check = draw_mod.sealed_public_checks(t.commit.body, t.randomness.body, lock.body, get_blob,
                                                  list_reveal=list_reveal, allow_test_chain=allow_test_chain)
            for d in check.differences:
                rep.add("integrity", 3, lock.seq, f"task {t.task}: {d}")
            if check.differences:
                t.note = "sealed strata: the public checks FAIL"
                return
            for e in t.replacements:
                for msg in draw_mod.apply_sealed_replacement(check, e.type, e.body):
                    rep.add("policy", 3, e.seq, f"task {t.task}: {msg}")
            t.note = ("sealed strata: seed, counts, cut-offs, tickets of the selected and teams checked; "
                      "membership needs the opening file")
            return
        # draw_mod.recompute without loading the commitment a second time. One process: verify is pure, and
        # the CLI's signature-checking pool is still running here (sunshine.draw_parallel never forks threads)
        values = draw_mod.load_randomness(c, t.randomness.body, list_reveal=list_reveal, allow_test_chain=allow_test_chain)
        outcome = draw_mod.compute(c, values, opening=opening if c.sealed else None)
        diffs = draw_mod.compare_with_lock(outcome, lock.body, get_blob, commit_body=t.commit.body,
                                           randomness_body=t.randomness.body)
    except SunshineError as exc:
        kind = "integrity" if exc.exit_code == EXIT_INTEGRITY else "policy"
        rep.add(kind, 3, lock.seq, f"task {t.task}: the draw cannot be recomputed: {exc.message}")
        return
    for d in diffs:
        rep.add("integrity", 3, lock.seq, f"task {t.task}: {d}")
    if diffs:
        return
    for e, msg in ceremony.replay_replacements(outcome, t.replacements):
        rep.add("policy", 3, e.seq, msg)
    t.note = ("sealed strata opened with the opening file; draw recomputed: matches the lock" if c.sealed else
              "draw recomputed from its commitment and randomness: matches the lock")
