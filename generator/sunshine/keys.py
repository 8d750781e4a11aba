"""Key files and signing identities (I/O module; normative text: ``docs/spec/ledger.md`` §9).

A *key file* holds one Ed25519 private key, encrypted with a passphrase, plus the public facts the
ledger publishes about it. It is a UTF-8 JSON object (written canonically, one line)::

    {"department":"amr","demo":false,"format":"sunshine-key/v1","name":"amr-op-2025",
     "private_key":"<encrypted PKCS#8 PEM, see below>","public_key":"<base64 32 bytes>",
     "role":"operator"}

``private_key`` is a PKCS#8 PEM encrypted with ``cryptography``'s ``BestAvailableEncryption``
(PBES2: PBKDF2-HMAC-SHA256 + AES-256-CBC). The passphrase comes from ``$SUNSHINE_PASSPHRASE`` or an
interactive prompt. Private keys are never written inside a source checkout or a site output
directory, except clearly labelled demo keys under a ``demo-keys`` directory.
"""

from __future__ import annotations

import base64
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .errors import KeyFileError

KEY_FILE_FORMAT = "sunshine-key/v1"
PASSPHRASE_ENV = "SUNSHINE_PASSPHRASE"
#: Roles a registered key may have (docs/spec/ledger.md §7.1).
ROLES = ("log", "root", "head", "operator", "witness")
#: Key names: ASCII, no spaces and no '+' (they also name signed-note keys).
KEY_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/:-]{0,63}\Z")
DEPARTMENT_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}\Z")
#: Markers of a directory whose contents may end up public: a source checkout or a site output.
_PUBLIC_TREE_MARKERS = (".git", "pyproject.toml", "pelicanconf.py", ".sunshine-output")


def check_key_name(name: object, where: str = "key name") -> str:
    if not isinstance(name, str) or not KEY_NAME_RE.match(name):
        raise KeyFileError(
            f"{where}: expected 1-64 characters of A-Z a-z 0-9 . _ / : - (starting with a letter or digit), "
            f"got {name!r}"
        )
    return name


@dataclass(frozen=True, slots=True)
class PublicKey:
    """The public facts about a key, as registered in the ledger."""

    name: str
    department: str
    role: str
    public_key: bytes  # 32 raw Ed25519 bytes

    def record(self) -> dict:
        """The key record of a ``key.register`` body (docs/spec/ledger.md §7.3)."""
        return {
            "name": self.name,
            "department": self.department,
            "role": self.role,
            "alg": "ed25519",
            "public_key": base64.b64encode(self.public_key).decode("ascii"),
        }

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except InvalidSignature:
            return False
        return True


class SigningIdentity:
    """A private key with its name, department and role: what signs ledger entries."""

    __slots__ = ("name", "department", "role", "demo", "_private")

    def __init__(
        self, name: str, department: str, role: str, private_key: Ed25519PrivateKey, *, demo: bool = False
    ) -> None:
        check_key_name(name)
        if role not in ROLES:
            raise KeyFileError(f"key {name!r}: expected a role in {', '.join(ROLES)}, got {role!r}")
        if not DEPARTMENT_RE.match(department):
            raise KeyFileError(f"key {name!r}: expected a department id (a-z 0-9 _ -), got {department!r}")
        self.name = name
        self.department = department
        self.role = role
        self.demo = demo
        self._private = private_key

    @classmethod
    def generate(cls, name: str, department: str, role: str, *, demo: bool = False) -> SigningIdentity:
        return cls(name, department, role, Ed25519PrivateKey.generate(), demo=demo)

    @property
    def private_key(self) -> Ed25519PrivateKey:
        return self._private

    @property
    def public_key_bytes(self) -> bytes:
        return self._private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    @property
    def public(self) -> PublicKey:
        return PublicKey(self.name, self.department, self.role, self.public_key_bytes)

    def record(self) -> dict:
        return self.public.record()

    def sign(self, message: bytes) -> bytes:
        return self._private.sign(message)

    def __repr__(self) -> str:  # never show key material
        return f"SigningIdentity({self.name!r}, department={self.department!r}, role={self.role!r})"


# --------------------------------------------------------------------------- key files


def encode_key_file(identity: SigningIdentity, passphrase: bytes) -> bytes:
    """The bytes of an encrypted key file for *identity* (format in the module docstring)."""
    if not passphrase:
        raise KeyFileError("expected a non-empty passphrase, got an empty one")
    pem = identity.private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase),
    ).decode("ascii")
    obj = {
        "department": identity.department,
        "demo": identity.demo,
        "format": KEY_FILE_FORMAT,
        "name": identity.name,
        "private_key": pem,
        "public_key": base64.b64encode(identity.public_key_bytes).decode("ascii"),
        "role": identity.role,
    }
    return (json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


def decode_key_file(data: bytes, passphrase: bytes, *, source: str = "key file") -> SigningIdentity:
    """Parse and decrypt a key file; :class:`KeyFileError` names what is wrong."""
    try:
        obj = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise KeyFileError(f"{source}: expected a JSON key file ({KEY_FILE_FORMAT}), got unparsable data: {exc}")
    if not isinstance(obj, dict) or obj.get("format") != KEY_FILE_FORMAT:
        got = obj.get("format") if isinstance(obj, dict) else type(obj).__name__
        raise KeyFileError(f"{source}: expected format {KEY_FILE_FORMAT!r}, got {got!r}")
    for field, typ in (("name", str), ("department", str), ("role", str), ("private_key", str),
                       ("public_key", str), ("demo", bool)):
        if not isinstance(obj.get(field), typ):
            raise KeyFileError(
                f"{source}: field {field!r}: expected {typ.__name__}, got {type(obj.get(field)).__name__}"
            )
    try:
        private = serialization.load_pem_private_key(obj["private_key"].encode("ascii"), password=passphrase)
    except (ValueError, TypeError) as exc:
        raise KeyFileError(
            f"{source}: cannot decrypt the private key (wrong passphrase or damaged file)",
            hint=f"the passphrase is read from ${PASSPHRASE_ENV} or prompted for",
        ) from exc
    if not isinstance(private, Ed25519PrivateKey):
        raise KeyFileError(f"{source}: expected an Ed25519 private key, got {type(private).__name__}")
    identity = SigningIdentity(obj["name"], obj["department"], obj["role"], private, demo=obj["demo"])
    if base64.b64encode(identity.public_key_bytes).decode("ascii") != obj["public_key"]:
        raise KeyFileError(f"{source}: field 'public_key' does not match the private key")
    return identity


def read_public_key_file(data: bytes, *, source: str = "key file") -> PublicKey:
    """The public part of a key file (no passphrase needed)."""
    try:
        obj = json.loads(data.decode("utf-8"))
        raw = base64.b64decode(obj["public_key"], validate=True)
        pk = PublicKey(check_key_name(obj["name"]), obj["department"], obj["role"], raw)
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise KeyFileError(f"{source}: expected a {KEY_FILE_FORMAT} key file, got unreadable data ({exc})")
    if len(pk.public_key) != 32:
        raise KeyFileError(f"{source}: field 'public_key': expected 32 bytes, got {len(pk.public_key)}")
    return pk


def get_passphrase(*, confirm: bool = False, env: dict | None = None) -> bytes:
    """The passphrase from ``$SUNSHINE_PASSPHRASE``, else an interactive prompt (twice if *confirm*)."""
    env = os.environ if env is None else env
    value = env.get(PASSPHRASE_ENV)
    if value:
        return value.encode("utf-8")
    import getpass
    import sys

    if not sys.stdin.isatty():
        raise KeyFileError(
            "no passphrase: $SUNSHINE_PASSPHRASE is not set and standard input is not a terminal",
            hint=f"set {PASSPHRASE_ENV} or run the command in a terminal to be prompted",
        )
    first = getpass.getpass("passphrase: ")
    if confirm and getpass.getpass("passphrase (again): ") != first:
        raise KeyFileError("the two passphrases differ")
    if not first:
        raise KeyFileError("expected a non-empty passphrase, got an empty one")
    return first.encode("utf-8")


def check_private_key_path(path: Path, *, demo: bool) -> None:
    """Refuse to put a private key where it could be committed or published.

    Refused: any location whose parent directories include a source checkout (``.git``,
    ``pyproject.toml``) or a site output (``pelicanconf.py``, ``.sunshine-output``), unless the key is
    a demo key (its name contains ``demo``) going into a directory named ``demo-keys``.
    """
    path = Path(path).absolute()
    for parent in path.parents:
        marker = next((m for m in _PUBLIC_TREE_MARKERS if (parent / m).exists()), None)
        if marker is None:
            continue
        if demo and path.parent.name == "demo-keys":
            return
        raise KeyFileError(
            f"refusing to write a private key to {path}: {parent} contains {marker}, so the key could be "
            "committed or published",
            hint="keep private keys outside the repository and the site output (e.g. ~/.config/sunshine/keys); "
            "only demo keys (name containing 'demo') may go under data/demo-keys/",
        )


def write_key_file(path: Path, identity: SigningIdentity, passphrase: bytes) -> None:
    """Write a new key file (mode 0600); never overwrites an existing file."""
    path = Path(path)
    if identity.demo != ("demo" in identity.name):
        raise KeyFileError(
            f"key {identity.name!r}: demo keys must have 'demo' in their name and other keys must not"
        )
    check_private_key_path(path, demo=identity.demo)
    if identity.demo and "demo" not in path.name:
        raise KeyFileError(f"refusing to write demo key to {path}: the file name must contain 'demo'")
    data = encode_key_file(identity, passphrase)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeyFileError(f"{path} already exists; refusing to overwrite a key file") from None
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def load_key_file(path: Path, passphrase: bytes | None = None) -> SigningIdentity:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"cannot read key file {path}: {exc.strerror}") from None
    if passphrase is None:
        passphrase = get_passphrase()
    return decode_key_file(data, passphrase, source=str(path))
