"""Generate tests/vectors/draw-v1.json: shared test vectors of the sunshine.draw/v1 algorithm.

Every case holds the complete inputs (commitment body, every blob as text, randomness body, and
where relevant the list reveal and the opening file) and the expected results (salt, IKM, seed,
each member's ticket for small pools, the outcome document and its blob address, the lock body),
or the expected error. The Python tests (tests/test_draw.py) and the browser verifier check them.

Randomness: case "joint" uses the REAL drand quicknet round 32000000 (2026-09-07T17:49:24Z,
tests/vectors/drand/quicknet-32000000.json, source in tests/vectors/drand/README.md); the other
cases use the TEST CHAIN (public secret key; set "allow_test_chain": true), round 17149012.

Run: .venv/bin/python tests/vectors/make_draw_vectors.py   (deterministic; rewrites the file)
"""

from __future__ import annotations

import hashlib
import json
import pathlib

from sunshine import beacon, canonical, draw, hkdf, matching
from sunshine.errors import SunshineError

HERE = pathlib.Path(__file__).parent
OUT = HERE / "draw-v1.json"
QUICKNET_ROUND = 32000000
TEST_ROUND = 17149012


def beacon_text(name: str) -> str:
    return (HERE / "drand" / name).read_text(encoding="utf-8")


def uscc_like(i: int) -> str:
    """Fictional 18-character labels (not real enterprises; check characters not computed)."""
    return f"91379900MA{i:07d}X"


def officers(dept: str, n: int, *, capacity: int = 3, quals=("food",), every: int = 1, conflicts=None) -> list[dict]:
    conflicts = conflicts or {}
    return [
        {
            "id": f"{dept.upper()}-{k:03d}",
            "department": dept,
            "kind": "officer",
            "capacity": capacity,
            "qualifications": sorted(quals) if k % every == 0 else [],
            "conflicts": sorted(conflicts.get(k, [])),
        }
        for k in range(n)
    ]


def expert(iid: str, dept: str, capacity: int = 10) -> dict:
    return {"id": iid, "department": dept, "kind": "expert", "capacity": capacity, "qualifications": [], "conflicts": []}


def case_joint():
    labels = [uscc_like(i) for i in range(30)]
    assignment = {lb: ("abnormal" if i % 6 == 0 else "rest") for i, lb in enumerate(labels)}
    secret = hashlib.sha256(b"sunshine vector: health department contribution").digest()
    body, blobs, _ = draw.make_commit(
        task="2026-07", year=2026, items=["AMR-03", "HEALTH-02"], lead="amr", participants=["health"],
        notice="notified", draw_date="2026-09-07",
        strata=[{"id": "abnormal", "label": "经营异常", "ratio": "1/5", "minimum": 0},
                {"id": "rest", "label": "其他", "ratio": "1/10", "minimum": 1}],
        assignment=assignment, exclusions=[(uscc_like(90), "annual_cap"), (uscc_like(91), "not_active")],
        inspectors=officers("amr", 5, conflicts={0: [labels[1]]}) + officers("health", 4, quals=()) + [expert("EXP-001", "amr")],
        team={"min_officers": 2, "per_department": 1, "experts": 1, "qualifications": ["food"]},
        drand_round=QUICKNET_ROUND, chain=beacon.QUICKNET,
        lotteries=["中国福利彩票双色球 2026102期"],
        contributions=[("health", beacon.contribution_commitment("2026-07", "health", secret), "with_randomness")],
    )
    rb = draw.make_randomness_body(
        body, beacon_text(f"quicknet-{QUICKNET_ROUND}.json"),
        lotteries=[("中国福利彩票双色球 2026102期", [[3, 8, 12, 19, 27, 33], [7]])],
        contributions=[("health", secret)],
    )
    return dict(name="joint", description="joint task (amr leads, health participates), two public strata, a real quicknet round, a lottery named in advance and a department contribution; one declared conflict; one expert per group",
                commit=body, blobs=blobs, randomness=rb, allow_test_chain=False)


def case_single():
    labels = [uscc_like(100 + i) for i in range(12)]
    body, blobs, _ = draw.make_commit(
        task="2025-02", year=2025, items=["AMR-01"], lead="amr", participants=[], notice="notified", draw_date="2025-04-10",
        strata=[{"id": "all", "label": "全部", "ratio": "1/20", "minimum": 2}],
        assignment={lb: "all" for lb in labels}, exclusions=[],
        inspectors=officers("amr", 4, quals=()),
        team={"min_officers": 2, "per_department": 1, "experts": 0, "qualifications": []},
        drand_round=TEST_ROUND, chain=beacon.TEST_CHAIN,
    )
    rb = draw.make_randomness_body(body, beacon_text(f"test-{TEST_ROUND}.json"))
    return dict(name="single", description="one department, one stratum where the minimum (2) beats ceil(12/20) = 1; the second officer comes from the lead department's ranking",
                commit=body, blobs=blobs, randomness=rb, allow_test_chain=True)


def case_sealed():
    labels = [uscc_like(200 + i) for i in range(20)]
    assignment = {lb: ("high" if i % 4 == 0 else "rest") for i, lb in enumerate(labels)}
    body, blobs, opening = draw.make_commit(
        task="2025-03", year=2025, items=["AMR-05"], lead="amr", participants=[], notice="notified", draw_date="2025-04-10",
        strata=[{"id": "high", "label": "高风险（C、D类）", "ratio": "1/2", "minimum": 0},
                {"id": "rest", "label": "其他", "ratio": "1/10", "minimum": 1}],
        assignment=assignment, exclusions=[], inspectors=officers("amr", 6, capacity=2, quals=()),
        team={"min_officers": 2, "per_department": 2, "experts": 0, "qualifications": []},
        drand_round=TEST_ROUND, chain=beacon.TEST_CHAIN, sealed=True,
        sealing_key=hashlib.sha256(b"sunshine vector: sealing key (test only)").digest(),
    )
    rb = draw.make_randomness_body(body, beacon_text(f"test-{TEST_ROUND}.json"))
    return dict(name="sealed", description="credit-class strata, sealed: the commitment holds one salted commitment per member; the opening file (for oversight bodies) is needed to recompute; capacity 2 per officer",
                commit=body, blobs=blobs, randomness=rb, opening=opening, allow_test_chain=True)


def case_no_notice():
    labels = [uscc_like(300 + i) for i in range(15)]
    secret = hashlib.sha256(b"sunshine vector: amr no-notice secret").digest()
    body, blobs, _ = draw.make_commit(
        task="2025-04", year=2025, items=["AMR-07"], lead="amr", participants=[], notice="no_notice", draw_date="2025-09-01",
        strata=[{"id": "all", "label": "全部", "ratio": "1/5", "minimum": 0}],
        assignment={lb: "all" for lb in labels}, exclusions=[], inspectors=officers("amr", 3, quals=()),
        team={"min_officers": 2, "per_department": 1, "experts": 0, "qualifications": []},
        drand_round=TEST_ROUND, chain=beacon.TEST_CHAIN,
        contributions=[("amr", beacon.contribution_commitment("2025-04", "amr", secret), "with_list")],
    )
    rb = draw.make_randomness_body(body, beacon_text(f"test-{TEST_ROUND}.json"))
    reveal = {"contributions": [{"department": "amr", "secret": secret.hex()}]}  # completed in run_case
    return dict(secret=("amr", secret), name="no-notice", description="不宜告知: the lead department's contribution is revealed only with the list (draw.list_reveal), so nobody can compute the list from the public randomness before then",
                commit=body, blobs=blobs, randomness=rb, list_reveal=reveal, allow_test_chain=True)


def case_infeasible():
    labels = [uscc_like(400 + i) for i in range(10)]
    body, blobs, _ = draw.make_commit(
        task="2025-05", year=2025, items=["SE-01"], lead="amr", participants=[], notice="notified", draw_date="2025-04-10",
        strata=[{"id": "all", "label": "全部", "ratio": "1/2", "minimum": 0}],
        assignment={lb: "all" for lb in labels}, exclusions=[], inspectors=officers("amr", 3, quals=("food",)),
        team={"min_officers": 2, "per_department": 1, "experts": 0, "qualifications": ["special_equipment"]},
        drand_round=TEST_ROUND, chain=beacon.TEST_CHAIN,
    )
    rb = draw.make_randomness_body(body, beacon_text(f"test-{TEST_ROUND}.json"))
    return dict(name="infeasible", description="no officer of the lead department holds the required qualification: the draw fails with DrawError and no partial team",
                commit=body, blobs=blobs, randomness=rb, allow_test_chain=True)


def run_case(case: dict) -> dict:
    body, blobs, rb = case["commit"], case["blobs"], case["randomness"]
    out = {
        "name": case["name"],
        "description": case["description"],
        "allow_test_chain": case["allow_test_chain"],
        "commit": body,
        "blobs": {ref: data.decode("utf-8") for ref, data in sorted(blobs.items())},
        "randomness": rb,
        "list_reveal": case.get("list_reveal"),
        "opening": case.get("opening"),
    }
    c = draw.load_commitment(body, blobs.__getitem__)
    try:
        values = draw.load_randomness(c, rb, list_reveal=case.get("list_reveal"), allow_test_chain=case["allow_test_chain"])
        o = draw.compute(c, values, opening=case.get("opening"))
    except SunshineError as e:
        out["expected"] = {"error": {"type": type(e).__name__, "message": e.message}}
        return out
    prk = o.seed
    members = draw.open_sealed(c, case["opening"]) if c.sealed else c.members
    doc = canonical.encode(o.to_document())
    ref = draw.blob_ref(doc)
    lock = draw.lock_body(body, rb, ref, o)
    if case.get("list_reveal") is not None:
        out["list_reveal"] = draw.list_reveal_body(lock, [case["secret"]])
    out["expected"] = {
        "salt": draw.salt(body).hex(),
        "ikm": draw.ikm(values).hex(),
        "seed": prk.hex(),
        "tickets": {sid: {lb: draw.ticket(prk, sid, lb).hex() for lb in labels} for sid, labels in members.items()},
        "outcome": o.to_document(),
        "outcome_ref": ref,
        "lock": lock,
    }
    return out


def stream_vectors() -> list[dict]:
    """Uniform integers by rejection sampling from the matching stream, for implementers."""
    prk = hashlib.sha256(b"sunshine vector: stream prk").digest()
    mac = hkdf.Expander(prk).mac
    out = []
    for dept, target, n in (("amr", uscc_like(1), 7), ("health", uscc_like(2), 1000), ("amr", uscc_like(3), 2**63 + 1)):
        prefix = beacon.frame("match", dept, target)
        s = matching.Stream(mac, prefix)
        blocks = [mac(prefix + j.to_bytes(4, "big")).hex() for j in range(4)]
        values = [s.uniform(n) for _ in range(8)]
        r = matching.Ranking([f"X-{k:02d}" for k in range(10)], matching.Stream(mac, prefix))
        out.append({"prk": prk.hex(), "prefix": prefix.hex(), "blocks": blocks, "n": n, "uniform": values,
                    "ranking_of": [f"X-{k:02d}" for k in range(10)], "ranking": list(r)})
    return out


def build() -> dict:
    cases = [case_joint(), case_single(), case_sealed(), case_no_notice(), case_infeasible()]
    return {
        "algorithm": beacon.ALGORITHM,
        "spec": "docs/spec/draw.md",
        "generated_by": "tests/vectors/make_draw_vectors.py",
        "frame_examples": [
            {"parts": ["target", "rest", uscc_like(1)], "hex": beacon.frame("target", "rest", uscc_like(1)).hex()},
            {"parts": ["match", "amr", uscc_like(1)], "hex": beacon.frame("match", "amr", uscc_like(1)).hex()},
        ],
        "streams": stream_vectors(),
        "cases": [run_case(c) for c in cases],
    }


def render(doc: dict) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


if __name__ == "__main__":
    OUT.write_text(render(build()), encoding="utf-8")
    print(f"wrote {OUT}")
