"""Public randomness for the draw: drand quicknet beacons, lottery results, department contributions.

**drand quicknet** (League of Entropy mainnet, https://drand.love). Pinned here, never fetched:

=============  ====================================================================================
chain hash     ``52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971``
public key     ``83cf0f28…5ece45a`` (96 bytes, compressed G2; :data:`QUICKNET`)
genesis        1692803367 (2023-08-23T15:09:27Z); period 3 s
scheme         ``bls-unchained-g1-rfc9380``: signature on G1 (48 bytes compressed), key on G2
=============  ====================================================================================

Sources for these values are cited in ``tests/vectors/drand/README.md`` (drand's tlock-js defaults,
the drand HTTP API documentation, and the quicknet launch post).

Beacon JSON (the relays' ``/{chain}/public/{round}`` or ``/v2/beacons/quicknet/rounds/{round}``)::

    {"round": R, "randomness": "<64 hex>", "signature": "<96 hex>"}     # "randomness" optional

Verification (drand's unchained G1 scheme, RFC 9380 hash-to-curve)::

    msg  = SHA-256(R as 8-byte big-endian)
    H    = hash_to_G1(msg, DST = "BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_")
    check e(signature, g2) == e(H, public_key), signature in the prime-order subgroup
    randomness = SHA-256(signature)                # must equal "randomness" when present
    round time = genesis + (R - 1) * period        # the earliest time the round can exist

The beacon JSON is kept verbatim (the ``draw.randomness`` entry stores the text), so a verifier
needs no network. :func:`verify_beacon` imports ``py_ecc`` lazily; one verification takes about
two seconds in pure Python and results are memoised.

**Lottery results named in advance** (RFC 3797 §4 style): each lottery result is a list of groups of
non-negative integers; each group is sorted ascending and written as decimal numbers each followed
by ``"."``, and each group is terminated by ``"/"``: ``[[9319], [2, 5, 12, 8, 10]]`` →
``"9319./2.5.8.10.12./"`` (the example of RFC 3797 §6).

**Department contributions**: a department commits to a 32-byte secret before the randomness
exists and reveals it afterwards::

    commitment = SHA-256(frame("sunshine.draw/v1", "contribution", task, department, secret))

(``frame`` is the length-prefixed encoding of ``docs/spec/draw.md`` §2.)

A **test chain** (:data:`TEST_CHAIN`) with a published secret key exists for pipeline tests and the
sample data. It uses the same scheme; :func:`verify_beacon` refuses it unless the caller passes
``allow_test_chain=True``.

Pure: no I/O, no clock (callers pass "now"), no randomness.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from dataclasses import dataclass
from functools import lru_cache

from .errors import BeaconError, FormatError

ALGORITHM = "sunshine.draw/v1"
DST_G1 = b"BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_"
SCHEME = "bls-unchained-g1-rfc9380"


def frame(*parts: bytes | str) -> bytes:
    """The length-prefixed encoding: for each part, 4-byte big-endian length then the bytes.

    ``str`` parts are UTF-8 encoded. ``docs/spec/draw.md`` §2.
    """
    out = bytearray()
    for p in parts:
        b = p.encode("utf-8") if isinstance(p, str) else bytes(p)
        if len(b) >= 1 << 32:
            raise ValueError("a framed part must be shorter than 2**32 bytes")
        out += len(b).to_bytes(4, "big")
        out += b
    return bytes(out)


@dataclass(frozen=True, slots=True)
class Chain:
    """A drand chain's parameters, pinned in code (never taken from a beacon)."""

    name: str
    chain_hash: str  # 64 lowercase hex
    public_key: bytes  # 96-byte compressed G2 point
    genesis: int  # Unix seconds of round 1
    period: int  # seconds between rounds
    scheme: str = SCHEME
    test_only: bool = False

    def round_time(self, round_: int) -> int:
        """Unix time at which ``round_`` is produced: ``genesis + (round - 1) * period``."""
        if round_ < 1:
            raise ValueError(f"expected a round number >= 1, got {round_}")
        return self.genesis + (round_ - 1) * self.period

    def round_at(self, unix_time: int) -> int:
        """The first round produced at or after ``unix_time`` (1 before genesis)."""
        if unix_time <= self.genesis:
            return 1
        return -(-(unix_time - self.genesis) // self.period) + 1


QUICKNET = Chain(
    name="quicknet",
    chain_hash="52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971",
    public_key=bytes.fromhex(
        "83cf0f2896adee7eb8b5f01fcad3912212c437e0073e911fb90022d3e760183c"
        "8c4b450b6a0a6c3ac6a5776a2d1064510d1fec758c921cc22b0e17e63aaf4bcb"
        "5ed66304de9cf809bd274ca73bab4af5a6e9c76a4bc09e76eae8991ef5ece45a"
    ),
    genesis=1692803367,
    period=3,
)

# The test chain: same scheme, a key whose SECRET IS PUBLISHED (TEST_CHAIN_SECRET_KEY below and
# tests/vectors/drand/make_test_chain.py): secret = SHA-256("sunshine test chain, not a real beacon")
# as a big-endian integer mod the BLS12-381 group order. Its "chain hash" is our own label,
# SHA-256(frame(ALGORITHM, "test-chain", public key)); it uses quicknet's genesis and period, so a
# round number means the same time on both chains.
TEST_CHAIN_SECRET_KEY = 51089293091600339835856315287252482735093929805124919499584426246269745143280
_TEST_CHAIN_PUBLIC_KEY = bytes.fromhex(
    "b03505cc1d1043372669c7923d0100936b42ac6d58a1daa63d2f7b574f88330c"
    "c12a87f29654f8d8b5f9586691aac025017e2b5da62b1395264ba3471c2b20d7"
    "934860773458588f581549546bf2b23644e17f0171fde719893a23dd00041661"
)
TEST_CHAIN = Chain(
    name="sunshine-test",
    chain_hash=hashlib.sha256(frame(ALGORITHM, "test-chain", _TEST_CHAIN_PUBLIC_KEY)).hexdigest(),
    public_key=_TEST_CHAIN_PUBLIC_KEY,
    genesis=QUICKNET.genesis,
    period=QUICKNET.period,
    test_only=True,
)

CHAINS = {c.chain_hash: c for c in (QUICKNET, TEST_CHAIN)}


def chain_by_hash(chain_hash: str) -> Chain:
    try:
        return CHAINS[chain_hash]
    except KeyError:
        raise BeaconError(
            f"unknown drand chain: expected {QUICKNET.chain_hash} (quicknet), got {chain_hash!r}",
            hint="only the pinned quicknet chain is accepted; a chain is never taken from the data",
        ) from None


# --------------------------------------------------------------------------- beacon JSON

_HEX64 = re.compile(r"[0-9a-f]{64}")
_HEX96 = re.compile(r"[0-9a-f]{96}")


@dataclass(frozen=True, slots=True)
class Beacon:
    """A parsed (not yet verified) beacon. ``text`` is the JSON exactly as received."""

    round: int
    signature: bytes  # 48 bytes
    text: str

    @property
    def randomness(self) -> bytes:
        """``SHA-256(signature)`` (drand's definition)."""
        return hashlib.sha256(self.signature).digest()


def parse_beacon(text: str | bytes, *, where: str = "beacon") -> Beacon:
    """Parse a beacon JSON document (v1 or v2 relay API). Strict; raises :class:`FormatError`.

    Members: ``round`` (integer ≥ 1), ``signature`` (96 lowercase hex), optional ``randomness``
    (64 lowercase hex, must equal SHA-256 of the signature). Any other member, e.g. a chained
    beacon's ``previous_signature``, is refused.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as e:
            raise FormatError(f"{where}: expected UTF-8 JSON, got undecodable bytes ({e.reason})") from None
    try:
        obj = json.loads(text, parse_float=_no_float, parse_constant=_no_float, object_pairs_hook=_unique_members)
    except (ValueError, _NoFloat) as e:
        raise FormatError(f"{where}: expected a beacon JSON object, got invalid JSON ({e})") from None
    if not isinstance(obj, dict):
        raise FormatError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    extra = sorted(set(obj) - {"round", "signature", "randomness"})
    if extra:
        raise FormatError(
            f"{where}: expected only round, signature and randomness, got {', '.join(extra)}",
            hint="quicknet beacons are unchained: a previous_signature means another chain",
        )
    r = obj.get("round")
    if type(r) is not int or r < 1 or r >= 1 << 63:
        raise FormatError(f"{where}, field 'round': expected an integer >= 1, got {r!r}")
    sig = obj.get("signature")
    if not isinstance(sig, str) or not _HEX96.fullmatch(sig):
        raise FormatError(
            f"{where}, field 'signature': expected 96 lowercase hex digits (a G1 signature), got {sig!r}"
        )
    beacon = Beacon(round=r, signature=bytes.fromhex(sig), text=text)
    if "randomness" in obj:
        rnd = obj["randomness"]
        if not isinstance(rnd, str) or not _HEX64.fullmatch(rnd):
            raise FormatError(f"{where}, field 'randomness': expected 64 lowercase hex digits, got {rnd!r}")
        if rnd != beacon.randomness.hex():
            raise BeaconError(
                f"{where}, field 'randomness': expected SHA-256(signature) = "
                f"{beacon.randomness.hex()}, got {rnd}"
            )
    return beacon


class _NoFloat(ValueError):
    pass


def _unique_members(pairs):
    seen = {}
    for k, v in pairs:
        if k in seen:
            raise _NoFloat(f"member {k!r} appears twice")
        seen[k] = v
    return seen


def _no_float(text: str):
    raise _NoFloat(f"non-integer number {text!r}")


def verify_beacon(
    beacon: Beacon,
    chain: Chain = QUICKNET,
    *,
    expected_round: int | None = None,
    allow_test_chain: bool = False,
) -> bytes:
    """Verify ``beacon`` against the pinned ``chain``; return its 32-byte randomness.

    Raises :class:`BeaconError` when the round is not the expected one, the chain is the test
    chain and ``allow_test_chain`` is false, or the BLS signature does not verify.
    """
    if chain.test_only and not allow_test_chain:
        raise BeaconError(
            f"beacon round {beacon.round} is from the test chain {chain.chain_hash}, not drand quicknet",
            hint="the test chain's secret key is public; it is accepted only by tests and the sample data",
        )
    if expected_round is not None and beacon.round != expected_round:
        raise BeaconError(f"beacon: expected round {expected_round}, got round {beacon.round}")
    if not _bls_verify(chain.public_key, beacon.round, beacon.signature):
        raise BeaconError(
            f"beacon round {beacon.round}: the BLS signature does not verify under the "
            f"{chain.name} public key (chain {chain.chain_hash})"
        )
    return beacon.randomness


def round_message(round_: int) -> bytes:
    """The signed message of an unchained round: ``SHA-256(round as 8-byte big-endian)``."""
    return hashlib.sha256(round_.to_bytes(8, "big")).digest()


def _import_py_ecc() -> None:
    """Import ``py_ecc`` without its side effect on the interpreter.

    ``py_ecc/__init__.py`` raises the recursion limit to 100,000 on import. With that limit, deeply
    nested input overflows the C stack inside ``json``'s C scanner (a segfault instead of a
    ``RecursionError``), so a verifier that has checked one beacon could be crashed by a hostile
    ledger file. The BLS code used here does not need the higher limit; restore it.
    """
    if "py_ecc" in sys.modules:
        return
    limit = sys.getrecursionlimit()
    try:
        import py_ecc  # noqa: F401
    finally:
        sys.setrecursionlimit(limit)


@lru_cache(maxsize=256)
def _bls_verify(public_key: bytes, round_: int, signature: bytes) -> bool:
    _import_py_ecc()
    from py_ecc.bls.g2_primitives import subgroup_check
    from py_ecc.bls.hash_to_curve import hash_to_G1
    from py_ecc.bls.point_compression import decompress_G1
    from py_ecc.optimized_bls12_381 import FQ12, G2, final_exponentiate, is_inf, neg
    from py_ecc.optimized_bls12_381.optimized_pairing import miller_loop

    pk = _decompress_pubkey(public_key)
    try:
        sig = decompress_G1(int.from_bytes(signature, "big"))
    except ValueError:
        return False
    if is_inf(sig) or not subgroup_check(sig):
        return False
    h = hash_to_G1(round_message(round_), DST_G1, hashlib.sha256)
    # e(sig, g2) * e(H, -pk) == 1  <=>  e(sig, g2) == e(H, pk)
    product = miller_loop(G2, sig) * miller_loop(neg(pk), h)
    return final_exponentiate(product) == FQ12.one()


@lru_cache(maxsize=8)
def _decompress_pubkey(public_key: bytes):
    _import_py_ecc()
    from py_ecc.bls.point_compression import decompress_G2

    if len(public_key) != 96:
        raise BeaconError(f"public key: expected 96 bytes (compressed G2), got {len(public_key)}")
    try:
        return decompress_G2((int.from_bytes(public_key[:48], "big"), int.from_bytes(public_key[48:], "big")))
    except ValueError as e:
        raise BeaconError(f"public key: not a valid compressed G2 point ({e})") from None


def sign_test_round(round_: int, secret_key: int = TEST_CHAIN_SECRET_KEY) -> bytes:
    """Sign ``round_`` with a test-chain secret key (tests and the sample data only)."""
    _import_py_ecc()
    from py_ecc.bls.hash_to_curve import hash_to_G1
    from py_ecc.bls.point_compression import compress_G1
    from py_ecc.optimized_bls12_381 import multiply

    h = hash_to_G1(round_message(round_), DST_G1, hashlib.sha256)
    return int(compress_G1(multiply(h, secret_key))).to_bytes(48, "big")


def make_test_beacon_json(round_: int, secret_key: int = TEST_CHAIN_SECRET_KEY) -> str:
    """A test-chain beacon in the relays' v1 JSON shape."""
    sig = sign_test_round(round_, secret_key)
    return json.dumps(
        {"round": round_, "randomness": hashlib.sha256(sig).hexdigest(), "signature": sig.hex()},
        separators=(",", ":"),
    )


# --------------------------------------------------------------------------- lotteries

def encode_lottery(groups: list[list[int]], *, where: str = "lottery") -> bytes:
    """RFC 3797 §4 style key string of one lottery result (see the module docstring)."""
    if not isinstance(groups, list) or not groups:
        raise FormatError(f"{where}: expected a non-empty list of number groups, got {groups!r}")
    out = []
    for i, g in enumerate(groups):
        if not isinstance(g, list) or not g:
            raise FormatError(f"{where}[{i}]: expected a non-empty list of integers, got {g!r}")
        for n in g:
            if type(n) is not int or n < 0:
                raise FormatError(f"{where}[{i}]: expected non-negative integers, got {n!r}")
        out.append("".join(f"{n}." for n in sorted(g)) + "/")
    return "".join(out).encode("ascii")


# --------------------------------------------------------------------------- contributions

def contribution_commitment(task: str, department: str, secret: bytes) -> str:
    """Hex SHA-256 commitment to a department's 32-byte secret contribution."""
    if len(secret) != 32:
        raise FormatError(f"contribution of {department!r}: expected a 32-byte secret, got {len(secret)} bytes")
    return hashlib.sha256(frame(ALGORITHM, "contribution", task, department, secret)).hexdigest()
