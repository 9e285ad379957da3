"""Service settings, read from environment variables and validated before anything starts.

A service that is misconfigured must stop at once with one line saying what to fix, instead of
failing later inside a request; :class:`SettingsError` carries that line.

No secret has a default in the source. Bearer tokens are EdDSA (Ed25519): a service holds only
the public key (``JWT_PUBLIC_KEY`` / ``JWT_PUBLIC_KEY_FILE``), so nothing a service stores or
leaks can mint a token. In development, when neither is given, the install's own key pair is
generated on first start under ``<data dir>/secrets`` (see :mod:`trainops_shared.credentials`);
production refuses to start without an explicit key. The feedback link key is separate
(``FEEDBACK_LINK_KEY_FILE``, generated likewise in development), and so is registration's
personal data key (``PERSONAL_DATA_KEY_FILE``). NATS credentials come from a
0600 file (``NATS_CREDENTIALS_FILE``) instead of the URL; every message that shows a URL hides
its password.

Mail goes to the SMTP server of ``SMTP_URL`` (``smtp://`` plain, ``smtp+starttls://``,
``smtps://`` implicit TLS; user and password in the URL or the password in
``SMTP_PASSWORD_FILE``): the password lives only in :class:`SmtpServer` and is left out of its
``repr`` and of every message that shows the URL.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.utils import parseaddr
from pathlib import Path
from typing import Literal, cast
from urllib.parse import unquote, urlsplit, urlunsplit

from trainops_shared.credentials import (
    FEEDBACK_LINK_KEY_FILE,
    PERSONAL_DATA_KEY_FILE,
    REGISTRATION_LINK_KEY_FILE,
    CredentialsError,
    NatsCredentials,
    development_public_key,
    ensure_random_key,
    load_nats_credentials,
    nats_credentials_path,
    parse_public_key,
    read_secret_file,
    redact_urls,
    secrets_dir,
)

DEFAULT_PORTS: dict[str, int] = {
    "registration": 8001,
    "scheduling": 8002,
    "feedback": 8003,
    "reporting": 8004,
    "identity": 8005,
}
SUPPORTED_DATABASE_SCHEMES = ("sqlite+aiosqlite", "postgresql+asyncpg")


class SettingsError(Exception):
    """A setting is missing or invalid; the message says which variable and what to set."""


def default_data_dir() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "trainops"


SMTP_SCHEMES: dict[str, Literal["plain", "starttls", "tls"]] = {
    "smtp": "plain",
    "smtp+starttls": "starttls",
    "smtps": "tls",
}
SMTP_DEFAULT_PORTS = {"plain": 25, "starttls": 587, "tls": 465}


@dataclass(frozen=True, slots=True)
class SmtpServer:
    """Where mail is handed over: ``SMTP_URL`` parsed (``smtp+starttls://user:pass@host:587``)."""

    host: str
    port: int
    security: Literal["plain", "starttls", "tls"]
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @property
    def url_redacted(self) -> str:
        """The URL fit for messages and logs: the user is shown, the password never."""
        scheme = next(k for k, v in SMTP_SCHEMES.items() if v == self.security)
        user = f"{self.username}:***@" if self.username else ""
        return f"{scheme}://{user}{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class MailSettings:
    """Outgoing mail: the server (``None``: none configured, messages wait in the outbox) and
    the addresses every message is sent from and answered to."""

    server: SmtpServer | None
    sender: str
    reply_to: str | None = None
    timeout: float = 30.0
    """Longest one delivery may take (``SMTP_TIMEOUT_MS``): a hung server is then an outage."""
    reminder_delay: float = 3 * 24 * 3600.0
    """Seconds after a feedback invitation (or the previous reminder) was sent before someone
    who has not answered is reminded (``FEEDBACK_REMINDER_DELAY_S``)."""
    reminder_limit: int = 2
    """At most this many reminders per invitation (``FEEDBACK_REMINDER_MAX``; 0: none)."""
    certificate_needs_feedback: frozenset[str] = frozenset()
    """Codes of the trainings whose certificate waits for the participant's feedback
    (``CERTIFICATE_REQUIRES_FEEDBACK``, comma-separated; ``*``: every training)."""


@dataclass(frozen=True, slots=True)
class Settings:
    service: str
    env: Literal["development", "production"]
    nats_url: str
    database_url: str
    data_dir: Path
    host: str
    port: int
    public_url: str
    jwt_public_key: str = field(repr=False)
    """PEM of the Ed25519 key bearer tokens are verified with (the only key a service holds)."""
    jwt_issuer: str
    jwt_audience: str
    log_level: str
    log_format: Literal["json", "console", "auto"]
    nats_connect_timeout: float
    stream_replicas: int
    max_body_bytes: int
    db_write_timeout: float = 3.0
    """Seconds a write may wait for the database before answering 503 (``DB_WRITE_TIMEOUT_MS``)."""
    feedback_link_key: str = field(default="", repr=False)
    """Key of the feedback invitation links; only the feedback service loads one."""
    personal_data_key: str = field(default="", repr=False)
    """Installation key wrapping each participant's own key (crypto-shredding) and keying the
    blind index of contacts; only registration, the one service holding personal data, loads
    one."""
    consent_purposes: str = ""
    """The consent purposes registration asks for (``REGISTRATION_CONSENT_PURPOSES``, comma
    separated; empty: its defaults). Registration validates the names at start-up."""
    retention_days: int = 0
    """Days a participant's personal data is kept after their last session ended
    (``PERSONAL_DATA_RETENTION_DAYS``); then registration erases it. ``0`` (the default):
    kept until erased on request, since only the installation knows its programme's rule (and
    the demo programme's sessions lie years back)."""
    retention_check_s: float = 3600.0
    """Seconds between two runs of registration's retention job
    (``PERSONAL_DATA_RETENTION_CHECK_S``)."""
    registration_link_key: str = field(default="", repr=False)
    """Key of the participants' own links in their mail (cancel, confirm or decline a new time),
    their check-in codes, join links and calendar feeds;
    only the registration service loads one (``REGISTRATION_LINK_KEY_FILE``)."""
    nats_user: str | None = None
    """The NATS user this service connects as (``None``: a server without authentication)."""
    identity_url: str = ""
    """Where browsers sign in (``TRAINOPS_IDENTITY_URL``): a page request without a session is
    redirected to ``<identity_url>/sign-in``."""
    service_urls: Mapping[str, str] = field(default_factory=dict)
    """Where a browser finds each service's pages (``TRAINOPS_SERVICE_URLS``,
    ``name=url,name=url``; default: this host's default ports), for the consoles' links."""
    cookie_secure: bool = False
    """Whether the session cookie is ``Secure`` (``TRAINOPS_COOKIE_SECURE``; default: when the
    public URL is HTTPS)."""
    mail: MailSettings | None = None
    """Outgoing mail (``SMTP_URL``, ``MAIL_FROM``, ``MAIL_REPLY_TO``); only registration, the
    one service that holds addresses, loads it."""
    workers: int = 1
    """HTTP worker processes sharing the port (``TRAINOPS_WORKERS``). More than one needs
    PostgreSQL: SQLite has a single writer, and the group commit that makes it fast lives in
    one process (a second process would only contend for the file lock)."""

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def nats_url_redacted(self) -> str:
        """``nats_url`` fit for messages and logs: passwords replaced by ``***``."""
        return redact_urls(self.nats_url)


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not an integer") from None
    if not low <= value <= high:
        raise SettingsError(f"{name}={value} is out of range {low}..{high}")
    return value


def _choice(env: Mapping[str, str], name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = env.get(name) or default
    if value not in allowed:
        raise SettingsError(f"{name}={value!r} is not one of {', '.join(allowed)}")
    return value


def validate_database_url(url: str, name: str = "DATABASE_URL") -> str:
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if scheme not in SUPPORTED_DATABASE_SCHEMES:
        raise SettingsError(
            f"{name}={redact_urls(url)!r} is not supported: use "
            f"sqlite+aiosqlite:///path/to/file.db "
            f"or postgresql+asyncpg://user@host:5432/dbname"
        )
    if scheme == "sqlite+aiosqlite" and url.rstrip("/") == "sqlite+aiosqlite:":
        raise SettingsError(f"{name} names no SQLite file")
    return url


def validate_nats_url(url: str) -> str:
    for part in url.split(","):
        try:
            parts = urlsplit(part.strip())
            valid = parts.scheme in ("nats", "tls", "ws", "wss") and bool(parts.hostname)
            valid = valid and (parts.port is None or parts.port > 0)
        except ValueError:
            valid = False
        if not valid:
            raise SettingsError(f"NATS_URL={redact_urls(url)!r} is not a nats://host:port URL")
    return url


def with_nats_credentials(url: str, credentials: NatsCredentials) -> str:
    """Every server of ``url`` with ``credentials`` as its userinfo (nats-py reads them from
    there), replacing any in the URL. The result is for the NATS client only, never shown."""
    servers = []
    for part in url.split(","):
        parts = urlsplit(part.strip())
        netloc = parts.netloc.rpartition("@")[2]
        netloc = f"{credentials.user}:{credentials.password}@{netloc}"
        servers.append(urlunsplit(parts._replace(netloc=netloc)))
    return ",".join(servers)


def nats_url_user(url: str) -> str | None:
    """The user in the first server of ``url``, if any."""
    try:
        return urlsplit(url.split(",")[0].strip()).username or None
    except ValueError:
        return None


EXPLICIT_SECRET_FORBIDDEN = 0o007
"""Permission bits a secret file named by a setting must not have: nobody but its owner and
group (Kubernetes' fsGroup, a secrets mount) may read it."""


def _file_or_value(
    env: Mapping[str, str], name: str, what: str, forbidden: int = EXPLICIT_SECRET_FORBIDDEN
) -> tuple[str | None, str | None]:
    """``(value, where)`` from ``<name>`` (inline) or ``<name>_FILE`` (a file's path)."""
    inline = env.get(name) or ""
    path = env.get(f"{name}_FILE") or ""
    if inline and path:
        raise SettingsError(f"set {name} or {name}_FILE, not both")
    if path:
        try:
            data = read_secret_file(Path(path).expanduser(), what, forbidden=forbidden)
        except CredentialsError as exc:
            raise SettingsError(f"{name}_FILE: {exc}") from None
        return data.decode("utf-8", errors="replace"), f"{name}_FILE"
    return (inline, name) if inline else (None, None)


def _jwt_public_key(env: Mapping[str, str], mode: str, data_dir: Path) -> str:
    if env.get("JWT_SECRET"):
        raise SettingsError(
            "JWT_SECRET is not used: bearer tokens are EdDSA-signed, so give the services only "
            "the public key (JWT_PUBLIC_KEY_FILE or JWT_PUBLIC_KEY) and unset JWT_SECRET"
        )
    text, where = _file_or_value(env, "JWT_PUBLIC_KEY", "JWT public key", forbidden=0)
    if text is None:
        if mode == "production":
            raise SettingsError(
                "JWT_PUBLIC_KEY_FILE (or JWT_PUBLIC_KEY) is required when TRAINOPS_ENV="
                "production: the Ed25519 public key of the token issuer, PEM"
            )
        try:
            return development_public_key(data_dir)
        except (CredentialsError, OSError) as exc:
            raise SettingsError(f"development signing key: {exc}") from None
    try:
        parse_public_key(text, str(where))
    except CredentialsError as exc:
        raise SettingsError(f"{exc} (need an Ed25519 public key in PEM)") from None
    return text


def _installation_key(
    env: Mapping[str, str], name: str, filename: str, what: str, mode: str, data_dir: Path
) -> str:
    """A symmetric installation key from ``<name>`` / ``<name>_FILE``; in development, when
    neither is set, the one generated on first use under ``<data dir>/secrets/<filename>``."""
    key, _ = _file_or_value(env, name, what)
    if key is None:
        if mode == "production":
            raise SettingsError(
                f"{name}_FILE (or {name}) is required when "
                "TRAINOPS_ENV=production: 32+ random characters (openssl rand -hex 32)"
            )
        try:
            return ensure_random_key(secrets_dir(data_dir) / filename, what)
        except (CredentialsError, OSError) as exc:
            raise SettingsError(f"development {what}: {exc}") from None
    key = key.strip()
    if len(key) < 32 or len(set(key)) < 8:
        raise SettingsError(f"{name} must be a random key of at least 32 characters")
    return key


def _nats_connection(
    env: Mapping[str, str], service: str, mode: str, data_dir: Path
) -> tuple[str, str | None]:
    """``(url for the client, user)``: ``NATS_URL`` with the credentials of
    ``NATS_CREDENTIALS_FILE`` (in development also the install's own file of this service)."""
    url = validate_nats_url(env.get("NATS_URL") or "nats://127.0.0.1:4222")
    user, password = env.get("NATS_USER") or "", env.get("NATS_PASSWORD") or ""
    if user or password:
        if not (user and password) or env.get("NATS_CREDENTIALS_FILE"):
            raise SettingsError(
                "set NATS_USER and NATS_PASSWORD together, or NATS_CREDENTIALS_FILE alone"
            )
        return with_nats_credentials(url, NatsCredentials(user, password)), user
    path_text = env.get("NATS_CREDENTIALS_FILE") or ""
    path = Path(path_text).expanduser() if path_text else None
    if path is None and mode == "development" and nats_url_user(url) is None:
        candidate = nats_credentials_path(data_dir / "secrets", service)
        path = candidate if candidate.exists() else None
    if path is None:
        return url, nats_url_user(url)
    try:
        forbidden = 0o077 if not path_text else EXPLICIT_SECRET_FORBIDDEN
        credentials = load_nats_credentials(path, forbidden=forbidden)
    except CredentialsError as exc:
        raise SettingsError(f"NATS_CREDENTIALS_FILE: {exc}") from None
    return with_nats_credentials(url, credentials), credentials.user


def parse_smtp_url(url: str, password_value: str | None = None) -> SmtpServer:
    """``SMTP_URL`` as a :class:`SmtpServer` (``password_value``: from ``SMTP_PASSWORD`` or
    ``SMTP_PASSWORD_FILE``, for a URL that names only the user); a bad URL is a
    :class:`SettingsError` that shows the URL without its password."""
    shown = redact_urls(url)
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise SettingsError(f"SMTP_URL={shown!r} has an invalid port") from None
    security = SMTP_SCHEMES.get(parts.scheme)
    if security is None:
        raise SettingsError(
            f"SMTP_URL={shown!r}: use smtp://host:25, smtp+starttls://user:password@host:587 "
            "or smtps://user:password@host:465"
        )
    if not parts.hostname:
        raise SettingsError(f"SMTP_URL={shown!r} names no host")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise SettingsError(f"SMTP_URL={shown!r}: only scheme, credentials, host and port")
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    if password_value is not None:
        if password:
            raise SettingsError(
                "set the SMTP password in SMTP_URL or SMTP_PASSWORD(_FILE), not both"
            )
        password = password_value.strip()
    if password and not username:
        raise SettingsError(f"SMTP_URL={shown!r} has a password but no user")
    if username and not password:
        raise SettingsError(
            f"SMTP_URL={shown!r} names user {username!r} without a password: put it in the URL "
            "or in SMTP_PASSWORD_FILE"
        )
    if username and security == "plain" and parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise SettingsError(
            f"SMTP_URL={shown!r} would send the password unencrypted: use smtp+starttls:// or "
            "smtps://"
        )
    return SmtpServer(
        host=parts.hostname,
        port=port or SMTP_DEFAULT_PORTS[security],
        security=security,
        username=username,
        password=password,
    )


def validate_mail_address(raw: str, name: str) -> str:
    """``raw`` if it is one address (``user@host`` or ``Name <user@host>``), else a
    :class:`SettingsError` naming ``name``."""
    display, address = parseaddr(raw)
    local, at, domain = address.rpartition("@")
    plausible = bool(at and local) and ("." in domain or domain == "localhost")
    if not plausible or "\n" in raw or "\r" in raw:
        raise SettingsError(f"{name}={raw!r} is not an e-mail address (name@example.org)")
    try:
        Address(display_name=display, addr_spec=address)
    except (ValueError, IndexError):
        raise SettingsError(f"{name}={raw!r} is not an e-mail address (name@example.org)") from None
    return raw.strip()


DEVELOPMENT_MAIL_FROM = "trainops <no-reply@localhost>"


def load_mail_settings(env: Mapping[str, str], mode: str) -> MailSettings:
    """``SMTP_URL`` / ``SMTP_PASSWORD_FILE``, ``MAIL_FROM``, ``MAIL_REPLY_TO``.

    Without ``SMTP_URL`` nothing is sent (messages wait); with one in production the sender must
    be given, since a made-up from-address is refused or marked as spam by real servers.
    """
    url = env.get("SMTP_URL") or ""
    password, _ = _file_or_value(env, "SMTP_PASSWORD", "SMTP password")
    server = parse_smtp_url(url, password) if url else None
    if server is None and password is not None:
        raise SettingsError("SMTP_PASSWORD(_FILE) is set but SMTP_URL is not")
    sender = env.get("MAIL_FROM") or ""
    if not sender:
        if mode == "production" and server is not None:
            raise SettingsError(
                "MAIL_FROM is required with SMTP_URL when TRAINOPS_ENV=production: the "
                "from-address, e.g. 'Training programme <no-reply@example.org>'"
            )
        sender = DEVELOPMENT_MAIL_FROM
    reply_to = env.get("MAIL_REPLY_TO") or None
    return MailSettings(
        server=server,
        sender=validate_mail_address(sender, "MAIL_FROM"),
        reply_to=validate_mail_address(reply_to, "MAIL_REPLY_TO") if reply_to else None,
        timeout=_int(env, "SMTP_TIMEOUT_MS", 30_000, 1000, 300_000) / 1000,
        reminder_delay=float(
            _int(env, "FEEDBACK_REMINDER_DELAY_S", 3 * 24 * 3600, 1, 90 * 24 * 3600)
        ),
        reminder_limit=_int(env, "FEEDBACK_REMINDER_MAX", 2, 0, 10),
        certificate_needs_feedback=frozenset(
            code.strip()
            for code in (env.get("CERTIFICATE_REQUIRES_FEEDBACK") or "").split(",")
            if code.strip()
        ),
    )


def load_settings(service: str, env: Mapping[str, str] | None = None) -> Settings:
    """Read and validate the settings of ``service`` from ``env`` (default: ``os.environ``)."""
    env = os.environ if env is None else env
    if service not in DEFAULT_PORTS:
        raise SettingsError(f"unknown service {service!r}")
    mode = _choice(env, "TRAINOPS_ENV", "development", ("development", "production"))
    data_dir = Path(env.get("TRAINOPS_DATA_DIR") or default_data_dir()).expanduser()
    database_url = validate_database_url(
        env.get("DATABASE_URL") or f"sqlite+aiosqlite:///{data_dir / (service + '.db')}"
    )
    public_key = _jwt_public_key(env, mode, data_dir)
    link_key = (
        _installation_key(
            env, "FEEDBACK_LINK_KEY", FEEDBACK_LINK_KEY_FILE, "feedback link key", mode, data_dir
        )
        if service == "feedback"
        else ""
    )
    personal_key = (
        _installation_key(
            env,
            "PERSONAL_DATA_KEY",
            PERSONAL_DATA_KEY_FILE,
            "personal data key",
            mode,
            data_dir,
        )
        if service == "registration"
        else ""
    )
    nats_url, nats_user = _nats_connection(env, service, mode, data_dir)
    host = env.get("TRAINOPS_HOST") or "127.0.0.1"
    port = _int(env, "TRAINOPS_PORT", DEFAULT_PORTS[service], 1, 65535)
    timeout_ms = _int(env, "NATS_CONNECT_TIMEOUT_MS", 3000, 100, 120_000)
    log_format = _choice(env, "LOG_FORMAT", "auto", ("json", "console", "auto"))
    public_url = (env.get("TRAINOPS_PUBLIC_URL") or f"http://{host}:{port}").rstrip("/")
    identity_url = (
        env.get("TRAINOPS_IDENTITY_URL") or f"http://{host}:{DEFAULT_PORTS['identity']}"
    ).rstrip("/")
    if urlsplit(identity_url).scheme not in ("http", "https"):
        raise SettingsError(f"TRAINOPS_IDENTITY_URL={identity_url!r} is not an http(s) URL")
    service_urls = _service_urls(env.get("TRAINOPS_SERVICE_URLS") or "", host)
    secure_default = "true" if public_url.startswith("https://") else "false"
    cookie_secure = _choice(env, "TRAINOPS_COOKIE_SECURE", secure_default, ("true", "false"))
    return Settings(
        service=service,
        env=cast(Literal["development", "production"], mode),
        nats_url=nats_url,
        database_url=database_url,
        data_dir=data_dir,
        host=host,
        port=port,
        public_url=public_url,
        jwt_public_key=public_key,
        jwt_issuer=env.get("JWT_ISSUER") or "trainops",
        jwt_audience=env.get("JWT_AUDIENCE") or "trainops",
        log_level=_choice(
            env, "LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
        ),
        log_format=cast(Literal["json", "console", "auto"], log_format),
        nats_connect_timeout=timeout_ms / 1000,
        stream_replicas=_int(env, "NATS_STREAM_REPLICAS", 1, 1, 5),
        max_body_bytes=_int(env, "MAX_BODY_BYTES", 256 * 1024, 1024, 64 * 1024 * 1024),
        db_write_timeout=_int(env, "DB_WRITE_TIMEOUT_MS", 3000, 100, 120_000) / 1000,
        feedback_link_key=link_key,
        personal_data_key=personal_key,
        consent_purposes=env.get("REGISTRATION_CONSENT_PURPOSES", ""),
        retention_days=_int(env, "PERSONAL_DATA_RETENTION_DAYS", 0, 0, 36_500),
        retention_check_s=float(_int(env, "PERSONAL_DATA_RETENTION_CHECK_S", 3600, 1, 86_400)),
        registration_link_key=(
            _installation_key(
                env,
                "REGISTRATION_LINK_KEY",
                REGISTRATION_LINK_KEY_FILE,
                "registration link key",
                mode,
                data_dir,
            )
            if service == "registration"
            else ""
        ),
        nats_user=nats_user,
        identity_url=identity_url,
        service_urls=service_urls,
        cookie_secure=cookie_secure == "true",
        mail=load_mail_settings(env, mode) if service == "registration" else None,
        workers=_workers(env, database_url),
    )


def _workers(env: Mapping[str, str], database_url: str) -> int:
    workers = _int(env, "TRAINOPS_WORKERS", 1, 1, 64)
    if workers > 1 and database_url.startswith("sqlite"):
        raise SettingsError(
            f"TRAINOPS_WORKERS={workers} needs PostgreSQL (DATABASE_URL): SQLite has one "
            "writer, whose group commit runs in one process"
        )
    return workers


def _service_urls(raw: str, host: str) -> dict[str, str]:
    urls = {name: f"http://{host}:{port}" for name, port in DEFAULT_PORTS.items()}
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        name, sep, url = item.partition("=")
        if not sep or name.strip() not in DEFAULT_PORTS:
            raise SettingsError(
                f"TRAINOPS_SERVICE_URLS: {item!r} is not service=url with a service of "
                + ", ".join(DEFAULT_PORTS)
            )
        if urlsplit(url.strip()).scheme not in ("http", "https"):
            raise SettingsError(f"TRAINOPS_SERVICE_URLS: {url.strip()!r} is not an http(s) URL")
        urls[name.strip()] = url.strip().rstrip("/")
    return urls
