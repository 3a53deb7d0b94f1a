"""Images of a version: adding them (checked against their registry), editing their
container config, ordering and removing them — only while the version is mutable.

An added image's config starts from its registry labels (env keys and secret keys) and a
container name unique within the version. A config that names a storage must name one of
the team's storages.
"""

from __future__ import annotations

from typing import Any

from chalicelib import ids
from chalicelib.db import images as image_repo
from chalicelib.db.items import ImageItem, RegistryItem
from chalicelib.domain import images as rules
from chalicelib.domain.deployments import merge_patch
from chalicelib.errors import BadRequestError, ConflictError, found_or_404, not_found
from chalicelib.models.images import MAX_IMAGES_PER_VERSION, AddImagesEntry, PatchImageRequest
from chalicelib.services import registries, storages, versions
from chalicelib.services.access import TeamAccess


def list_images(team: TeamAccess, project_id: str, version_id: str) -> list[ImageItem]:
    """Every image of the version (at most `rules.MAX_IMAGES_PER_VERSION`), in deployment order."""
    found = versions.find(team, project_id, version_id)
    return image_repo.list_for_version(team.team_id, found.version.id)


def get_image(team: TeamAccess, project_id: str, version_id: str, image_id: str) -> ImageItem:
    found = versions.find(team, project_id, version_id)
    return found_or_404(image_repo.get(team.team_id, found.version.id, image_id), "image")


def registry_summaries(team: TeamAccess, images: list[ImageItem]) -> dict[str, RegistryItem]:
    return image_repo.registries_of(team.team_id, {image.registry_id for image in images})


def add_images(team: TeamAccess, project_id: str, version_id: str, entries: list[AddImagesEntry]) -> list[ImageItem]:
    """Appends the images after the version's last one, each verified in its registry first."""
    found = versions.require_mutable(team, project_id, version_id)
    existing = image_repo.list_for_version(team.team_id, found.version.id)
    _check_room(len(existing), sum(len(entry.images) for entry in entries))
    names = {(image.config or {}).get("name") for image in existing}
    order = max((int(image.order) for image in existing), default=-1) + 1
    now = ids.utcnow()
    added: list[ImageItem] = []
    deadline = registries.image_check_budget()  # one budget for every check of this call
    for entry in entries:
        registry = registries.get_registry(team.team_id, entry.registry_id)
        for reference in entry.images:
            name, tag = rules.split_reference(reference)
            problem = rules.reference_error(name, tag)
            if problem:
                raise BadRequestError(problem, property="images", value=reference)
            labels = registries.verify_image(team.team_id, registry, name, tag, deadline)
            config = {"name": rules.container_name(name, names), **rules.config_from_labels(labels)}
            names.add(config["name"])
            added.append(
                image_repo.new_item(
                    team.team_id,
                    found.project.id,
                    found.version.id,
                    ids.new_id(),
                    registry.id,
                    name,
                    tag,
                    order,
                    config,
                    labels,
                    now,
                )
            )
            order += 1
    image_repo.put_new(team.team_id, added)
    return added


def _check_room(present: int, added: int) -> None:
    if present + added > MAX_IMAGES_PER_VERSION:
        raise BadRequestError(
            f"A version holds at most {MAX_IMAGES_PER_VERSION} images; it has {present}, and {added} were added.",
            property="images",
            value=added,
        )


def patch_image(team: TeamAccess, project_id: str, version_id: str, image_id: str, request: PatchImageRequest) -> None:
    """A new tag (checked in the registry) and/or the given config fields (null clears one)."""
    found = versions.require_mutable(team, project_id, version_id)
    image = image_repo.get(team.team_id, found.version.id, image_id)
    if image is None:
        raise not_found("image")
    if "tag" in request.model_fields_set and request.tag != image.tag:
        problem = rules.reference_error(image.name, request.tag)
        if problem:
            raise BadRequestError(problem, property="tag", value=request.tag)
        registry = registries.get_registry(team.team_id, image.registry_id)
        labels = registries.verify_image(team.team_id, registry, image.name, request.tag, field="tag")
        image.tag, image.labels = request.tag, labels or None
        image.config = _with_new_label_keys(image.config, rules.config_from_labels(labels))
    if request.config is not None:
        patch = request.config.stored()
        storages.check_in_team(team, patch.get("storage"))
        image.config = merge_patch(image.config, patch)
    image_repo.save(image, ids.utcnow())


def delete_image(team: TeamAccess, project_id: str, version_id: str, image_id: str) -> None:
    found = versions.require_mutable(team, project_id, version_id)
    image = image_repo.get(team.team_id, found.version.id, image_id)
    if image is None:
        raise not_found("image")
    image_repo.delete(image)


def order_images(team: TeamAccess, project_id: str, version_id: str, order: list[str]) -> None:
    """The body names every image of the version exactly once; its position becomes the order."""
    found = versions.require_mutable(team, project_id, version_id)
    current = {image.id for image in image_repo.list_for_version(team.team_id, found.version.id)}
    duplicates = sorted({image_id for image_id in order if order.count(image_id) > 1})
    if duplicates:
        raise ConflictError("Each image may appear only once.", property="imageIds", value=duplicates[0])
    if set(order) != current:
        missing, unknown = current - set(order), set(order) - current
        raise BadRequestError(
            f"List every image of the version exactly once ({len(missing)} missing, {len(unknown)} unknown).",
            property="imageIds",
        )
    image_repo.reorder(team.team_id, found.version.id, order)


def _with_new_label_keys(config: dict[str, Any], from_labels: dict[str, Any]) -> dict[str, Any]:
    """Keys the new tag's labels declare are added; existing entries are kept as they are."""
    merged = dict(config)
    for field, entries in from_labels.items():
        present = {entry["key"] for entry in merged.get(field) or []}
        merged[field] = (merged.get(field) or []) + [entry for entry in entries if entry["key"] not in present]
    return merged
