"""Per-installation secrets: generated on first use into the data directory, never in the source.

A development install has no configuration, yet must not share a secret with every other
install (a constant in the source lets anyone mint an admin token for any default install). So
the first process that needs a secret creates it under ``<data dir>/secrets/`` (directory 0700,
files 0600) and every later process reads the same file:

* ``jwt-signing.key`` / ``jwt-signing.pub``: the Ed25519 key pair of bearer tokens. Only the
  token issuer (``trainops token``, the launcher, an identity component later) reads the private
  key; the services verify with the public key.
* ``feedback-link.key``: the key of the feedback invitation links, independent of the token key
  (rotating one never invalidates the other).
* ``nats-<user>.json``: the NATS user and password of each service and of the operator.

Creation is race-free: the file is written under a temporary name and hard-linked into place,
which fails if another process got there first; the loser reads the winner's file. That matters
because ``trainops up`` starts four services at once on a fresh data directory.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

SECRETS_DIRNAME = "secrets"
SIGNING_KEY_FILE = "jwt-signing.key"
PUBLIC_KEY_FILE = "jwt-signing.pub"
FEEDBACK_LINK_KEY_FILE = "feedback-link.key"
REGISTRATION_LINK_KEY_FILE = "registration-link.key"


class CredentialsError(Exception):
    """A secret file is missing, unreadable, too open or malformed; the message names it."""


def secrets_dir(data_dir: Path) -> Path:
    """``<data_dir>/secrets``, created with mode 0700 (tightened if it exists and is wider)."""
    path = Path(data_dir) / SECRETS_DIRNAME
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        path.chmod(0o700)
    return path


def write_secret_file(path: Path, data: bytes) -> bool:
    """Create ``path`` (mode 0600) holding ``data`` unless it exists; ``True`` if this call
    created it. Readers never see a partly written file."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if path.exists():
        return False
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return False
        return True
    finally:
        temporary.unlink(missing_ok=True)


def read_secret_file(path: Path, what: str, *, forbidden: int = 0o077) -> bytes:
    """The bytes of a secret file; refused when a permission bit of ``forbidden`` is set
    (default: any for group or others; a public key passes ``0``)."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        data = path.read_bytes()
    except OSError as exc:
        raise CredentialsError(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    if mode & forbidden:
        raise CredentialsError(
            f"{what} {path} is readable by other users (mode {mode:o}): chmod 600 {path}"
        )
    return data


# --------------------------------------------------------------------------------------------
# Token signing keys (Ed25519)
# --------------------------------------------------------------------------------------------


def public_key_pem(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def private_key_pem(key: Ed25519PrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def parse_public_key(text: str, what: str = "JWT public key") -> Ed25519PublicKey:
    """An Ed25519 public key from PEM text; anything else (RSA, an HMAC secret, garbage) is
    refused, so a verifier can never be configured with a key of another algorithm."""
    try:
        key = serialization.load_pem_public_key(text.strip().encode("ascii"))
    except (ValueError, UnicodeEncodeError, TypeError):
        raise CredentialsError(f"{what} is not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise CredentialsError(f"{what} is a {type(key).__name__}, not an Ed25519 key")
    return key


def parse_private_key(data: bytes, what: str = "JWT signing key") -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise CredentialsError(f"{what} is not an unencrypted PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise CredentialsError(f"{what} is a {type(key).__name__}, not an Ed25519 key")
    return key


def ensure_signing_key(data_dir: Path) -> Path:
    """The path of this install's token signing key, generating the pair on first use."""
    folder = secrets_dir(data_dir)
    private_path = folder / SIGNING_KEY_FILE
    if not private_path.exists():
        write_secret_file(private_path, private_key_pem(Ed25519PrivateKey.generate()).encode())
    public_path = folder / PUBLIC_KEY_FILE
    if not public_path.exists():
        key = parse_private_key(read_secret_file(private_path, "JWT signing key"))
        write_secret_file(public_path, public_key_pem(key).encode())
    return private_path


def development_public_key(data_dir: Path) -> str:
    """The PEM public key a development service verifies with (the pair is made if missing)."""
    ensure_signing_key(data_dir)
    path = secrets_dir(data_dir) / PUBLIC_KEY_FILE
    text = read_secret_file(path, "JWT public key").decode("ascii", errors="replace")
    parse_public_key(text, f"JWT public key {path}")
    return text


def load_signing_key(path: Path) -> Ed25519PrivateKey:
    return parse_private_key(read_secret_file(path, "JWT signing key"), f"JWT signing key {path}")


# --------------------------------------------------------------------------------------------
# Symmetric keys
# --------------------------------------------------------------------------------------------


def ensure_random_key(path: Path, what: str, nbytes: int = 32) -> str:
    """A random key (hex) kept in ``path``, generated on first use."""
    write_secret_file(path, (secrets.token_hex(nbytes) + "\n").encode("ascii"))
    return read_secret_file(path, what).decode("ascii", errors="replace").strip()


# --------------------------------------------------------------------------------------------
# NATS credentials
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NatsCredentials:
    user: str
    password: str

    def __repr__(self) -> str:
        return f"NatsCredentials(user={self.user!r}, password='***')"

    def to_json(self) -> bytes:
        return (json.dumps({"user": self.user, "password": self.password}) + "\n").encode()


def nats_credentials_path(folder: Path, user: str) -> Path:
    return folder / f"nats-{user}.json"


def load_nats_credentials(path: Path, *, forbidden: int = 0o077) -> NatsCredentials:
    """Read a ``{"user": ..., "password": ...}`` file (mode 0600)."""
    data = read_secret_file(path, "NATS credentials file", forbidden=forbidden)
    try:
        parsed = json.loads(data)
        user, password = parsed["user"], parsed["password"]
    except (ValueError, KeyError, TypeError):
        raise CredentialsError(
            f'NATS credentials file {path} is not {{"user": "...", "password": "..."}}'
        ) from None
    if not (isinstance(user, str) and isinstance(password, str) and user and password):
        raise CredentialsError(f"NATS credentials file {path} has an empty user or password")
    return NatsCredentials(user, password)


def ensure_nats_credentials(folder: Path, user: str) -> NatsCredentials:
    """The credentials of ``user`` in ``folder``, generated on first use (32 random bytes,
    URL-safe: they may be put into a ``nats://user:password@host`` URL unescaped)."""
    path = nats_credentials_path(folder, user)
    write_secret_file(path, NatsCredentials(user, secrets.token_urlsafe(32)).to_json())
    return load_nats_credentials(path)


# --------------------------------------------------------------------------------------------
# Redaction
# --------------------------------------------------------------------------------------------

_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/\s@'\"]+)@")


_TOKEN_SCHEMES = ("nats://", "tls://", "ws://", "wss://")


def _redacted_userinfo(match: re.Match[str]) -> str:
    user, colon, _ = match["userinfo"].partition(":")
    if colon:
        return f"{match['scheme']}{user}:***@"
    # NATS reads a user without a password as a token: hide it; elsewhere it is a user name.
    token = match["scheme"].lower() in _TOKEN_SCHEMES
    return f"{match['scheme']}{'***' if token else user}@"


def redact_urls(text: str) -> str:
    """``nats://svc:s3cret@host`` -> ``nats://svc:***@host`` everywhere in ``text``."""
    return _USERINFO.sub(_redacted_userinfo, text) if "@" in text else text
