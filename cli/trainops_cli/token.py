"""``trainops token``: print a bearer token for development and demos only.

People sign in with their own account (``trainops users``, the identity service's sign-in page)
and make personal API tokens there; this token belongs to no account, cannot be revoked and
needs the signing key, so it says so on stderr every time.

Signed (EdDSA) with this install's private key: ``$JWT_PRIVATE_KEY_FILE``, else
``<data dir>/secrets/jwt-signing.key`` (``--data-dir`` / ``$TRAINOPS_DATA_DIR``), made on first
use — the key ``trainops up`` gives the services the public half of. Issuer and audience come
from ``JWT_ISSUER`` / ``JWT_AUDIENCE``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from trainops_shared.auth import ROLES

HELP = "print a development-only bearer token (people use accounts and personal tokens)"
DESCRIPTION = (
    "Print a JWT for the trainops APIs (use as 'Authorization: Bearer <token>'). "
    "Signed with $JWT_PRIVATE_KEY_FILE, or this install's own key in the data "
    "directory (created on first use)."
)


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--role", required=True, choices=ROLES)
    parser.add_argument(
        "--region", help="the coordinator's region/city (required for --role coordinator)"
    )
    parser.add_argument("--subject", default="dev", help="the token's subject (default: dev)")
    parser.add_argument(
        "--ttl", type=int, default=8 * 3600, metavar="SECONDS", help="lifetime (default: 8 h)"
    )
    parser.add_argument(
        "--data-dir",
        help="the install whose key signs (default: $TRAINOPS_DATA_DIR or ~/.local/share/trainops)",
    )


def signing_key_path(data_dir: str | Path | None = None) -> Path:
    """``$JWT_PRIVATE_KEY_FILE``, else the install's key (generated if missing)."""
    from trainops_shared.credentials import ensure_signing_key
    from trainops_shared.settings import default_data_dir

    explicit = os.environ.get("JWT_PRIVATE_KEY_FILE")
    if explicit:
        return Path(explicit).expanduser()
    root = data_dir or os.environ.get("TRAINOPS_DATA_DIR") or default_data_dir()
    return ensure_signing_key(Path(root).expanduser())


def run(args: argparse.Namespace) -> int:
    if args.role == "coordinator" and not args.region:
        print(
            "trainops token: --role coordinator needs --region (the coordinator's city, "
            "e.g. --region Aktobe): coordinators only see their own region",
            file=sys.stderr,
        )
        return 2
    if args.ttl <= 0:
        print("trainops token: --ttl must be a positive number of seconds", file=sys.stderr)
        return 2
    if os.environ.get("JWT_SECRET"):
        print(
            "trainops token: JWT_SECRET is not used: tokens are EdDSA-signed with "
            "JWT_PRIVATE_KEY_FILE (or the install's own key); unset JWT_SECRET",
            file=sys.stderr,
        )
        return 2
    from trainops_shared.auth import issue_token
    from trainops_shared.credentials import CredentialsError, load_signing_key

    try:
        key = load_signing_key(signing_key_path(args.data_dir))
    except (CredentialsError, OSError) as exc:
        print(f"trainops token: {exc}", file=sys.stderr)
        return 1
    token = issue_token(
        key=key,
        role=args.role,
        region=args.region,
        subject=args.subject,
        issuer=os.environ.get("JWT_ISSUER") or "trainops",
        audience=os.environ.get("JWT_AUDIENCE") or "trainops",
        ttl_seconds=args.ttl,
    )
    print(
        "trainops token: development only: this token belongs to no account and cannot be "
        "revoked; people sign in with accounts (trainops users) and create personal API "
        "tokens on the identity service's page",
        file=sys.stderr,
    )
    print(token)
    return 0
