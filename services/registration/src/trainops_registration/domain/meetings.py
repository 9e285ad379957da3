"""The meeting address of an online session, which the participants' join links lead to."""

from __future__ import annotations

from typing import Final
from urllib.parse import urlsplit

from trainops_registration.domain.errors import Invalid

MAX_MEETING_URL: Final = 1000


def validate_meeting_url(url: str) -> str:
    """An absolute https (or http) address with a host, no spaces: what a redirect may follow
    (never ``javascript:`` or a relative path, which would turn a join link into another
    page of this service)."""
    text = url.strip() if isinstance(url, str) else ""
    parts = urlsplit(text)
    if (
        not text
        or len(text) > MAX_MEETING_URL
        or parts.scheme not in ("https", "http")
        or not parts.hostname
        or any(c.isspace() or ord(c) < 32 for c in text)
    ):
        raise Invalid(
            "meeting_url",
            f"an absolute https:// address of at most {MAX_MEETING_URL} characters is required",
        )
    return text
