"""Who may do what on NATS: one user per service, an operator, and the server's ``authorization``
block rendered from that one table.

Each service user may

* publish only its own context's events (``registration.>`` for registration; reporting none)
  and its own dead letters (``deadletter.<service>.>``);
* declare (info/create) the streams it produces or reads, update only the one it produces;
* create, read and pull from only the durable consumer named after itself, on only the streams
  it reads, and ack only that consumer's messages;
* read single messages (the max-deliveries dead-letter path) of only the streams it reads;
* receive replies only on its own inbox prefix (``_INBOX_<user>.``): with the shared
  ``_INBOX.>`` any service could subscribe to the pull responses of every other consumer.

With pull consumers a service never subscribes to event subjects: it asks JetStream for a batch
(``$JS.API.CONSUMER.MSG.NEXT.<stream>.<consumer>``) and the messages arrive on its inbox, so
what it may read is governed by the consumer API subjects it may publish to.

The operator user (``trainops deadletters``, the nats CLI) has no restrictions and its password
is given to no service. ``deploy/nats/auth.conf`` is :func:`render_authorization` with the
passwords left to the server's environment (a test keeps the two identical); ``trainops up``
and the test harness render it with the generated passwords into a 0600 file.

nats-server also accepts bcrypt hashes here; no bcrypt implementation is installed, so the
locally generated config holds the passwords themselves and is protected by its file mode.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from trainops_shared.events.streams import (
    DEAD_LETTER,
    FEEDBACK,
    IDENTITY,
    REGISTRATION,
    SCHEDULING,
)

SERVICE_USERS: tuple[str, ...] = (
    "registration",
    "scheduling",
    "feedback",
    "reporting",
    "identity",
)
OPERATOR_USER = "operator"
ALL_USERS: tuple[str, ...] = (*SERVICE_USERS, OPERATOR_USER)

PRODUCES: dict[str, tuple[str, ...]] = {
    "registration": (REGISTRATION.name,),
    "scheduling": (SCHEDULING.name,),
    "feedback": (FEEDBACK.name,),
    "reporting": (),
    "identity": (IDENTITY.name,),
}
"""The streams each service publishes to (and owns the declaration of)."""
CONSUMES: dict[str, tuple[str, ...]] = {
    "registration": (SCHEDULING.name, FEEDBACK.name),
    "scheduling": (REGISTRATION.name,),
    "feedback": (SCHEDULING.name, REGISTRATION.name),
    "reporting": (SCHEDULING.name, REGISTRATION.name, FEEDBACK.name),
    "identity": (),
}
"""The streams each service reads with its durable consumer (checked against every service's
event handlers by a test)."""
_CONTEXT_OF = {s.name: s.context for s in (SCHEDULING, REGISTRATION, FEEDBACK, IDENTITY)}

DEFAULT_INBOX_PREFIX = "_INBOX"


def inbox_prefix(user: str | None) -> str:
    """The reply-subject prefix a client of ``user`` must use (the default for no user)."""
    return f"{DEFAULT_INBOX_PREFIX}_{user}" if user else DEFAULT_INBOX_PREFIX


@dataclass(frozen=True, slots=True)
class Permissions:
    publish: tuple[str, ...]
    subscribe: tuple[str, ...]


def permissions(user: str) -> Permissions:
    """The publish/subscribe allow lists of a service user."""
    if user not in SERVICE_USERS:
        raise ValueError(f"no NATS permissions are defined for {user!r}")
    produces = PRODUCES[user]
    consumes = CONSUMES[user]
    declared = [*produces, *(s for s in consumes if s not in produces), DEAD_LETTER.name]
    publish: list[str] = [*(f"{_CONTEXT_OF[s]}.>" for s in produces)]
    publish += [f"{DEAD_LETTER.context}.{user}.>", "$JS.API.INFO"]
    publish += [f"$JS.API.STREAM.INFO.{s}" for s in declared]
    publish += [f"$JS.API.STREAM.CREATE.{s}" for s in declared]
    publish += [f"$JS.API.STREAM.UPDATE.{s}" for s in produces]
    for stream in consumes:
        publish += [
            f"$JS.API.CONSUMER.CREATE.{stream}.{user}",
            f"$JS.API.CONSUMER.CREATE.{stream}.{user}.>",
            f"$JS.API.CONSUMER.DURABLE.CREATE.{stream}.{user}",
            f"$JS.API.CONSUMER.INFO.{stream}.{user}",
            # its own durable only: recreated at a sequence when a rebuilt read model is adopted
            f"$JS.API.CONSUMER.DELETE.{stream}.{user}",
            f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{user}",
            f"$JS.API.STREAM.MSG.GET.{stream}",
            f"$JS.API.DIRECT.GET.{stream}",
            f"$JS.API.DIRECT.GET.{stream}.>",
            # Ack subjects: $JS.ACK.<stream>.<consumer>.… and, with a domain and account hash,
            # $JS.ACK.<domain>.<hash>.<stream>.<consumer>.…
            f"$JS.ACK.{stream}.{user}.>",
            f"$JS.ACK.*.*.{stream}.{user}.>",
        ]
    subscribe = [f"{inbox_prefix(user)}.>"]
    subscribe += [f"$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.{s}.{user}" for s in consumes]
    # Every service follows the revocations (trainops_shared.revocations): live on the
    # subjects themselves, and replayed message by message from the stream on (re)connect.
    if IDENTITY.name not in declared:
        publish.append(f"$JS.API.STREAM.INFO.{IDENTITY.name}")
    publish.append(f"$JS.API.STREAM.MSG.GET.{IDENTITY.name}")
    subscribe.append(f"{IDENTITY.context}.>")
    return Permissions(tuple(publish), tuple(subscribe))


def password_variable(user: str) -> str:
    return f"NATS_{user.upper()}_PASSWORD"


_HEADER = """\
# trainops: NATS users and permissions. Generated from trainops_shared.nats_auth (a test keeps
# this file identical to it): change the table there, then regenerate with
#   uv run python -m trainops_shared.nats_auth > deploy/nats/auth.conf
#
# Included by nats-server.conf. One user per service: it may publish only its own context's
# events and its own dead letters, declare only the streams it produces or reads, and use only
# the durable consumer named after itself on the streams it reads. Replies reach a service only
# on its own inbox prefix (_INBOX_<user>). The operator (trainops deadletters, the nats CLI) is
# unrestricted: keep its password out of every service's environment.
#
# Passwords are not in this file: nats-server resolves $NATS_<USER>_PASSWORD from its
# environment at start-up (Kubernetes: the trainops-nats-auth Secret; compose: deploy/.env).
# A bcrypt hash (`nats server passwd`) may be put in the environment instead of the password.
# `trainops up` and the test harness write the same block with generated passwords into a
# 0600 file in the data directory.
"""


def render_authorization(passwords: Mapping[str, str] | None = None) -> str:
    """The ``authorization { ... }`` config: with ``passwords`` literally (a 0600 file), else
    with ``$NATS_<USER>_PASSWORD`` references for the server's environment."""

    def password(user: str) -> str:
        if passwords is None:
            return f"${password_variable(user)}"
        return json.dumps(passwords[user])

    def subjects(items: tuple[str, ...], indent: str) -> str:
        return "".join(f"{indent}{json.dumps(s)}\n" for s in items)

    lines = [_HEADER, "authorization {\n", "  # A client without valid credentials is refused.\n"]
    lines.append("  timeout: 2\n  users: [\n")
    for user in SERVICE_USERS:
        perms = permissions(user)
        lines.append("    {\n")
        lines.append(f"      user: {json.dumps(user)}\n      password: {password(user)}\n")
        lines.append("      permissions: {\n        publish: {\n          allow: [\n")
        lines.append(subjects(perms.publish, "            "))
        lines.append("          ]\n        }\n        subscribe: {\n          allow: [\n")
        lines.append(subjects(perms.subscribe, "            "))
        lines.append("          ]\n        }\n      }\n    }\n")
    lines.append("    {\n")
    lines.append(f"      user: {json.dumps(OPERATOR_USER)}\n")
    lines.append(f"      password: {password(OPERATOR_USER)}\n")
    lines.append("    }\n  ]\n}\n")
    return "".join(lines)


if __name__ == "__main__":
    print(render_authorization(), end="")
