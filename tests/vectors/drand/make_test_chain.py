"""Write the TEST-CHAIN beacons in this directory (test-<round>.json). Not real randomness.

The test chain (``sunshine.beacon.TEST_CHAIN``) uses drand quicknet's scheme
(bls-unchained-g1-rfc9380) with a key of our own whose secret is published:

    secret = int.from_bytes(SHA-256(b"sunshine test chain, not a real beacon"), "big") mod r

(r = the BLS12-381 group order). Anyone can sign any round with it, which is the point: pipeline
tests and the fictional sample data can "reveal" a round at any time without the network.
``beacon.verify_beacon`` refuses these beacons unless called with ``allow_test_chain=True``.

Run: ``.venv/bin/python tests/vectors/drand/make_test_chain.py`` (deterministic output).
"""

from __future__ import annotations

import hashlib
import pathlib
from datetime import datetime, timezone

from py_ecc.bls.point_compression import compress_G2
from py_ecc.optimized_bls12_381 import G2, curve_order, multiply

from sunshine import beacon

HERE = pathlib.Path(__file__).parent

# Rounds used by tests and by the sample data: round 1000, and the first rounds at or after
# 02:00 UTC (10:00 Beijing time) on some sample draw dates.
DATES = ["2025-04-10T02:00:00Z", "2025-09-01T02:00:00Z", "2026-03-16T02:00:00Z"]


def main() -> None:
    secret = int.from_bytes(hashlib.sha256(b"sunshine test chain, not a real beacon").digest(), "big") % curve_order
    assert secret == beacon.TEST_CHAIN_SECRET_KEY
    z1, z2 = compress_G2(multiply(G2, secret))
    assert int(z1).to_bytes(48, "big") + int(z2).to_bytes(48, "big") == beacon.TEST_CHAIN.public_key
    rounds = [1000]
    for d in DATES:
        t = int(datetime.strptime(d, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp())
        rounds.append(beacon.TEST_CHAIN.round_at(t))
    for r in rounds:
        path = HERE / f"test-{r}.json"
        path.write_text(beacon.make_test_beacon_json(r), encoding="utf-8")
        print(path.name, datetime.fromtimestamp(beacon.TEST_CHAIN.round_time(r), timezone.utc).isoformat())


if __name__ == "__main__":
    main()
