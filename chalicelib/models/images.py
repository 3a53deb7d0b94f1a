"""Images of a version and their container configs (`.../versions/{versionId}/images`)."""

from typing import Annotated

from pydantic import Field, StringConstraints

from chalicelib.models.base import RequestModel, ResponseModel, UtcDateTime
from chalicelib.models.containers import ImageConfig

Uuid = Annotated[
    str,
    StringConstraints(
        pattern=r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
        r"[0-9a-fA-F]{12}$"
    ),
]
# A version's images are read whole (listed, copied, deployed: one instance each), so they are bounded:
# 100 is one BatchGetItem and one transaction, and far above what a deployable unit holds.
MAX_IMAGES_PER_VERSION = 100
ImageReference = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=400)]


class AddImagesEntry(RequestModel):
    registry_id: Uuid
    images: Annotated[list[ImageReference], Field(min_length=1, max_length=50)]


AddImagesRequest = Annotated[list[AddImagesEntry], Field(min_length=1, max_length=20)]
ImageOrderRequest = Annotated[list[Uuid], Field(min_length=1, max_length=200)]


class PatchImageRequest(RequestModel):
    tag: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = None
    config: ImageConfig | None = None


class RegistrySummary(ResponseModel):
    type: str
    id: str
    name: str


class ImageResponse(ResponseModel):
    id: str
    name: str
    tag: str | None
    order: int
    config: ImageConfig
    created_at: UtcDateTime
    registry: RegistrySummary
