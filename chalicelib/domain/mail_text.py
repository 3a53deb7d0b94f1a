"""Free text that goes into the platform's mail: names chosen by anyone who can sign up or create a
team, rendered inert so that no link, address or domain can be written into a mail we send."""

from __future__ import annotations

import re

_UNSAFE = re.compile(r"[^\w '&()+-]")


def plain(name: str, limit: int = 40) -> str:
    """Letters, digits, spaces and a little punctuation, at most `limit` characters ("-" if none)."""
    return " ".join(_UNSAFE.sub(" ", name).split())[:limit].strip() or "-"
