"""Images the agent itself needs on the node (its Traefik, the storage importer): local first.

A workload's image is pulled by `docker_deploy` with the registry's credentials; these are
public helper images named by the node's settings, so a local image of that name (built or
loaded by the operator on an air-gapped node) is used as it is, and anything else is pulled
anonymously once.
"""

from __future__ import annotations

from docker import DockerClient
from docker.errors import APIError, ImageNotFound, NotFound

from agent.runtime.base import split_image


class ImageUnavailable(RuntimeError):
    """Neither on the node nor pullable; the message names the image and the engine's reason."""


def ensure_local(client: DockerClient, reference: str) -> None:
    try:
        client.images.get(reference)
        return
    except ImageNotFound:
        pass
    repository, tag = split_image(reference)
    try:
        client.images.pull(repository, tag=tag)
    except (APIError, NotFound) as error:
        reason = getattr(error, "explanation", None) or error
        raise ImageUnavailable(f"the image {reference} is not on the node and could not be pulled: {reason}") from None
