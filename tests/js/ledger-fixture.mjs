// Test helper (not a test file): published ledgers built by the Python side for the JS tests.
//
// buildLedgers(variants) writes, in a new temporary directory, <dir>/<variant>/ledger/log/ (a ledger
// directory made with sunshine.ledger_store) and <dir>/<variant>/ledger/keys.json, and returns <dir>.
// Variants: "honest" (draw-v1.json cases "single", test chain, and "joint", real quicknet round 32000000),
// "forged" (the joint task's lock names a validly stored but wrong outcome: one selected target swapped
// with the head of its queue), "late" (the single task's commitment recorded after its drand round),
// "sealed" (draw-v1.json case "sealed", task 2025-03, instead of "single"),
// "pending" (the joint task's randomness is revealed but no lock yet),
// "replaced" (the joint task then replaces a target and an inspector as designated) and "badreplace"
// (the target replacement skips the designated queue entry), "badwitness" (the recorded witness
// cosignature is damaged). Every variant registers a witness key and records its cosignature of the
// checkpoint after the single task's lock.
import { existsSync, mkdtempSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';

const ROOT = new URL('../../', import.meta.url).pathname;
const PY = path.join(ROOT, '.venv/bin/python');
export const PYTHON_MISSING = !existsSync(PY) && 'no .venv/bin/python';

// Writes <out>/<variant>/ledger/log/ (the ledger directory) and <out>/<variant>/ledger/keys.json.
const BUILDER = String.raw`
import json, sys, pathlib, copy
sys.path.insert(0, str(pathlib.Path(sys.argv[1]) / "tests"))
from ledger_fixture import make_identities, log_signer, genesis_body, fixed_test_key, ORIGIN
from sunshine import canonical, draw, note
from sunshine.ledger_store import Ledger

out = pathlib.Path(sys.argv[2])
doc = json.loads((pathlib.Path(sys.argv[1]) / "tests/vectors/draw-v1.json").read_text(encoding="utf-8"))
cases = {c["name"]: c for c in doc["cases"]}

def add_replacements(led, ids, c, lock, bad):
    # The designated replacements, computed by the Python engine. The beacon was verified when the
    # vectors were made; skip the pure-Python BLS check here (the JS side verifies it independently).
    from sunshine import beacon
    beacon._bls_verify = lambda *a: True
    o = draw.recompute(c["commit"], c["randomness"], lambda r: led.get_blob(r), allow_test_chain=c["allow_test_chain"])
    lh = draw.body_hash(lock)
    target = o.selected[0]
    new, _ = draw.replace_target(o, target)
    if bad:
        s = next(x for x in o.strata if x.id == o.stratum_of[target])
        new = next(lb for lb in s.queue if lb not in o.stratum_of)  # skips the designated one
    led.append("draw.replace_target", {"algorithm": draw.ALGORITHM, "task": c["commit"]["task"], "lock": lh,
               "target": target, "replacement": new, "reason": "deregistered", "approver_role": "deputy_head"},
               ids["amr-op"], "2026-09-08T01:00:00Z")
    t2 = o.selected[1]
    before = o.state.teams[t2]
    insp = before.officers[-1]
    rec = o.state.by_id[insp]
    team = o.state.replace(t2, insp)
    added = next(i for i in (*team.officers, *team.experts) if i not in (*before.officers, *before.experts))
    signer = ids["amr-op"] if rec["department"] == "amr" else ids["health-op"]
    led.append("draw.replace_inspector", {"algorithm": draw.ALGORITHM, "task": c["commit"]["task"], "lock": lh,
               "target": t2, "inspector": insp, "replacement": added, "reason": "health",
               "approver_role": "deputy_head", "department": rec["department"]}, signer, "2026-09-08T02:00:00Z")

def build(variant):
    ids = make_identities()
    d = out / variant / "ledger"
    d.mkdir(parents=True)
    led = Ledger.create(d / "log", ORIGIN, log_signer(), genesis_body(ids), "2025-01-02T01:00:00Z", sync=False)
    root = ids["amr-root"]
    for i, name in enumerate(("amr-op", "amr-head", "health-op", "health-head")):
        led.append("key.register", {"key": ids[name].record()}, root, f"2025-01-02T02:0{i}:00Z")
    witness = note.new_cosignature_signer("witness.example/audit", fixed_test_key("witness"))
    led.append("key.register", {"key": {"name": witness.name, "department": "audit", "role": "witness", "alg": "ed25519",
                                        "public_key": note.b64encode(witness.public_key)}}, root, "2025-01-02T03:00:00Z")
    op = ids["amr-op"]
    led.append("plan.publish", {"year": 2025, "version": 1, "published": "2025-02-28",
                                "tasks": [{"id": "2025-02", "lead": "amr", "participants": []},
                                          {"id": "2025-03", "lead": "amr", "participants": []},
                                          {"id": "2026-07", "lead": "amr", "participants": ["health"]}]},
               op, "2025-02-28T01:00:00Z")
    times = {"single": ("2025-04-09T08:00:00Z", "2025-04-10T02:05:00Z", "2025-04-10T02:10:00Z"),
             "joint": ("2026-09-07T01:00:00Z", "2026-09-07T18:00:00Z", "2026-09-07T18:05:00Z")}
    if variant == "late":
        times["single"] = ("2025-04-10T03:00:00Z", "2025-04-10T03:05:00Z", "2025-04-10T03:10:00Z")
    times["sealed"] = times["single"]
    for name in ("sealed" if variant == "sealed" else "single", "joint"):
        c = cases[name]
        for ref, text in c["blobs"].items():
            assert led.put_blob(text.encode("utf-8")) == ref
        t0, t1, t2 = times[name]
        led.append("draw.commit", c["commit"], op, t0)
        led.append("draw.randomness", c["randomness"], op, t1)
        if variant == "pending" and name == "joint":
            continue  # randomness revealed, not yet locked
        # The expected outcome and lock of the vectors (the Python engine's own results; recomputing here
        # would only repeat tests/test_draw.py and cost a pure-Python BLS verification).
        outdoc = copy.deepcopy(c["expected"]["outcome"])
        if variant == "forged" and name == "joint":
            s = next(x for x in outdoc["strata"] if x["selected"] and x["queue"])
            s["selected"][0], s["queue"][0] = s["queue"][0], s["selected"][0]
        ref = led.put_blob(canonical.encode(outdoc))
        lock = {**c["expected"]["lock"], "outcome": ref}
        led.append("draw.lock", lock, op, t2)
        if variant in ("replaced", "badreplace") and name == "joint":
            add_replacements(led, ids, c, lock, bad=variant == "badreplace")
        if name in ("single", "sealed"):
            # a witness cosigns the checkpoint as it stands; the office records it
            text = note.parse_note(led.checkpoint_bytes()).text
            line = note.cosign(text, witness, 1744333200).line()
            if variant == "badwitness":
                line = line[:-6] + ("A" if line[-6] != "A" else "B") + line[-5:]
            led.append("checkpoint.witness", {"checkpoint": text.decode(), "cosignatures": [line]}, op, "2025-04-11T01:00:00Z")
    (d / "keys.json").write_bytes(canonical.encode(led.keys_summary()))

for v in sys.argv[3:]:
    build(v)
`;


export function buildLedgers(variants) {
  const out = mkdtempSync(path.join(tmpdir(), 'sunshine-js-ledgers-'));
  const r = spawnSync(PY, ['-c', BUILDER, ROOT, out, ...variants], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return out;
}
