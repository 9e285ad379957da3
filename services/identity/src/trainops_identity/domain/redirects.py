"""Where a browser may be sent after signing in: only back to one of our own services."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit


def origin_of(url: str) -> str | None:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    default = 443 if parts.scheme == "https" else 80
    host = parts.hostname.lower()
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


def safe_next(next_url: str | None, own_origin: str, allowed: Iterable[str]) -> str:
    """``next_url`` if it points at an allowed origin (or is a path on ours), else our ``/``.

    A path must start with one ``/`` (``//evil.example`` is another host to a browser, and a
    backslash is read as a slash by some), and nothing with control characters passes.
    """
    fallback = f"{own_origin}/"
    if not next_url or len(next_url) > 2000 or any(ord(c) < 32 or c == "\\" for c in next_url):
        return fallback
    if next_url.startswith("/") and not next_url.startswith("//"):
        return f"{own_origin}{next_url}"
    origin = origin_of(next_url)
    origins = {o for o in (origin_of(a) for a in (*allowed, own_origin)) if o}
    return next_url if origin is not None and origin in origins else fallback
