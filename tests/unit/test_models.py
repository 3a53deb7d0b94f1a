"""Validation rules of request models, and how validation errors are reported."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from chalicelib.api.routing import validation_error
from chalicelib.models.audit import AuditLogQuery
from chalicelib.models.auth import SignupRequest
from chalicelib.models.teams import CreateTeamRequest, UpdateUserRoleRequest
from chalicelib.models.tokens import GenerateTokenRequest


def parse(model, raw: str):
    return TypeAdapter(model).validate_json(raw, strict=True)


@pytest.mark.parametrize("slug", ["abc", "a-b-c", "team-42", "x" * 16])
def test_valid_slugs(slug):
    assert parse(CreateTeamRequest, f'{{"name": "N", "slug": "{slug}"}}').slug == slug


def test_names_are_trimmed_and_limited_to_70():
    assert parse(CreateTeamRequest, '{"name": "  Acme  ", "slug": "acme"}').name == "Acme"
    with pytest.raises(ValidationError):
        parse(CreateTeamRequest, '{"name": "%s", "slug": "acme"}' % ("n" * 71))
    with pytest.raises(ValidationError):
        parse(CreateTeamRequest, '{"name": "   ", "slug": "acme"}')


def test_strict_json_refuses_numbers_as_strings_and_unknown_fields():
    with pytest.raises(ValidationError):
        parse(GenerateTokenRequest, '{"name": "a", "expirationInDays": "3"}')
    with pytest.raises(ValidationError):
        parse(GenerateTokenRequest, '{"name": "a", "expirationInDays": 3, "scope": "all"}')
    assert parse(GenerateTokenRequest, '{"name": "a", "expirationInDays": 3}').expiration_in_days == 3


def test_enum_error_names_property_and_value():
    with pytest.raises(ValidationError) as info:
        parse(UpdateUserRoleRequest, '{"role": "root"}')
    error = validation_error(info.value)
    assert error.status == 400 and error.property == "role" and error.value == "root"


def test_secret_inputs_are_never_echoed_in_errors():
    with pytest.raises(ValidationError) as info:
        parse(SignupRequest, '{"email": "a@b.co", "password": "tiny", "firstName": "A"}')
    error = validation_error(info.value)
    assert error.property == "password" and error.value is None
    assert "tiny" not in str(error.body())


def test_secret_values_are_masked_when_dumped():
    request = parse(SignupRequest, '{"email": "a@b.co", "password": "long enough pw", "firstName": "A"}')
    dumped = TypeAdapter(SignupRequest).dump_python(request, mode="json", by_alias=True)
    assert "long enough pw" not in str(dumped)


def test_malformed_json_message():
    with pytest.raises(ValidationError) as info:
        parse(CreateTeamRequest, '{"name": ')
    assert validation_error(info.value).body() == {"message": "Malformed JSON body."}


def test_audit_query_from_alias_and_range():
    query = AuditLogQuery.model_validate({"skip": "5", "take": "10", "from": "2026-01-01T00:00:00Z"})
    assert query.skip == 5 and query.from_.year == 2026
    with pytest.raises(ValidationError):
        AuditLogQuery.model_validate({"from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"})
