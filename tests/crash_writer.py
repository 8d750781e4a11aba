"""Subprocess writer for tests/test_crash.py: appends entries, printing each seq once append returned.

usage: python crash_writer.py LEDGER_DIR COUNT
Entry n is an items.publish of version n referencing a blob "items n" (so blobs are written too).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ledger_fixture import ORIGIN, genesis_body, log_signer, make_identities  # noqa: E402
from sunshine.ledger_store import Ledger  # noqa: E402


def main() -> None:
    path, count = Path(sys.argv[1]), int(sys.argv[2])
    ids = make_identities()
    if not (path / "checkpoint").exists():
        led = Ledger.create(path, ORIGIN, log_signer(), genesis_body(ids), "2025-01-01T00:00:00Z")
        led.append("key.register", {"key": ids["amr-op"].record()}, ids["amr-root"], "2025-01-01T00:00:01Z")
    led = Ledger.open(path, log_signer=log_signer())
    print("ready", led.size, flush=True)
    while led.size < count:
        n = led.size
        ref = led.put_blob(f"items {n}".encode())
        e = led.append("items.publish", {"version": n, "published": "2025-01-15", "items": ref}, ids["amr-op"],
                       "2025-01-15T00:00:00Z")
        print(e.seq, flush=True)
    print("done", flush=True)


if __name__ == "__main__":
    main()
