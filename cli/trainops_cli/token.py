"""``trainops token``: print a bearer token for development and demos.

Signed with ``JWT_SECRET`` (default: the development secret the services use when
``TRAINOPS_ENV=development``), issuer/audience from ``JWT_ISSUER`` / ``JWT_AUDIENCE``.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

ROLES = ("admin", "programme_staff", "coordinator", "reporting")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "token",
        help="print a development bearer token",
        description=(
            "Print a JWT for the trainops APIs (use as 'Authorization: Bearer <token>'). "
            "Signed with $JWT_SECRET, or the development secret when unset."
        ),
    )
    parser.add_argument("--role", required=True, choices=ROLES)
    parser.add_argument(
        "--region", help="the coordinator's region/city (required for --role coordinator)"
    )
    parser.add_argument("--subject", default="dev", help="the token's subject (default: dev)")
    parser.add_argument(
        "--ttl", type=int, default=8 * 3600, metavar="SECONDS", help="lifetime (default: 8 h)"
    )
    parser.set_defaults(func=run)


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
    from trainops_shared.auth import issue_token
    from trainops_shared.settings import DEV_JWT_SECRET

    secret = os.environ.get("JWT_SECRET") or DEV_JWT_SECRET
    token = issue_token(
        secret=secret,
        role=args.role,
        region=args.region,
        subject=args.subject,
        issuer=os.environ.get("JWT_ISSUER") or "trainops",
        audience=os.environ.get("JWT_AUDIENCE") or "trainops",
        ttl_seconds=args.ttl,
    )
    print(token)
    return 0
