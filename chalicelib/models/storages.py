"""Storages (`/api/{teamSlug}/storages`): S3-compatible buckets containers can import files from."""

from typing import Annotated

from pydantic import SecretStr, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from chalicelib.models.base import Name, RequestModel, ResponseModel

Url = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500, pattern=r"^https?://[^\s/$.?#@][^\s@]*$")]
Key = Annotated[SecretStr, StringConstraints(min_length=1, max_length=512)]


class StorageRequest(RequestModel):
    name: Name
    description: Annotated[str, StringConstraints(max_length=2000)] | None = None
    icon: Annotated[str, StringConstraints(max_length=200)] | None = None
    url: Url
    access_key: Key | None = None
    secret_key: Key | None = None
    # dyrector's flag: a public storage has no keys.
    public: bool | None = None

    @model_validator(mode="after")
    def _keys_together(self) -> "StorageRequest":
        if (self.access_key is None) != (self.secret_key is None):
            raise PydanticCustomError("keys", "give both accessKey and secretKey, or neither")
        if self.public and self.access_key is not None:
            raise PydanticCustomError("keys", "a public storage has no keys")
        return self


class StorageListItem(ResponseModel):
    description: str | None
    icon: str | None
    url: str
    id: str
    name: str


class StorageResponse(StorageListItem):
    access_key: str | None
    # Never returned: always null. Send a new one to change it.
    secret_key: str | None
    in_use: bool


class StorageOption(ResponseModel):
    id: str
    name: str
