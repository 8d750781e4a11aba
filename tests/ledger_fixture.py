"""A small, realistic ledger built in a temporary directory (test helper, also usable by other tests).

``build_sample_ledger(path)`` writes a ledger for the fictional 示例市 with a genesis entry, key
registrations (department operators and heads, a witness), an item list, a plan, a directory
snapshot, one task's real draw (the draw vectors' "joint" case: commit, randomness with a recorded
drand beacon, lock, dispatch), results and a correction, all with blobs — every entry type the
ledger layer checks itself. Keys are derived from fixed seeds so the bytes are reproducible;
they are TEST keys and never used elsewhere.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sunshine import canonical, note
from sunshine.keys import SigningIdentity

ORIGIN = "sunshine.example/shiyi-test"


def fixed_test_key(label: str) -> Ed25519PrivateKey:
    """A deterministic test key (never use this for real keys)."""
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"sunshine test key\n" + label.encode()).digest())


def identity(name: str, department: str, role: str) -> SigningIdentity:
    return SigningIdentity(name, department, role, fixed_test_key(name))


@dataclass
class Sample:
    ledger: object  # sunshine.ledger_store.Ledger
    log: note.Signer
    ids: dict[str, SigningIdentity]
    witness: note.Signer

    @property
    def vkey(self) -> str:
        return self.log.verifier_key()


def log_signer(origin: str = ORIGIN) -> note.Signer:
    return note.new_ed25519_signer(origin, fixed_test_key("log:" + origin))


def genesis_body(ids: dict[str, SigningIdentity]) -> dict:
    return {
        "jurisdiction": "shiyi",
        "name": "示例市（测试）",
        "office": "amr",
        "departments": [
            {"id": "amr", "name": "示例市市场监督管理局"},
            {"id": "health", "name": "示例市卫生健康委员会"},
        ],
        "keys": [ids["amr-root"].record()],
        "settings": {"publish_within_workdays": 20},
    }


def make_identities() -> dict[str, SigningIdentity]:
    return {
        "amr-root": identity("amr-root", "amr", "root"),
        "amr-op": identity("amr-op", "amr", "operator"),
        "amr-head": identity("amr-head", "amr", "head"),
        "health-op": identity("health-op", "health", "operator"),
        "health-head": identity("health-head", "health", "head"),
    }


def build_sample_ledger(path: Path, *, sync: bool = False, origin: str = ORIGIN, pending: bool = False) -> Sample:
    """Create the sample ledger at *path* (which must not exist or be empty).

    With *pending*, stop once task 2026-07's randomness is revealed: no lock, dispatch or results yet
    (a draw that cannot be verified in full until it is locked)."""
    from sunshine.ledger_store import Ledger

    ids = make_identities()
    log = log_signer(origin)
    witness = note.new_cosignature_signer("witness.example/audit", fixed_test_key("witness"))
    led = Ledger.create(path, origin, log, genesis_body(ids), "2026-01-02T01:00:00Z", sync=sync)
    root = ids["amr-root"]
    for i, name in enumerate(("amr-op", "amr-head", "health-op", "health-head")):
        led.append("key.register", {"key": ids[name].record()}, root, f"2026-01-02T02:0{i}:00Z")
    wrec = {"name": witness.name, "department": "audit", "role": "witness", "alg": "ed25519",
            "public_key": note.b64encode(witness.public_key)}
    led.append("key.register", {"key": wrec}, root, "2026-01-02T03:00:00Z")

    items = led.put_blob(canonical.encode({"items": [{"id": "AMR-03", "class": "general", "ratio_cap": "5%"},
                                                     {"id": "HEALTH-02", "class": "focus"}]}))
    op = ids["amr-op"]
    led.append("items.publish", {"version": 1, "published": "2026-01-15", "items": items}, op,
               "2026-01-15T01:00:00Z")
    plan = led.put_blob("2026年度抽查计划（测试）".encode())
    led.append("plan.publish", {"year": 2026, "version": 1, "published": "2026-02-27", "plan": plan,
                                "tasks": [{"id": "2026-07", "lead": "amr", "participants": ["health"]}]},
               op, "2026-02-27T01:00:00Z")
    targets = led.put_blob(b"code,name\n91379900MA0000008X,example\n")
    inspectors = led.put_blob(b"id,department\nAMR-001,amr\n")
    led.append("directory.snapshot", {"targets": {"blob": targets, "count": 1},
                                      "inspectors": {"blob": inspectors, "count": 1}, "confirmed": "2026-09-01"},
               op, "2026-09-01T01:00:00Z")
    # A real draw: the "joint" case of the draw engine's shared vectors (tests/vectors/draw-v1.json,
    # a recorded drand quicknet round 32000000, produced 2026-09-07T17:49:24Z).
    case = draw_vector("joint")
    for text in case["blobs"].values():
        led.put_blob(text.encode("utf-8"))
    led.put_blob(canonical.encode(case["expected"]["outcome"]))
    lock = case["expected"]["lock"]
    led.append("draw.commit", case["commit"], op, "2026-09-07T02:00:00Z")
    led.append("draw.randomness", case["randomness"], op, "2026-09-07T18:00:00Z")
    if pending:
        return Sample(led, log, ids, witness)
    led.append("draw.lock", lock, op, "2026-09-07T18:05:00Z")
    led.append("draw.dispatch", {"algorithm": lock["algorithm"], "task": "2026-07", "lock": body_hash(lock),
                                 "date": "2026-09-08"}, op, "2026-09-08T01:00:00Z")
    target = case["expected"]["outcome"]["selected"][0]
    result = {"task": "2026-07", "target": target, "version": 1, "inspection_end": "2026-09-30",
              "published": "2026-10-15", "items": [{"item": "AMR-03", "codes": ["no_issue"]}]}
    led.append("result.publish", {**result, "department": "amr"}, op, "2026-10-15T01:00:00Z")
    led.append("result.publish", {**result, "department": "health", "published": "2026-10-16",
                                  "items": [{"item": "HEALTH-02", "codes": ["no_issue"]}]},
               ids["health-op"], "2026-10-16T01:00:00Z")
    led.append("result.correct", {**result, "department": "amr", "version": 2, "published": "2026-10-20",
                                  "reason": "录入错误更正", "items": [{"item": "AMR-03", "codes": ["issue_corrected"]}]},
               ids["amr-head"], "2026-10-20T01:00:00Z")
    # a witness cosigns the checkpoint of the ledger as it stands; the office records it
    text = note.parse_note(led.checkpoint_bytes()).text
    cosig = note.cosign(text, witness, 1750000000)
    led.append("checkpoint.witness", {"checkpoint": text.decode(), "cosignatures": [cosig.line()]}, op,
               "2026-10-21T01:00:00Z")
    return Sample(led, log, ids, witness)


def draw_vector(name: str) -> dict:
    """A case of the draw engine's shared vectors (tests/vectors/draw-v1.json)."""
    doc = json.loads((Path(__file__).resolve().parent / "vectors" / "draw-v1.json").read_text(encoding="utf-8"))
    return next(c for c in doc["cases"] if c["name"] == name)


def body_hash(body: dict) -> str:
    from sunshine import draw

    return draw.body_hash(body)


def read_files(path: Path) -> dict[str, bytes]:
    """Every published file of a ledger directory (dot-files excluded), by relative path."""
    out = {}
    for p in sorted(Path(path).rglob("*")):
        rel = p.relative_to(path).as_posix()
        if p.is_file() and not any(part.startswith(".") for part in rel.split("/")):
            out[rel] = p.read_bytes()
    return out


def layout_files(origin: str, raws: list[bytes], signer: note.Signer) -> dict[str, bytes]:
    """The published files (checkpoint, tiles, bundles) of a log holding *raws*, signed by *signer*.

    Lets tests play a dishonest log operator: reorder, drop or replace entries and re-sign.
    """
    from sunshine import checkpoint
    from sunshine.ledger_store import TILE_WIDTH, TreeBuilder

    tree = TreeBuilder()
    bundles: dict[int, list[bytes]] = {}
    for i, raw in enumerate(raws):
        tree.append(raw)
        bundles.setdefault(i // TILE_WIDTH, []).append(raw)
    files = dict(tree.tile_files(0, bundles))
    text = checkpoint.format_checkpoint(checkpoint.Checkpoint(origin, len(raws), tree.root(), ()))
    files["checkpoint"] = note.sign_note(text, signer)
    return files
