"""`sunshine verify`, `sunshine keys`, `sunshine ledger`, `sunshine witness`: exit codes, reports, state, layer 3."""

import json
import pytest

from sunshine import cli, entries, note
from sunshine.verify import verify_files

from ledger_fixture import ORIGIN, build_sample_ledger, layout_files, make_identities, read_files


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    s = build_sample_ledger(tmp_path_factory.mktemp("verify") / "ledger")
    return s, read_files(s.ledger.path)


def write_dir(path, files):
    for rel, data in files.items():
        p = path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    return path


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_verify_ok_json_and_state(sample, tmp_path, capsys):
    s, files = sample
    state = tmp_path / "state"
    code, out, err = run(capsys, "verify", str(s.ledger.path), "--state", str(state), "--json")
    assert code == 0, out
    rep = json.loads(out)
    assert rep["verdict"] == "ok" and rep["size"] == 17 and rep["layers"] == [1, 2, 3]
    assert rep["tasks"]["2026-07"]["note"].startswith("draw recomputed")
    assert rep["log_key_source"] == "genesis" and rep["witnesses"][0]["size"] == 16
    assert (state / "checkpoints" / "sunshine.example%2Fshiyi-test").read_bytes() == files["checkpoint"]
    code, out, _ = run(capsys, "verify", str(s.ledger.path), "--state", str(state), "--vkey", s.vkey)
    assert code == 0 and "consistent with the checkpoint verified before (size 17)" in out
    assert "OK: the ledger verifies" in out


def test_fork_against_remembered_checkpoint_is_exit_4(sample, tmp_path, capsys):
    s, files = sample
    state = tmp_path / "state"
    assert run(capsys, "verify", str(s.ledger.path), "--state", str(state))[0] == 0
    raws = __import__("sunshine").tiles.decode_entry_bundle(files["tile/entries/000.p/17"])
    ids = make_identities()
    other = entries.build_entry(ORIGIN, 16, entries.parse_entry(raws[15]).hash, "2026-10-21T02:00:00Z",
                                "draw.list_reveal", {"task": "2026-07"}, ids["amr-op"])
    forked = write_dir(tmp_path / "fork", {**layout_files(ORIGIN, raws[:16] + [other.raw], s.log),
                                           **{k: v for k, v in files.items() if k.startswith("blob/")}})
    code, out, err = run(capsys, "verify", str(forked), "--state", str(state), "--no-state")
    assert code == 3  # on its own the forked copy is authentic (its list reveal breaks an order rule)
    code, out, err = run(capsys, "verify", str(forked), "--state", str(state), "--vkey", s.vkey)
    assert code == 4 and "fork" in out and "hint: do not trust this copy" in err
    # the state was not overwritten by the forked checkpoint
    assert (state / "checkpoints" / "sunshine.example%2Fshiyi-test").read_bytes() == files["checkpoint"]


def test_tlog_only_and_usage_errors(sample, tmp_path, capsys):
    s, _ = sample
    code, out, _ = run(capsys, "verify", str(s.ledger.path), "--tlog-only", "--vkey", s.vkey, "--no-state")
    assert code == 0 and "layer 2 (entries, chain, signers, keys, blobs): not run" in out
    code, _, err = run(capsys, "verify", str(s.ledger.path), "--tlog-only", "--no-state")
    assert code == 1 and "error: --tlog-only needs --vkey" in err
    code, _, err = run(capsys, "verify", str(tmp_path / "nope"), "--no-state")
    assert code == 1 and err.startswith("error: ") and "Traceback" not in err
    code, out, _ = run(capsys, "verify", str(s.ledger.path), "--vkey", "not-a-key", "--no-state")
    assert code == 4 and "verifier key" in out


def _with(files, raws, additions, s, cut=None):
    raws = list(raws if cut is None else raws[:cut])
    for type_, body, signer, time in additions:
        prev = entries.parse_entry(raws[-1]).hash
        raws.append(entries.build_entry(ORIGIN, len(raws), prev, time, type_, body, signer).raw)
    return {**layout_files(ORIGIN, raws, s.log), **{k: v for k, v in files.items() if k.startswith("blob/")}}


def test_layer3_deadline_and_calendar(sample):
    s, files = sample
    from sunshine import tiles
    raws = tiles.decode_entry_bundle(files["tile/entries/000.p/17"])
    ids = make_identities()
    late = {"task": "2026-07", "target": "91379900MA0000011X", "department": "amr", "version": 1,
            "inspection_end": "2026-09-30", "published": "2026-11-30"}
    rep = verify_files(_with(files, raws, [("result.publish", late, ids["amr-op"], "2026-11-30T01:00:00Z")], s))
    assert rep.exit_code == 3
    [f] = rep.findings
    # 20 working days after 2026-09-30, with the National Day holidays (chinese-calendar)
    assert f.layer == 3 and "after the deadline 2026-11-" in f.message and "20 working days" in f.message
    unknown = {**late, "inspection_end": "2031-09-30", "published": "2031-10-01"}
    rep = verify_files(_with(files, raws, [("result.publish", unknown, ids["amr-op"], "2031-10-01T01:00:00Z")], s))
    assert rep.exit_code == 3 and "deadline cannot be computed" in rep.findings[0].message


def test_layer3_recomputed_draw_differs_from_the_lock(sample):
    s, files = sample
    from sunshine import tiles
    raws = tiles.decode_entry_bundle(files["tile/entries/000.p/17"])
    lock = entries.parse_entry(raws[11])
    assert lock.type == "draw.lock"
    ids = make_identities()
    wrong = {**lock.body, "selected_count": lock.body["selected_count"] - 1}
    rep = verify_files(_with(files, raws, [("draw.lock", wrong, ids["amr-op"], lock.time)], s, cut=11))
    assert rep.exit_code == 4
    assert any(f.layer == 3 and "selected targets" in f.message for f in rep.findings), rep.to_text()


def test_layer3_order_rules(sample):
    s, files = sample
    from sunshine import tiles
    raws = tiles.decode_entry_bundle(files["tile/entries/000.p/17"])
    ids = make_identities()
    # the randomness is revealed and then the operator voids the commitment (a re-draw)
    rep = verify_files(_with(files, raws, [("draw.void", {"task": "2026-07", "reason": "x"}, ids["amr-op"],
                                            "2026-09-07T18:01:00Z")], s, cut=11), recompute_draws=False)
    assert rep.exit_code == 3 and "void in state 'randomness'" in rep.to_text()


def test_keys_and_ledger_commands(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SUNSHINE_PASSPHRASE", "test passphrase")
    monkeypatch.setenv("SUNSHINE_STATE", str(tmp_path / "state"))
    k = tmp_path / "keys"
    for name, dept, role in (("sunshine.example/t", "amr", "log"), ("amr-root", "amr", "root"),
                             ("amr-op", "amr", "operator"), ("amr-op-2", "amr", "operator"),
                             ("w.example", "audit", "witness")):
        code, out, err = run(capsys, "keys", "generate", name, "--department", dept, "--role", role, "--out",
                             str(k / (name.replace("/", "_") + ".key")))
        assert code == 0, err
    key = {n: str(k / f"{n}.key") for n in ("sunshine.example_t", "amr-root", "amr-op", "amr-op-2", "w.example")}
    led = tmp_path / "ledger"
    (tmp_path / "genesis.json").write_text(json.dumps({"jurisdiction": "t", "name": "测试市", "office": "amr",
                                                       "departments": [{"id": "amr", "name": "市场监管局"}]}))
    w = ["--ledger", str(led), "--log-key", key["sunshine.example_t"]]
    assert run(capsys, "ledger", "init", str(led), "--origin", "sunshine.example/t", "--genesis",
               str(tmp_path / "genesis.json"), "--log-key", key["sunshine.example_t"], "--root-key",
               key["amr-root"], "--time", "2026-01-01T00:00:00Z")[0] == 0
    assert run(capsys, "keys", "register", key["amr-op"], "--root-key", key["amr-root"], *w, "--time",
               "2026-01-02T00:00:00Z")[0] == 0
    assert run(capsys, "keys", "register", key["w.example"], "--root-key", key["amr-root"], *w, "--time",
               "2026-01-02T00:00:01Z")[0] == 0
    assert run(capsys, "keys", "rotate", "amr-op", key["amr-op-2"], "--root-key", key["amr-root"], *w, "--time",
               "2026-03-01T00:00:00Z")[0] == 0
    assert run(capsys, "keys", "revoke", "amr-op-2", "--reason", "人员离职", "--root-key", key["amr-root"], *w,
               "--time", "2026-04-01T00:00:00Z")[0] == 0
    code, out, _ = run(capsys, "keys", "list", "--ledger", str(led), "--json")
    summary = json.loads(out)
    assert [(x["name"], x["status"]) for x in summary["keys"]] == [
        ("amr-root", "active"), ("amr-op", "rotated"), ("w.example", "active"), ("amr-op-2", "revoked")]
    # a refused step: the revoked key signs → PolicyError, exit 1, the ledger unchanged
    (tmp_path / "plan.json").write_text(json.dumps({"year": 2026, "version": 1, "published": "2026-02-27",
                                                    "tasks": []}))
    code, _, err = run(capsys, "ledger", "append", "--type", "plan.publish", "--body", str(tmp_path / "plan.json"),
                       "--key", key["amr-op-2"], *w, "--time", "2026-05-01T00:00:00Z")
    assert code == 1 and "revoked at 2026-04-01T00:00:00Z" in err
    (tmp_path / "bad.json").write_text('{"year": 2026.5}')
    code, _, err = run(capsys, "ledger", "append", "--type", "plan.publish", "--body", str(tmp_path / "bad.json"),
                       "--key", key["amr-root"], *w)
    assert code == 1 and "expected integers only, got the number 2026.5" in err
    (tmp_path / "broken.json").write_text('{"year": 20\n,,}')
    code, _, err = run(capsys, "ledger", "append", "--type", "plan.publish", "--body",
                       str(tmp_path / "broken.json"), "--key", key["amr-root"], *w)
    assert code == 1 and "line 2 column" in err
    # witness: cosign, record, verify
    code, out, _ = run(capsys, "verify", str(led), "--json")
    vkey = json.loads(out)["log_key"]
    code, line, err = run(capsys, "witness", "cosign", str(led), "--key", key["w.example"], "--log-vkey", vkey,
                          "--time", "1780000000", "--body-out", str(tmp_path / "wbody.json"))
    assert code == 0 and line.startswith("— w.example "), err
    state_after = json.loads((tmp_path / "state" / "witness" / "w.example.json").read_text())
    assert state_after["sunshine.example/t"]["size"] == 5 and state_after["sunshine.example/t"]["cosigned_at"] == 1780000000
    body = json.loads((tmp_path / "wbody.json").read_text())
    assert body["cosignatures"] == [line.strip()]
    # a key name is never reused
    code, _, err = run(capsys, "keys", "register", key["amr-op"], "--root-key", key["amr-root"], *w)
    assert code == 1 and "already used" in err
    code, out, _ = run(capsys, "ledger", "show", "--ledger", str(led))
    assert "key.revoke" in out and "吊销密钥" in out
    code, out, _ = run(capsys, "ledger", "show", "--ledger", str(led), "--seq", "0", "--json")
    assert json.loads(out)["type"] == "genesis"


def test_witness_refuses_a_fork(sample, tmp_path, capsys, monkeypatch):
    s, files = sample
    from sunshine import keys as keys_mod
    from ledger_fixture import fixed_test_key
    monkeypatch.setenv("SUNSHINE_PASSPHRASE", "pw")
    ident = keys_mod.SigningIdentity("witness.example/audit", "audit", "witness", fixed_test_key("witness"))
    keys_mod.write_key_file(tmp_path / "w.key", ident, b"pw")
    state = tmp_path / "wstate.json"
    code, line, err = run(capsys, "witness", "cosign", str(s.ledger.path), "--key", str(tmp_path / "w.key"),
                          "--log-vkey", s.vkey, "--state", str(state), "--time", "1790000000")
    assert code == 0, err
    text = note.parse_note(files["checkpoint"]).text
    sig = note.parse_note(text + b"\n" + line.strip().encode() + b"\n").signatures[0]
    assert note.verify_cosignature(text, sig, s.witness.verifier()) == 1790000000
    from sunshine import tiles
    raws = tiles.decode_entry_bundle(files["tile/entries/000.p/17"])
    forked = write_dir(tmp_path / "fork", {**layout_files(ORIGIN, raws[:16], s.log),
                                           **{k: v for k, v in files.items() if k.startswith("blob/")}})
    code, _, err = run(capsys, "witness", "cosign", str(forked), "--key", str(tmp_path / "w.key"),
                       "--log-vkey", s.vkey, "--state", str(state))
    assert code == 4 and "refusing to cosign" in err and "rollback" in err


def test_layer1_alone_verifies_any_tlog_tiles_log():
    """Entries that are not Sunshine entries (any bytes): layer 1 with a pinned key, nothing more."""
    from ledger_fixture import fixed_test_key

    log = note.new_ed25519_signer("example.com/any-log", fixed_test_key("any-log"))
    raws = [b"entry %d\n" % i for i in range(300)]
    files = layout_files("example.com/any-log", raws, log)
    rep = verify_files(files, vkey=log.verifier_key(), tlog_only=True, listing=list(files))
    assert rep.exit_code == 0 and rep.layers_run == [1] and rep.size == 300
    files["tile/1/000.p/1"] = bytes(32)
    assert verify_files(files, vkey=log.verifier_key(), tlog_only=True).exit_code == 4
    # as a Sunshine ledger it is rejected: entry 0 is not a genesis entry
    assert verify_files(layout_files("example.com/any-log", raws, log)).exit_code == 4


def test_a_blob_file_whose_name_ends_in_a_newline_is_not_taken_for_a_blob(sample):
    s, files = sample
    name = next(p for p in files if p.startswith("blob/sha256/"))
    odd = name + "\n"
    both = {**files, odd: files[name]}
    rep = verify_files(both, listing=list(both), recompute_draws=False)
    assert rep.integrity_ok
    assert f"{odd}: not a blob path; ignored" in rep.notices
