"""Helpers of the attack-matrix tests: routes from OpenAPI documents, canaries, leak searches.

The security tests drive every check from each service's own OpenAPI document, so a route
added later is covered (or fails as unclassified) without anyone remembering to list it.
Canaries are unique, recognisable personal data; the helpers here find them wherever they
must not be: in response bodies, stream messages, database files and logs.
"""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "options", "head")
_PARAM = re.compile(r"\{([^}:]+)(?::[^}]*)?\}")


@dataclass(frozen=True, slots=True)
class Operation:
    """One route of one service as its OpenAPI document describes it."""

    service: str
    method: str
    path: str
    path_params: tuple[str, ...]
    required_query: tuple[str, ...]
    body_media_types: tuple[str, ...]
    declared_public: bool
    """The operation overrides the document's security with ``security: []``."""

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"

    def __str__(self) -> str:
        return f"{self.service} {self.key}"


def operations(service: str, document: Mapping[str, Any]) -> list[Operation]:
    """Every operation of ``document`` (an OpenAPI 3 dict), in document order."""
    found: list[Operation] = []
    for path, item in (document.get("paths") or {}).items():
        shared = list(item.get("parameters") or [])
        for method in HTTP_METHODS:
            op = item.get(method)
            if not isinstance(op, Mapping):
                continue
            params = [*shared, *(op.get("parameters") or [])]
            in_path = tuple(_PARAM.findall(path))
            required_query = tuple(
                str(p["name"]) for p in params if p.get("in") == "query" and p.get("required")
            )
            body = op.get("requestBody") or {}
            media = tuple((body.get("content") or {}).keys())
            found.append(
                Operation(
                    service=service,
                    method=method.upper(),
                    path=path,
                    path_params=in_path,
                    required_query=required_query,
                    body_media_types=media,
                    declared_public=op.get("security") == [],
                )
            )
    return found


class UnknownParameter(KeyError):
    """A path or query parameter that the test has no value for: the route is unclassified."""


def fill_path(template: str, values: Mapping[str, str]) -> str:
    """``/registrations/{registration_id}`` with the value of ``registration_id``."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise UnknownParameter(f"no value for path parameter {name!r} of {template}")
        return values[name]

    return _PARAM.sub(one, template)


def _letters(n: int) -> str:
    return "".join(secrets.choice(string.ascii_lowercase) for _ in range(n))


@dataclass(frozen=True, slots=True)
class Canary:
    """A participant nobody else could be: every value is unique to one test run."""

    full_name: str
    email: str
    phone: str
    organisation: str

    @classmethod
    def fresh(cls) -> Canary:
        tag = _letters(10)
        digits = "".join(secrets.choice(string.digits) for _ in range(7))
        return cls(
            full_name=f"Kanareyka {tag.capitalize()}ova",
            email=f"canary.{tag}@example.kz",
            phone=f"+7701{digits}",
            organisation=f"Canary Media {tag.upper()}",
        )

    def participant(self, city: str, **overrides: Any) -> dict[str, Any]:
        """A ``participant`` body of ``POST /registrations`` for this person in ``city``."""
        body: dict[str, Any] = {
            "full_name": self.full_name,
            "email": self.email,
            "phone": self.phone,
            "organisation": self.organisation,
            "sector": "media",
            "sex": "female",
            "age_band": "25-34",
            "city": city,
            "language": "ru",
        }
        body.update(overrides)
        return body

    def personal_data(self) -> dict[str, str]:
        """What must never leave registration: name, e-mail and phone, also as bare digits."""
        return {
            "full_name": self.full_name,
            "email": self.email,
            "phone": self.phone,
            "phone digits": self.phone.lstrip("+"),
        }


def leaks(text: str | bytes, needles: Mapping[str, str]) -> list[str]:
    """The labels of ``needles`` whose value occurs in ``text`` (case-insensitively).

    JSON escapes non-ASCII text, so a needle is also looked for in its ``\\uXXXX`` form.
    """
    haystack = text.decode("utf-8", errors="replace") if isinstance(text, bytes) else text
    folded = haystack.casefold()
    found: list[str] = []
    for label, value in needles.items():
        if not value:
            continue
        escaped = value.encode("ascii", "backslashreplace").decode("ascii")
        if value.casefold() in folded or escaped.casefold() in folded:
            found.append(label)
    return found


def files_leaking(paths: Iterable[Path], needles: Mapping[str, str]) -> dict[str, list[str]]:
    """``{file: labels}`` for every file among ``paths`` holding one of ``needles``' values.

    Files are read as bytes, so a SQLite database (and its ``-wal`` journal) is searched as
    stored: SQLite keeps text as UTF-8 in its pages.
    """
    hits: dict[str, list[str]] = {}
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError:
            continue
        labels = leaks(data, needles)
        if labels:
            hits[str(path)] = labels
    return hits


async def every_stream_message(nats_url: str, **connect_options: Any) -> dict[str, list[bytes]]:
    """``{stream: [headers and payload of each message]}`` of every JetStream stream.

    Reads by sequence number through the stream's direct API, so no consumer is created and
    nothing is acknowledged on the services' behalf.
    """
    import nats
    from nats.js.errors import NotFoundError

    nc = await nats.connect(
        nats_url, connect_timeout=5, max_reconnect_attempts=0, **connect_options
    )
    try:
        js = nc.jetstream()
        out: dict[str, list[bytes]] = {}
        for info in await js.streams_info():
            name = info.config.name
            assert name is not None
            state = info.state
            messages: list[bytes] = []
            # An empty stream reports first_seq 0, which is no message number.
            for seq in range(max(state.first_seq, 1), state.last_seq + 1):
                try:
                    msg = await js.get_msg(name, seq)
                except NotFoundError:
                    continue
                headers = "".join(f"{k}: {v}\n" for k, v in (msg.headers or {}).items())
                messages.append(headers.encode() + (msg.data or b""))
            out[name] = messages
        return out
    finally:
        await nc.close()
