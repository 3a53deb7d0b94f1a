"""Images of a version (`/api/{teamSlug}/projects/{projectId}/versions/{versionId}/images`)."""

from __future__ import annotations

from chalicelib.api import shapes
from chalicelib.api.routing import RequestContext, Router
from chalicelib.models.images import AddImagesRequest, ImageOrderRequest, ImageResponse, PatchImageRequest
from chalicelib.services import images

route = Router("Images")
BASE = "/api/{teamSlug}/projects/{projectId}/versions/{versionId}/images"


@route.get(BASE, summary="List a version's images in deployment order", response=list[ImageResponse])
def list_images(ctx: RequestContext, team_slug: str, project_id: str, version_id: str):
    items = images.list_images(ctx.team, project_id, version_id)
    registries = images.registry_summaries(ctx.team, items)
    return [shapes.image(item, registries) for item in items]


@route.post(
    BASE,
    summary="Add images (`name:tag`, checked in their registry) to a version",
    body=AddImagesRequest,
    response=list[ImageResponse],
    status=201,
    errors=(412,),
)
def add_images(ctx: RequestContext, team_slug: str, project_id: str, version_id: str, body: list):
    items = images.add_images(ctx.team, project_id, version_id, body)
    registries = images.registry_summaries(ctx.team, items)
    return [shapes.image(item, registries) for item in items]


@route.get(BASE + "/{imageId}", summary="An image with its container config", response=ImageResponse)
def get_image(ctx: RequestContext, team_slug: str, project_id: str, version_id: str, image_id: str):
    item = images.get_image(ctx.team, project_id, version_id, image_id)
    return shapes.image(item, images.registry_summaries(ctx.team, [item]))


@route.patch(
    BASE + "/{imageId}",
    summary="Change an image's tag and/or container config fields (null clears)",
    body=PatchImageRequest,
    status=204,
    errors=(412,),
)
def patch_image(
    ctx: RequestContext, team_slug: str, project_id: str, version_id: str, image_id: str, body: PatchImageRequest
) -> None:
    images.patch_image(ctx.team, project_id, version_id, image_id, body)


@route.delete(BASE + "/{imageId}", summary="Remove an image from a version", status=204, errors=(412,))
def delete_image(ctx: RequestContext, team_slug: str, project_id: str, version_id: str, image_id: str) -> None:
    images.delete_image(ctx.team, project_id, version_id, image_id)


@route.put(
    BASE + "/order",
    summary="Set the deployment order: every image id of the version, once",
    body=ImageOrderRequest,
    status=204,
    errors=(409, 412),
)
def order_images(ctx: RequestContext, team_slug: str, project_id: str, version_id: str, body: list) -> None:
    images.order_images(ctx.team, project_id, version_id, body)
