"""Password hashing: the production cost by default, a cheap profile for tests, and hashes that
verify whatever profile is set now (argon2 records its parameters in each hash)."""

from __future__ import annotations

import argon2
import pytest
from argon2.profiles import RFC_9106_LOW_MEMORY

from chalicelib.security import passwords


def test_without_a_setting_passwords_are_hashed_with_rfc_9106_low_memory(monkeypatch):
    # GIVEN no PASSWORD_HASH_PROFILE (the tests' conftest sets the cheap one)
    monkeypatch.delenv("PASSWORD_HASH_PROFILE", raising=False)
    # WHEN a password is hashed
    digest = passwords.hash_password("correct horse battery")
    # THEN its parameters are RFC 9106's low-memory profile, argon2id
    assert argon2.extract_parameters(digest) == RFC_9106_LOW_MEMORY
    assert digest.startswith("$argon2id$")


def test_the_test_profile_is_argon2id_at_a_lower_cost(monkeypatch):
    monkeypatch.setenv("PASSWORD_HASH_PROFILE", "test")
    parameters = argon2.extract_parameters(passwords.hash_password("correct horse battery"))
    assert parameters.type is argon2.Type.ID
    assert parameters.time_cost < RFC_9106_LOW_MEMORY.time_cost
    assert parameters.memory_cost < RFC_9106_LOW_MEMORY.memory_cost


@pytest.mark.parametrize(("hashed_under", "verified_under"), [("rfc9106", "test"), ("test", "rfc9106")])
def test_a_hash_made_under_one_profile_verifies_under_another(monkeypatch, hashed_under, verified_under):
    # GIVEN a password hashed under one profile
    monkeypatch.setenv("PASSWORD_HASH_PROFILE", hashed_under)
    digest = passwords.hash_password("correct horse battery")
    # WHEN the profile changes
    monkeypatch.setenv("PASSWORD_HASH_PROFILE", verified_under)
    # THEN the right password still verifies and a wrong one does not
    assert passwords.verify_password(digest, "correct horse battery")
    assert not passwords.verify_password(digest, "wrong horse battery")


def test_an_unknown_profile_is_refused(monkeypatch):
    monkeypatch.setenv("PASSWORD_HASH_PROFILE", "fast")
    with pytest.raises(ValueError, match="PASSWORD_HASH_PROFILE"):
        passwords.hash_password("correct horse battery")
