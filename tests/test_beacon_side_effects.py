"""Verifying a beacon leaves the interpreter as it was.

``py_ecc`` raises the recursion limit to 100,000 when imported; with that limit a deeply nested
ledger file overflowed the C stack in ``json``'s scanner (a segfault, found by the full suite).
``sunshine.beacon`` restores the limit, so hostile nesting stays a ``FormatError``.
"""

import subprocess
import sys

CODE = r"""
import sys
from pathlib import Path
from sunshine import beacon, canonical
from sunshine.errors import FormatError
limit = sys.getrecursionlimit()
b = beacon.parse_beacon(Path(sys.argv[1]).read_bytes())
beacon.verify_beacon(b, beacon.QUICKNET)
assert sys.getrecursionlimit() == limit, (limit, sys.getrecursionlimit())
try:
    canonical.decode(b"[" * 100_000 + b"]" * 100_000)
except FormatError as e:
    print("FormatError:", e.message)
"""


def test_recursion_limit_restored_and_deep_json_is_an_error(tmp_path):
    from pathlib import Path

    vec = Path(__file__).parent / "vectors" / "drand" / "quicknet-1000.json"
    proc = subprocess.run([sys.executable, "-c", CODE, str(vec)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith("FormatError: expected JSON nested at most")
