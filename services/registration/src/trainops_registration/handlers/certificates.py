"""Checking a certificate: the public verification page's one question, is it genuine?"""

from __future__ import annotations

import re
from typing import Final

from sqlalchemy.engine import Connection

from trainops_registration.adapters import followups
from trainops_registration.adapters.followups import CertificateRecord

_CODE: Final = re.compile(r"[A-Za-z0-9_-]{16,64}")


def verify_certificate(conn: Connection, code: str) -> CertificateRecord | None:
    """The certificate of ``code`` (what its page may show: no name, no contact), or ``None``.
    A code of the wrong shape never reaches the database."""
    if not _CODE.fullmatch(code):
        return None
    return followups.find_certificate(conn, code)
