"""Crash safety: a writer killed with SIGKILL at random points, and crashes injected at every write.

After every crash the ledger verifies (torn leftovers are only notes) and holds every entry whose
append had returned (the writer prints each seq after ``append`` returns).
"""

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sunshine import tiles
from sunshine.ledger_store import DirectoryFiles, Ledger
from sunshine.verify import verify_files

from ledger_fixture import ORIGIN, genesis_body, log_signer, make_identities

WRITER = Path(__file__).resolve().parent / "crash_writer.py"


def check(path: Path, acked: set[int]) -> int:
    files = DirectoryFiles(path)
    rep = verify_files(files, listing=files.listing(), recompute_draws=False)
    assert rep.exit_code == 0, rep.to_text()
    led = Ledger.open(path)
    entries = led.entries()
    for seq in acked:
        assert seq < led.size, f"acknowledged entry {seq} lost (size {led.size})"
        e = entries[seq]
        assert e.type == "items.publish" and e.body["version"] == seq
        assert led.get_blob(e.body["items"]) == f"items {seq}".encode()
    return led.size


def run_with_kills(path: Path, total: int, seed: int) -> tuple[int, int]:
    rng = random.Random(seed)
    acked: set[int] = set()
    kills = 0
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    while True:
        proc = subprocess.Popen([sys.executable, str(WRITER), str(path), str(total)], stdout=subprocess.PIPE,
                                text=True, env=env)
        line = proc.stdout.readline()
        assert line.startswith("ready"), line
        # Let the writer acknowledge a random number of appends (at most 30, so that every run of 100
        # appends is killed several times whatever the machine's speed), then kill it after a random
        # fraction of an append (one takes ~30 ms with fsync here): the kill lands anywhere in a write.
        done = False
        for _ in range(rng.randint(0, 30)):
            out = proc.stdout.readline().strip()
            if out == "done" or not out:
                done = out == "done"
                break
            acked.add(int(out))
        time.sleep(rng.uniform(0, 0.04))
        os.set_blocking(proc.stdout.fileno(), False)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        os.set_blocking(proc.stdout.fileno(), True)
        for out in proc.stdout.read().split():
            if out == "done":
                done = True
            elif out.isdigit():
                acked.add(int(out))
        proc.stdout.close()
        kills += 1
        size = check(path, acked)
        if done or size >= total:
            return size, kills


def test_sigkill_at_random_points_100_appends(tmp_path):
    size, kills = run_with_kills(tmp_path / "l", 100, seed=1)
    assert size >= 100 and kills >= 3


@pytest.mark.slow
def test_sigkill_at_random_points_1000_appends(tmp_path):
    size, kills = run_with_kills(tmp_path / "l", 1000, seed=2)
    assert size >= 1000
    print(f"1000 appends survived {kills} SIGKILLs")


class Crash(BaseException):
    pass


def inject(path: Path, led: Ledger, targets: range, acked: set, monkeypatch, ids, full_check=True) -> Ledger:
    """For each target size, crash the k-th rename of the append for k = 0, 1, … until one succeeds."""
    real_rename = os.rename
    for _ in targets:
        n = led.size
        for k in range(50):
            calls = {"n": 0}

            def flaky_rename(src, dst, _k=k):
                calls["n"] += 1
                if calls["n"] == _k + 1:
                    raise Crash(f"crash at rename {_k}")
                return real_rename(src, dst)

            monkeypatch.setattr(os, "rename", flaky_rename)
            try:
                ref = led.put_blob(f"items {n}".encode())
                e = led.append("items.publish", {"version": n, "published": "2025-01-15", "items": ref},
                               ids["amr-op"], "2025-01-15T00:00:00Z")
            except Crash:
                monkeypatch.setattr(os, "rename", real_rename)
                assert led.size == n  # the failed append is not acknowledged …
                if full_check:
                    check(path, acked)  # … the ledger on disk verifies and holds every acknowledged entry
                continue
            monkeypatch.setattr(os, "rename", real_rename)
            assert k >= 1 and e.seq == n  # at least the blob rename crashed once first
            acked.add(e.seq)
            break
        if not full_check:
            check(path, acked)
    return led


def test_crash_injected_at_every_rename(tmp_path, monkeypatch):
    """Fail the k-th file rename of an append, for every k; then carry on from a fresh open."""
    path = tmp_path / "l"
    ids = make_identities()
    Ledger.create(path, ORIGIN, log_signer(), genesis_body(ids), "2025-01-01T00:00:00Z", sync=False)
    led = Ledger.open(path, log_signer=log_signer(), sync=False)
    led.append("key.register", {"key": ids["amr-op"].record()}, ids["amr-root"], "2025-01-01T00:00:01Z")
    acked: set[int] = set()
    led = inject(path, led, range(6), acked, monkeypatch, ids)
    # fill up to just below a full bundle, then cross it (full tiles, a level-1 tile) with crashes
    led = Ledger.open(path, log_signer=log_signer(), sync=False)
    batch = []
    for n in range(led.size, 254):
        batch.append(("items.publish", {"version": n, "published": "2025-01-15",
                                        "items": led.put_blob(f"items {n}".encode())},
                      ids["amr-op"], "2025-01-15T00:00:00Z"))
    acked |= {e.seq for e in led.append_batch(batch)}
    led = inject(path, Ledger.open(path, log_signer=log_signer(), sync=False), range(4), acked, monkeypatch, ids,
                 full_check=False)
    assert check(path, acked) == 258
    listing = DirectoryFiles(path).listing()
    assert tiles.tile_path(1, 0, 1) in listing and tiles.entries_path(0) in listing
