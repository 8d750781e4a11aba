"""drand quicknet beacons (recorded real rounds, tests/vectors/drand/README.md), the test chain,
RFC 3797 lottery encoding and contribution commitments. No network."""

from __future__ import annotations

import hashlib
import json
import pathlib
import subprocess
import sys

import pytest

from sunshine import beacon
from sunshine.errors import BeaconError, FormatError

DRAND = pathlib.Path(__file__).parent / "vectors" / "drand"
REAL = sorted(DRAND.glob("quicknet-*.json"), key=lambda p: int(p.stem.split("-")[1]))
FAST = {"quicknet-1000.json", "quicknet-32000000.json"}  # the others run with -m slow


def load(name: str) -> beacon.Beacon:
    return beacon.parse_beacon((DRAND / name).read_text(encoding="utf-8"), where=name)


def test_pinned_quicknet_parameters():
    q = beacon.QUICKNET
    assert q.chain_hash == "52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971"
    assert q.public_key.hex().startswith("83cf0f2896adee7e") and len(q.public_key) == 96
    assert (q.genesis, q.period, q.scheme) == (1692803367, 3, "bls-unchained-g1-rfc9380")
    assert not q.test_only and beacon.chain_by_hash(q.chain_hash) is q


def test_round_times():
    q = beacon.QUICKNET
    assert q.round_time(1) == 1692803367
    assert q.round_time(32000000) == 1692803367 + 31999999 * 3
    assert q.round_at(q.round_time(32000000)) == 32000000
    assert q.round_at(q.round_time(32000000) - 1) == 32000000
    assert q.round_at(q.round_time(32000000) + 1) == 32000001
    assert q.round_at(0) == 1
    with pytest.raises(ValueError, match="expected a round number >= 1, got 0"):
        q.round_time(0)


@pytest.mark.parametrize(
    "path",
    [pytest.param(p, id=p.stem, marks=() if p.name in FAST else pytest.mark.slow) for p in REAL],
)
def test_real_quicknet_rounds_verify(path):
    b = load(path.name)
    assert path.stem == f"quicknet-{b.round}"
    rnd = beacon.verify_beacon(b, expected_round=b.round)
    assert rnd == hashlib.sha256(b.signature).digest()
    obj = json.loads(path.read_text())
    if "randomness" in obj:
        assert obj["randomness"] == rnd.hex()


def test_signature_of_another_round_is_rejected():
    b = load("quicknet-1000.json")
    moved = beacon.parse_beacon(json.dumps({"round": 1001, "signature": b.signature.hex()}))
    with pytest.raises(BeaconError, match="round 1001: the BLS signature does not verify under the quicknet public key"):
        beacon.verify_beacon(moved)


def test_expected_round_is_enforced():
    with pytest.raises(BeaconError, match="expected round 999, got round 1000"):
        beacon.verify_beacon(load("quicknet-1000.json"), expected_round=999)


def test_tampered_signature_is_rejected():
    b = load("quicknet-1000.json")
    sig = bytearray(b.signature)
    sig[-1] ^= 0x01
    forged = beacon.parse_beacon(json.dumps({"round": 1000, "signature": bytes(sig).hex()}))
    with pytest.raises(BeaconError, match="does not verify"):
        beacon.verify_beacon(forged)


def test_test_chain_is_refused_unless_trusted():
    b = load("test-1000.json")
    with pytest.raises(BeaconError, match="test chain") as exc:
        beacon.verify_beacon(b, beacon.TEST_CHAIN)
    assert "secret key is public" in exc.value.hint
    assert beacon.verify_beacon(b, beacon.TEST_CHAIN, allow_test_chain=True) == b.randomness
    # and a test-chain signature is not a quicknet signature
    with pytest.raises(BeaconError, match="does not verify under the quicknet public key"):
        beacon.verify_beacon(b)


def test_recorded_test_chain_files_are_reproducible():
    for p in DRAND.glob("test-*.json"):
        r = int(p.stem.split("-")[1])
        assert p.read_text() == beacon.make_test_beacon_json(r), p.name


def test_unknown_chain_hash():
    with pytest.raises(BeaconError, match="unknown drand chain: expected 52db9ba7") as exc:
        beacon.chain_by_hash("8990e7a9aaed2ffed73dbd7092123d6f289930540d7651336225dc172e51b2ce")
    assert "never taken from the data" in exc.value.hint


@pytest.mark.parametrize(
    "text,message",
    [
        ("[1]", "expected a JSON object, got list"),
        ("{", "expected a beacon JSON object, got invalid JSON"),
        ('{"round":1.5,"signature":"00"}', "invalid JSON"),
        ('{"round":0,"signature":"' + "a" * 96 + '"}', "field 'round': expected an integer >= 1, got 0"),
        ('{"round":"7","signature":"' + "a" * 96 + '"}', "field 'round': expected an integer >= 1, got '7'"),
        ('{"round":7,"signature":"' + "A" * 96 + '"}', "field 'signature': expected 96 lowercase hex digits"),
        ('{"round":7,"signature":"' + "a" * 192 + '"}', "field 'signature': expected 96 lowercase hex digits"),
        ('{"round":7,"signature":"' + "a" * 96 + '","previous_signature":"00"}', "got previous_signature"),
        ('{"round":7,"signature":"' + "a" * 96 + '","randomness":"xyz"}', "field 'randomness': expected 64 lowercase hex"),
        ('{"round":7,"round":8,"signature":"' + "a" * 96 + '"}', "member 'round' appears twice"),
        ('{"round":true,"signature":"' + "a" * 96 + '"}', "field 'round': expected an integer >= 1, got True"),
    ],
)
def test_malformed_beacons(text, message):
    with pytest.raises(FormatError, match=message.replace("(", r"\(").replace(")", r"\)")):
        beacon.parse_beacon(text, where="x.json")


def test_randomness_must_match_signature():
    obj = json.loads((DRAND / "quicknet-1000.json").read_text())
    obj["randomness"] = "0" + obj["randomness"][1:]
    with pytest.raises(BeaconError, match="field 'randomness': expected SHA-256\\(signature\\) = fe290bec"):
        beacon.parse_beacon(json.dumps(obj))


def test_bytes_input_must_be_utf8():
    with pytest.raises(FormatError, match="expected UTF-8 JSON"):
        beacon.parse_beacon(b"\xff\xfe")


def test_text_is_kept_verbatim():
    text = (DRAND / "quicknet-1000.json").read_text()
    assert beacon.parse_beacon(text).text == text


def test_rfc3797_lottery_encoding():
    # RFC 3797 §6 worked example: sources 9319, {2,5,12,8,10}, {9,18,26,34,41,45}.
    assert beacon.encode_lottery([[9319], [2, 5, 12, 8, 10], [9, 18, 26, 34, 41, 45]]) == b"9319./2.5.8.10.12./9.18.26.34.41.45./"
    for bad, msg in [([], "non-empty list of number groups"), ([[]], r"\[0\]: expected a non-empty list"), ([[1, -2]], "non-negative integers"), ([[True]], "non-negative integers")]:
        with pytest.raises(FormatError, match=msg):
            beacon.encode_lottery(bad)


def test_contribution_commitment():
    secret = bytes(range(32))
    c = beacon.contribution_commitment("2025-01", "amr", secret)
    expected = hashlib.sha256(
        b"\x00\x00\x00\x10sunshine.draw/v1" b"\x00\x00\x00\x0ccontribution" b"\x00\x00\x00\x072025-01" b"\x00\x00\x00\x03amr"
        + b"\x00\x00\x00\x20" + secret
    ).hexdigest()
    assert c == expected
    assert beacon.contribution_commitment("2025-01", "health", secret) != c
    with pytest.raises(FormatError, match="expected a 32-byte secret, got 31 bytes"):
        beacon.contribution_commitment("2025-01", "amr", secret[:31])


def test_frame_layout():
    assert beacon.frame("ab", b"\x00") == b"\x00\x00\x00\x02ab\x00\x00\x00\x01\x00"
    assert beacon.frame("税") == b"\x00\x00\x00\x03" + "税".encode()


def test_py_ecc_is_imported_lazily():
    code = "import sys, sunshine.beacon as b; b.parse_beacon('{\"round\":1,\"signature\":\"' + 'a'*96 + '\"}'); print('py_ecc' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --------------------------------------------------------------------------- CLI (no network)

from sunshine import cli  # noqa: E402


def test_cli_verify_real_round(capsys):
    assert cli.main(["beacon", "verify", str(DRAND / "quicknet-1000.json"), "--round", "1000"]) == 0
    out = capsys.readouterr().out
    assert "ok: drand quicknet round 1000 (2023-08-23T15:59:24Z), randomness fe290bec" in out


def test_cli_verify_test_chain_needs_the_flag(capsys):
    path = str(DRAND / "test-1000.json")
    assert cli.main(["beacon", "verify", path]) == 4
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}: beacon round 1000: the BLS signature does not verify under the quicknet public key")
    assert cli.main(["beacon", "verify", path, "--test-chain"]) == 0
    assert "TEST chain (not real randomness)" in capsys.readouterr().out


def test_cli_verify_bad_file(tmp_path, capsys):
    p = tmp_path / "b.json"
    p.write_text('{"round": 5}')
    assert cli.main(["beacon", "verify", str(p)]) == 1
    assert f"error: {p}, field 'signature': expected 96 lowercase hex digits" in capsys.readouterr().err
    assert cli.main(["beacon", "verify", str(tmp_path / "missing.json")]) == 1
    assert "cannot read the file" in capsys.readouterr().err


def test_cli_fetch_from_file(tmp_path, capsys):
    src = DRAND / "quicknet-32000000.json"
    out = tmp_path / "r.json"
    assert cli.main(["beacon", "fetch", "32000000", "--from-file", str(src), "--out", str(out)]) == 0
    assert out.read_bytes() == src.read_bytes()  # verbatim
    assert "ok: drand quicknet round 32000000 (2026-09-07T17:49:24Z)" in capsys.readouterr().err
    assert cli.main(["beacon", "fetch", "32000000", "--from-file", str(src), "--out", str(out)]) == 0  # same bytes: fine
    out.write_text("{}")
    assert cli.main(["beacon", "fetch", "32000000", "--from-file", str(src), "--out", str(out)]) == 1
    assert "exists with different content" in capsys.readouterr().err


def test_cli_fetch_wrong_round_from_file(capsys):
    assert cli.main(["beacon", "fetch", "999", "--from-file", str(DRAND / "quicknet-1000.json")]) == 4
    assert "expected round 999, got round 1000" in capsys.readouterr().err


def test_cli_fetch_future_round_is_refused_before_any_request(capsys, monkeypatch):
    import urllib.request

    def no_network(*a, **k):  # pragma: no cover - must not be called
        raise AssertionError("network used")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    assert cli.main(["beacon", "fetch", str(10**11)]) == 1
    err = capsys.readouterr().err
    assert "does not exist yet" in err and "hint: the draw's randomness can be revealed only after its round time" in err


def test_cli_fetch_reports_unreachable_relays(capsys, monkeypatch):
    import urllib.error
    import urllib.request

    def refuse(*a, **k):
        raise urllib.error.URLError("offline (test)")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    assert cli.main(["beacon", "fetch", "1000", "--relay", "https://relay.invalid"]) == 1
    err = capsys.readouterr().err
    assert "round 1000: no relay answered (https://relay.invalid: offline (test))" in err
    assert "hint: when offline" in err
