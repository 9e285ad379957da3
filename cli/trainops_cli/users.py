"""``trainops users``: manage sign-in accounts (add, list, disable, enable, set-password, set-role).

It works on the identity service's database directly, with the identity service's own use cases
(the same checks, hashing, audit entries and revocation events as its admin API), so the first
admin can be created before anyone can sign in, and with the service stopped. The database is
``--database-url`` / ``$IDENTITY_DATABASE_URL``, else ``<data dir>/identity.db`` (``--data-dir``
/ ``$TRAINOPS_DATA_DIR``), the one ``trainops up`` uses. Revocations written here (disable,
set-role) are published by the identity service's outbox relay within a second, or at its next
start.

Passwords are read from stdin (``--password-stdin``, first line) or asked for twice without
echo; they are never printed, logged or put in a command line.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from trainops_shared.auth import ROLES

if TYPE_CHECKING:
    from trainops_identity.handlers.context import Identity

T = TypeVar("T")

HELP = "manage sign-in accounts (the identity service's database)"
DESCRIPTION = (
    "Add, list, disable, enable accounts and set their password or role, in the identity "
    "service's database (--database-url, $IDENTITY_DATABASE_URL, or <data dir>/identity.db)."
)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        help="the install (default: $TRAINOPS_DATA_DIR or ~/.local/share/trainops)",
    )
    parser.add_argument(
        "--database-url",
        metavar="URL",
        help="the identity database (default: $IDENTITY_DATABASE_URL or <data dir>/identity.db)",
    )


def arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    add = actions.add_parser("add", help="add an account")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--region", help="the coordinator's city code (coordinators only)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    _common(add)
    add.set_defaults(func=_run(_add))

    listing = actions.add_parser("list", help="list the accounts")
    _common(listing)
    listing.set_defaults(func=_run(_list))

    for name, disabled in (("disable", True), ("enable", False)):
        sub = actions.add_parser(
            name,
            help="disable an account (its sessions and tokens are revoked)"
            if disabled
            else "enable a disabled account",
        )
        sub.add_argument("username")
        _common(sub)
        sub.set_defaults(func=_run(_switch), disabled=disabled)

    password = actions.add_parser("set-password", help="set an account's password")
    password.add_argument("username")
    password.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin"
    )
    _common(password)
    password.set_defaults(func=_run(_set_password))

    role = actions.add_parser("set-role", help="set an account's role (and region)")
    role.add_argument("username")
    role.add_argument("--role", required=True, choices=ROLES)
    role.add_argument("--region", help="the coordinator's city code (coordinators only)")
    _common(role)
    role.set_defaults(func=_run(_set_role))


def database_url(args: argparse.Namespace) -> str:
    from trainops_shared.settings import default_data_dir

    explicit = args.database_url or os.environ.get("IDENTITY_DATABASE_URL")
    if explicit:
        return str(explicit)
    root = Path(args.data_dir or os.environ.get("TRAINOPS_DATA_DIR") or default_data_dir())
    root = root.expanduser()
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    return f"sqlite+aiosqlite:///{root / 'identity.db'}"


def read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise SystemExit(
            "trainops users: no terminal to ask for the password; use --password-stdin"
        )
    first = getpass.getpass("New password: ")
    if getpass.getpass("Repeat it: ") != first:
        raise SystemExit("trainops users: the passwords differ; nothing changed")
    return first


def _actor() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return "cli." + "".join(c for c in user.lower() if c.isalnum() or c in "._-")[:40]


def _now() -> datetime:
    return datetime.now(UTC)


Action = Callable[["Identity", argparse.Namespace], Awaitable[int]]


def _run(action: Action) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        from trainops_shared.errors import AppError
        from trainops_shared.settings import SettingsError, validate_database_url

        try:
            url = validate_database_url(database_url(args))
        except SettingsError as exc:
            print(f"trainops users: {exc}", file=sys.stderr)
            return 2
        try:
            return asyncio.run(_with_identity(url, action, args))
        except AppError as exc:
            print(f"trainops users: {exc.detail}", file=sys.stderr)
            return 1

    return run


async def _with_identity(url: str, action: Action, args: argparse.Namespace) -> int:
    from trainops_identity.adapters.passwords import Passwords
    from trainops_identity.adapters.tables import MIGRATIONS
    from trainops_identity.handlers.context import Identity
    from trainops_shared.storage import open_database
    from trainops_shared.tables import PLUMBING_MIGRATIONS

    db = open_database(url)
    await db.start([PLUMBING_MIGRATIONS, MIGRATIONS])
    try:
        return await action(Identity(store=db, passwords=Passwords(), signer=None), args)
    finally:
        await db.close()


async def _add(identity: Identity, args: argparse.Namespace) -> int:
    from trainops_identity.handlers.accounts import add_account

    password = read_password(args.password_stdin)
    account = await add_account(
        identity,
        actor=_actor(),
        username=args.username,
        role=args.role,
        region=args.region,
        password=password,
        now=_now(),
    )
    region = f" ({account.region})" if account.region else ""
    print(f"account {account.username} added: {account.role}{region}")
    return 0


async def _list(identity: Identity, args: argparse.Namespace) -> int:
    from trainops_identity.handlers.accounts import list_accounts

    accounts = await list_accounts(identity)
    if not accounts:
        print("no accounts yet: trainops users add admin --role admin --password-stdin")
        return 0
    print(f"{'USERNAME':<24} {'ROLE':<16} {'REGION':<14} {'STATE':<9} CHANGED")
    for a in accounts:
        state = "disabled" if a.disabled else "active"
        changed = a.changed_at.strftime("%Y-%m-%d %H:%M")
        print(f"{a.username:<24} {a.role:<16} {a.region or '-':<14} {state:<9} {changed}")
    return 0


async def _switch(identity: Identity, args: argparse.Namespace) -> int:
    from trainops_identity.handlers.accounts import set_disabled

    account = await set_disabled(
        identity, actor=_actor(), username=args.username, disabled=args.disabled, now=_now()
    )
    print(f"account {account.username} {'disabled' if account.disabled else 'enabled'}")
    return 0


async def _set_password(identity: Identity, args: argparse.Namespace) -> int:
    from trainops_identity.handlers.accounts import set_password

    password = read_password(args.password_stdin)
    await set_password(
        identity, actor=_actor(), username=args.username, password=password, now=_now()
    )
    print(f"password of {args.username.strip().lower()} set")
    return 0


async def _set_role(identity: Identity, args: argparse.Namespace) -> int:
    from trainops_identity.handlers.accounts import set_role

    account = await set_role(
        identity,
        actor=_actor(),
        username=args.username,
        role=args.role,
        region=args.region,
        now=_now(),
    )
    region = f" ({account.region})" if account.region else ""
    print(f"account {account.username} is now {account.role}{region}")
    return 0


def count_accounts_at(url: str) -> int:
    """The number of accounts in the identity database at ``url``."""

    async def count(identity: Identity, _: argparse.Namespace) -> int:
        from trainops_identity.handlers.accounts import count_accounts

        counted: int = await count_accounts(identity)
        return counted

    return asyncio.run(_with_identity(url, count, argparse.Namespace()))
