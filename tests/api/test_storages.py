"""Storages: CRUD, keys kept KMS-sealed in S3 and never returned, in-use protection."""

from __future__ import annotations

import json

import pytest

from tests.conftest import unique

ACCESS, SECRET = "AKIAEXAMPLEACCESS", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY"
DETAIL_KEYS = {"description", "icon", "url", "id", "name", "accessKey", "secretKey", "inUse"}


@pytest.fixture()
def team(api):
    owner = api.signup()
    return owner, api.create_team(owner)


def body(name=None, **extra):
    return {
        "name": name or unique("Bucket "),
        "description": "assets",
        "icon": "s3",
        "url": "https://s3.example.com",
        "accessKey": ACCESS,
        "secretKey": SECRET,
        **extra,
    }


def test_create_read_list_options_and_the_secret_key_never_comes_back(api, team):
    owner, team_ = team
    slug = team_["slug"]
    created = api.post(f"/api/{slug}/storages", owner, body("Assets"))
    assert created.status_code == 201
    storage = created.json
    assert set(storage) == DETAIL_KEYS
    assert (storage["accessKey"], storage["secretKey"], storage["inUse"]) == (ACCESS, None, False)
    listed = api.get(f"/api/{slug}/storages", owner)
    assert [set(s) for s in listed.json] == [{"description", "icon", "url", "id", "name"}]
    options = api.get(f"/api/{slug}/storages/options", owner)
    assert options.json == [{"id": storage["id"], "name": "Assets"}]
    details = api.get(f"/api/{slug}/storages/{storage['id']}", owner)
    for reply in (created, listed, options, details, api.get(f"/api/{slug}/audit-log", owner)):
        assert SECRET not in reply.body
    assert ACCESS not in listed.body


def test_keys_live_sealed_in_s3_not_in_the_table(api, team):
    from chalicelib import settings
    from chalicelib.adapters import aws

    owner, team_ = team
    storage = api.post(f"/api/{team_['slug']}/storages", owner, body()).json
    item = aws.client("dynamodb").get_item(
        TableName=settings.table_name(),
        Key={"PK": {"S": f"TEAM#{team_['id']}"}, "SK": {"S": f"STORAGE#{storage['id']}"}},
    )["Item"]
    assert SECRET not in json.dumps(item) and ACCESS not in json.dumps(item)
    key = item["credentialsKey"]["S"]
    stored = aws.client("s3").get_object(Bucket=settings.bucket_name(), Key=key)["Body"].read()
    assert SECRET.encode() not in stored and ACCESS.encode() not in stored
    assert api.get(f"/api/{team_['slug']}/storages/{storage['id']}", owner).json["accessKey"] == ACCESS


def test_update_keeps_keys_unless_given_and_public_removes_them(api, team):
    owner, team_ = team
    slug = team_["slug"]
    storage = api.post(f"/api/{slug}/storages", owner, body("Keep")).json
    path = f"/api/{slug}/storages/{storage['id']}"
    assert api.put(path, owner, {"name": "Kept", "url": "https://minio.local:9000"}).status_code == 204
    got = api.get(path, owner).json
    assert (got["name"], got["url"], got["accessKey"]) == ("Kept", "https://minio.local:9000", ACCESS)
    assert (
        api.put(
            path, owner, {"name": "Kept", "url": "https://x.local", "accessKey": "A2", "secretKey": "S2"}
        ).status_code
        == 204
    )
    assert api.get(path, owner).json["accessKey"] == "A2"
    assert api.put(path, owner, {"name": "Kept", "url": "https://x.local", "public": True}).status_code == 204
    assert api.get(path, owner).json["accessKey"] is None


def test_names_are_unique_per_team(api, team):
    owner, team_ = team
    slug = team_["slug"]
    api.post(f"/api/{slug}/storages", owner, body("Media"))
    other = api.post(f"/api/{slug}/storages", owner, body("Other")).json
    assert api.post(f"/api/{slug}/storages", owner, body("media")).status_code == 409
    renamed = api.put(f"/api/{slug}/storages/{other['id']}", owner, {"name": "MEDIA", "url": "https://s3.example.com"})
    assert renamed.status_code == 409


@pytest.mark.parametrize(
    "bad",
    [
        {"url": "ftp://x"},
        {"url": "not a url"},
        {"url": f"https://user:{SECRET}@s3.example.com"},
        {"name": ""},
        {"secretKey": None, "accessKey": "only-one"},
        {"public": True},
        {"unknown": 1},
    ],
)
def test_bad_bodies_get_400_and_never_echo_a_key(api, module_team, bad):
    owner, team_ = module_team
    payload = {k: v for k, v in {**body(), **bad}.items() if v is not None}
    response = api.post(f"/api/{team_['slug']}/storages", owner, payload)
    assert response.status_code == 400
    assert SECRET not in response.body


def test_a_storage_used_by_a_config_cannot_be_deleted(api, team, registry_item):
    owner, team_ = team
    slug = team_["slug"]
    storage = api.post(f"/api/{slug}/storages", owner, body()).json
    project = api.create_project(owner, slug, "versionless")
    version = api.get(f"/api/{slug}/projects/{project['id']}", owner).json["versions"][0]
    images = f"/api/{slug}/projects/{project['id']}/versions/{version['id']}/images"
    [image] = api.post(images, owner, [{"registryId": registry_item(team_), "images": ["acme/web"]}]).json
    api.patch(f"{images}/{image['id']}", owner, {"config": {"storage": {"storageId": storage["id"], "bucket": "b"}}})
    path = f"/api/{slug}/storages/{storage['id']}"
    assert api.get(path, owner).json["inUse"] is True
    assert api.delete(path, owner).status_code == 412
    api.delete(f"{images}/{image['id']}", owner)
    assert api.delete(path, owner).status_code == 204
    assert api.get(path, owner).status_code == 404


def test_unknown_or_foreign_storage_is_not_found(api, team):
    owner, team_ = team
    stranger = api.signup()
    other = api.create_team(stranger)
    foreign = api.post(f"/api/{other['slug']}/storages", stranger, body()).json
    assert api.get(f"/api/{team_['slug']}/storages/{foreign['id']}", owner).status_code == 404
    assert api.delete(f"/api/{team_['slug']}/storages/{foreign['id']}", owner).status_code == 404


def test_a_failed_update_leaves_the_stored_keys_as_they_were(api, team):
    from chalicelib import settings
    from chalicelib.adapters import aws

    owner, team_ = team
    slug = team_["slug"]
    api.post(f"/api/{slug}/storages", owner, body("Taken"))
    storage = api.post(f"/api/{slug}/storages", owner, body("Mine")).json

    def objects():
        return {
            o["Key"]
            for o in aws.client("s3")
            .list_objects_v2(  # noqa: E731
                Bucket=settings.bucket_name(), Prefix=f"storages/{team_['id']}/"
            )
            .get("Contents", [])
        }

    before = objects()
    refused = api.put(
        f"/api/{slug}/storages/{storage['id']}",
        owner,
        {"name": "taken", "url": "https://s3.example.com", "accessKey": "NEW", "secretKey": "NEW-SECRET"},
    )
    assert refused.status_code == 409
    assert api.get(f"/api/{slug}/storages/{storage['id']}", owner).json["accessKey"] == ACCESS
    assert objects() == before


def test_deleting_the_team_removes_its_sealed_keys_from_s3(api, team):
    from chalicelib import settings
    from chalicelib.adapters import aws

    owner, team_ = team
    api.post(f"/api/{team_['slug']}/storages", owner, body())

    def listed():
        return (
            aws.client("s3")
            .list_objects_v2(
                Bucket=settings.bucket_name(),  # noqa: E731
                Prefix=f"storages/{team_['id']}/",
            )
            .get("KeyCount")
        )

    assert listed() == 1
    assert api.delete(f"/api/teams/{team_['id']}", owner).status_code == 204
    assert listed() == 0


def test_a_url_with_credentials_is_refused_and_never_echoed(api, team):
    owner, team_ = team
    response = api.post(f"/api/{team_['slug']}/storages", owner, {**body(), "url": "ftp://admin:hunter2@host/x"})
    assert response.status_code == 400 and "hunter2" not in response.body
