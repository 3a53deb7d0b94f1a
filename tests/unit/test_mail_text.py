"""Names in the platform's mail are inert text (no link, address or domain can be written in)."""

from __future__ import annotations

import pytest

from chalicelib.domain.mail_text import plain


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("Acme", "Acme"),
        (
            "Your password expires - reset at https://evil.example/r",
            "Your password expires - reset at https evil example r",
        ),
        ("IT Security <it@evil.example>", "IT Security it evil example"),
        ("Zoë & Søren (ops)", "Zoë & Søren (ops)"),
        ("line\nbreak\tand\u202etricks", "line break and tricks"),
        ("...", "-"),
    ],
)
def test_plain_keeps_words_and_drops_what_could_form_a_link(name, shown):
    assert plain(name, limit=100) == shown
    assert "://" not in plain(name) and "." not in plain(name) and "@" not in plain(name)


def test_plain_is_bounded():
    assert len(plain("a" * 500)) == 40
