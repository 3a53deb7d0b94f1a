"""What a storage import runs, on either runtime (dyrector §6 item 9, §7, §10.2): pure, no SDK.

A container config selects `storage {storageId, bucket, path}`: `bucket` (sub-folders allowed) is
read from the storage's S3-compatible endpoint into the container's volume named `path`, mounted
at `/data/output` in an rclone container that runs `sync s3:<bucket> /data/output` before the
container starts. rclone reads its remote from the environment (`RCLONE_CONFIG_S3_*`: type s3,
provider Other, the endpoint with `https://` added when the storage's URL has no scheme) plus the
access and secret keys of a private storage; a public one gets no keys (anonymous reads). The keys
arrive sealed to this agent's key and are opened here, for the runtime to hand to that container
only: Docker as its environment (`storage_import`), Kubernetes through a Secret (`k8s_objects`).
"""

from __future__ import annotations

from dataclasses import dataclass

from agent.runtime.base import OpenSealed
from chalicelib.contracts.agent import Workload

TARGET = "/data/output"
ACCESS_KEY = "RCLONE_CONFIG_S3_ACCESS_KEY_ID"
SECRET_KEY = "RCLONE_CONFIG_S3_SECRET_ACCESS_KEY"


@dataclass(frozen=True)
class Sync:
    """One import: `rclone sync s3:<bucket> TARGET` from `image` into the config volume `volume`."""

    image: str
    bucket: str
    volume: str | None  # the config's `storage.path`: the name of one of the container's volumes
    remote: dict[str, str]  # where the bucket is (no secrets)
    keys: dict[str, str]  # a private storage's ACCESS_KEY and SECRET_KEY; empty for a public one

    @property
    def args(self) -> list[str]:
        """rclone's arguments (the image's entrypoint is rclone)."""
        return ["sync", f"s3:{self.bucket}", TARGET]

    @property
    def environment(self) -> dict[str, str]:
        return {**self.remote, **self.keys}


def planned(workload: Workload, open_sealed: OpenSealed, image: str) -> Sync | None:
    """The import of the workload's `config.storage` with its keys opened; None when the config names
    no storage. A config it cannot import raises ValueError with the reason."""
    storage, source = workload.config.storage, workload.storage
    if storage is None or not storage.storage_id:
        return None
    if source is None:
        raise ValueError("the deploy command names a storage but carries no storage to import from")
    if not storage.bucket:
        raise ValueError("the storage import needs storage.bucket (the bucket, sub-folders allowed)")
    keys = {}  # a public storage: anonymous reads
    if source.sealed_access_key and source.sealed_secret_key:
        keys = {ACCESS_KEY: open_sealed(source.sealed_access_key), SECRET_KEY: open_sealed(source.sealed_secret_key)}
    remote = {
        "RCLONE_CONFIG_S3_TYPE": "s3",
        "RCLONE_CONFIG_S3_PROVIDER": "Other",
        "RCLONE_CONFIG_S3_ENDPOINT": endpoint(source.url),
    }
    return Sync(image=image, bucket=storage.bucket, volume=storage.path, remote=remote, keys=keys)


def endpoint(url: str) -> str:
    """The storage's URL with `https://` when it names no scheme (dyrector's mapper does the same)."""
    return url if url.startswith(("http://", "https://")) else f"https://{url}"
