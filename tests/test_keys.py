"""Key files: encryption round trip, wrong passphrase, refusal to write keys where they could leak."""

import json

import pytest

from sunshine import keys
from sunshine.errors import KeyFileError

PASS = b"correct horse battery staple"


def test_round_trip_and_public_part(tmp_path):
    ident = keys.SigningIdentity.generate("amr-op-2025", "amr", "operator")
    path = tmp_path / "keys" / "amr-op-2025.key"
    keys.write_key_file(path, ident, PASS)
    assert path.stat().st_mode & 0o777 == 0o600
    back = keys.load_key_file(path, PASS)
    assert back.public_key_bytes == ident.public_key_bytes
    assert (back.name, back.department, back.role, back.demo) == ("amr-op-2025", "amr", "operator", False)
    msg = b"hello"
    assert ident.public.verify(msg, back.sign(msg))
    assert not ident.public.verify(b"other", back.sign(msg))
    pub = keys.read_public_key_file(path.read_bytes())
    assert pub == ident.public
    # the private key is encrypted: the PEM says so and the raw key bytes do not appear
    data = json.loads(path.read_bytes())
    assert "ENCRYPTED PRIVATE KEY" in data["private_key"]
    assert "PRIVATE" not in repr(back) and data["public_key"] not in repr(back)


def test_wrong_passphrase_is_a_clear_error(tmp_path):
    path = tmp_path / "k.key"
    keys.write_key_file(path, keys.SigningIdentity.generate("k1", "amr", "head"), PASS)
    with pytest.raises(KeyFileError, match="wrong passphrase"):
        keys.load_key_file(path, b"nope")


def test_never_overwrites(tmp_path):
    path = tmp_path / "k.key"
    keys.write_key_file(path, keys.SigningIdentity.generate("k1", "amr", "head"), PASS)
    with pytest.raises(KeyFileError, match="already exists"):
        keys.write_key_file(path, keys.SigningIdentity.generate("k1", "amr", "head"), PASS)


@pytest.mark.parametrize("marker", [".git", "pyproject.toml", ".sunshine-output"])
def test_refuses_repo_and_output_dirs(tmp_path, marker):
    repo = tmp_path / "repo"
    (repo / "sub").mkdir(parents=True)
    if marker == ".git":
        (repo / marker).mkdir()
    else:
        (repo / marker).write_text("")
    with pytest.raises(KeyFileError, match="refusing to write a private key") as exc:
        keys.write_key_file(repo / "sub" / "k.key", keys.SigningIdentity.generate("k1", "amr", "head"), PASS)
    assert exc.value.hint and "outside the repository" in exc.value.hint


def test_demo_keys_allowed_only_labelled_under_demo_keys(tmp_path):
    repo = tmp_path / "repo"
    (repo / "data" / "demo-keys").mkdir(parents=True)
    (repo / "pyproject.toml").write_text("")
    demo = keys.SigningIdentity.generate("amr-demo-op", "amr", "operator", demo=True)
    keys.write_key_file(repo / "data" / "demo-keys" / "amr-demo-op.key", demo, PASS)
    with pytest.raises(KeyFileError, match="file name must contain 'demo'"):
        keys.write_key_file(repo / "data" / "demo-keys" / "amr-op.key", demo, PASS)
    with pytest.raises(KeyFileError, match="refusing"):
        keys.write_key_file(repo / "data" / "amr-demo-op.key", demo, PASS)
    real = keys.SigningIdentity.generate("amr-op", "amr", "operator")
    with pytest.raises(KeyFileError, match="refusing"):
        keys.write_key_file(repo / "data" / "demo-keys" / "amr-op-demo.key", real, PASS)
    with pytest.raises(KeyFileError, match="demo keys must have 'demo' in their name"):
        keys.write_key_file(tmp_path / "x.key", keys.SigningIdentity.generate("amr", "amr", "head", demo=True), PASS)


def test_passphrase_from_env_and_no_tty(monkeypatch):
    assert keys.get_passphrase(env={"SUNSHINE_PASSPHRASE": "pw"}) == b"pw"
    monkeypatch.setattr("sys.stdin.isatty", lambda: False, raising=False)
    with pytest.raises(KeyFileError, match="SUNSHINE_PASSPHRASE"):
        keys.get_passphrase(env={})


@pytest.mark.parametrize(
    "data, message",
    [
        (b"\xff", "unparsable"),
        (b"[]", "expected format"),
        (b'{"format":"sunshine-key/v1"}', "field 'name'"),
    ],
)
def test_malformed_key_files(data, message):
    with pytest.raises(KeyFileError, match=message):
        keys.decode_key_file(data, PASS, source="x.key")


def test_bad_names_roles_departments():
    with pytest.raises(KeyFileError, match="key name"):
        keys.SigningIdentity.generate("bad name", "amr", "head")
    with pytest.raises(KeyFileError, match="role"):
        keys.SigningIdentity.generate("k", "amr", "boss")
    with pytest.raises(KeyFileError, match="department"):
        keys.SigningIdentity.generate("k", "AMR!", "head")
    # a trailing newline is not "the end" of a name (a `$` anchor would let it through into signed notes)
    with pytest.raises(KeyFileError, match="key name"):
        keys.SigningIdentity.generate("amr-op\n", "amr", "head")
    with pytest.raises(KeyFileError, match="department"):
        keys.SigningIdentity.generate("k", "amr\n", "head")


def test_committed_demo_keys_are_labelled_and_use_the_documented_passphrase():
    import re
    from pathlib import Path

    d = Path(__file__).resolve().parent.parent / "data" / "demo-keys"
    if not d.is_dir():
        pytest.skip("no data/demo-keys in this checkout")
    readme = (d / "README.md").read_text(encoding="utf-8")
    assert "DEMO ONLY" in readme
    m = re.search(r"SUNSHINE_PASSPHRASE=([^\s`]+)", readme)
    assert m, "the README documents the demo passphrase"
    files = sorted(d.glob("*.key"))
    assert len(files) >= 4
    roles = set()
    for p in files:
        pub = keys.read_public_key_file(p.read_bytes(), source=str(p))
        assert "demo" in p.name and "demo" in pub.name and json.loads(p.read_bytes())["demo"] is True
        roles.add(pub.role)
    assert {"log", "root", "operator", "head"} <= roles
    for p in files[:2]:  # decrypting is deliberately slow (PBKDF2); two are enough
        assert keys.load_key_file(p, m.group(1).encode()).demo
