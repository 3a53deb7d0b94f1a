"""Password rules: length, not the address, enough different characters, not a common password."""

from __future__ import annotations

import pytest

from chalicelib.errors import BadRequestError
from chalicelib.security.passwords import check_strength


@pytest.mark.parametrize(
    "password",
    ["short", "ada@example.com", "ADA@example.com", "ada-lovelace", "aaaaaaaa", "abababab", "qwertyuiop", "iloveyou1"],
)
def test_weak_passwords_are_refused_without_echoing_them(password):
    with pytest.raises(BadRequestError) as refused:
        check_strength(password, "ada-lovelace@example.com" if password == "ada-lovelace" else "ada@example.com")
    assert refused.value.property == "password" and refused.value.value is None
    assert password not in refused.value.message


@pytest.mark.parametrize("password", ["correct horse battery", "Tr0ub4dor&3x", "eight ch"])
def test_reasonable_passwords_pass(password):
    check_strength(password, "ada@example.com")
