"""The platform bucket: install scripts and the agent program, served through expiring URLs."""

from __future__ import annotations

from chalicelib import settings
from chalicelib.adapters import aws


def put(key: str, body: bytes, content_type: str) -> None:
    aws.client("s3").put_object(
        Bucket=settings.bucket_name(), Key=key, Body=body, ContentType=content_type, ServerSideEncryption="AES256"
    )


def get(key: str) -> bytes | None:
    s3 = aws.client("s3")
    try:
        return s3.get_object(Bucket=settings.bucket_name(), Key=key)["Body"].read()
    except s3.exceptions.NoSuchKey:
        return None


def delete(key: str) -> None:
    aws.client("s3").delete_object(Bucket=settings.bucket_name(), Key=key)


def exists(key: str) -> bool:
    s3 = aws.client("s3")
    try:
        s3.head_object(Bucket=settings.bucket_name(), Key=key)
        return True
    except s3.exceptions.ClientError:
        return False


def presigned_get(key: str, seconds: int) -> str:
    """A URL anyone can GET until it expires: how a one-line install command fetches its script."""
    return aws.client("s3").generate_presigned_url(
        "get_object", Params={"Bucket": settings.bucket_name(), "Key": key}, ExpiresIn=seconds
    )


def delete_prefix(prefix: str) -> None:
    """Every object under `prefix` (a team's scripts and credentials when the team goes)."""
    s3 = aws.client("s3")
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=settings.bucket_name(), Prefix=prefix):
        keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
        if keys:
            s3.delete_objects(Bucket=settings.bucket_name(), Delete={"Objects": keys, "Quiet": True})
