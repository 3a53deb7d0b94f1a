"""Registries (`/api/{teamSlug}/registries`): where a team's images come from (dyrector §8).

One request model per registry type, discriminated by `type`. The token (password or access
token) is accepted, never returned: response details are built from the stored, non-secret part.
"""

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, SecretStr, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from chalicelib.models.base import Name, RequestModel, ResponseModel, UtcDateTime

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
Prefix = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=255, pattern=r"^[a-z0-9]+(?:[._/-][a-z0-9]+)*$"),
]
Host = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        min_length=1,
        max_length=255,
        pattern=r"^(https?://)?[A-Za-z0-9.-]+(:\d+)?(/[A-Za-z0-9._/-]*)?$",
    ),
]
Token = Annotated[SecretStr, StringConstraints(min_length=1, max_length=8192)]
Description = Annotated[str, StringConstraints(max_length=2000)]
Icon = Annotated[str, StringConstraints(max_length=200)]


class RegistryType(StrEnum):
    v2 = "v2"
    hub = "hub"
    gitlab = "gitlab"
    github = "github"
    google = "google"
    unchecked = "unchecked"


class _Credentials(RequestModel):
    user: Text | None = None
    token: Token | None = None

    @model_validator(mode="after")
    def _token_has_user(self):
        # A user without a token is fine on update: the stored token is kept.
        if self.token is not None and not self.user:
            raise PydanticCustomError("credentials", "a token needs the user it belongs to")
        return self


class _Public(_Credentials):
    public: bool = False

    @model_validator(mode="after")
    def _private_needs_user(self):
        if not self.public and not self.user:
            raise PydanticCustomError("credentials", "a private registry needs a user and a token")
        return self


class V2Details(_Public):
    url: Host
    image_name_prefix: Prefix | None = None


class HubDetails(_Public):
    image_name_prefix: Prefix
    public: bool = True


class GitlabDetails(_Credentials):
    image_name_prefix: Prefix
    namespace: Literal["group", "project"]
    user: Text
    url: Host | None = None
    api_url: Host | None = None


class GithubDetails(_Credentials):
    image_name_prefix: Prefix
    namespace: Literal["organization", "user"]
    user: Text


class GoogleDetails(_Public):
    url: Host
    image_name_prefix: Prefix


class UncheckedDetails(_Credentials):
    url: Host | None = None
    local: bool = False

    @model_validator(mode="after")
    def _url_unless_local(self):
        if not self.local and not self.url:
            raise PydanticCustomError("url", "an unchecked registry needs a url unless it is local")
        return self


class _Registry(RequestModel):
    name: Name
    description: Description | None = None
    icon: Icon | None = None


class V2Registry(_Registry):
    type: Literal["v2"]
    details: V2Details


class HubRegistry(_Registry):
    type: Literal["hub"]
    details: HubDetails


class GitlabRegistry(_Registry):
    type: Literal["gitlab"]
    details: GitlabDetails


class GithubRegistry(_Registry):
    type: Literal["github"]
    details: GithubDetails


class GoogleRegistry(_Registry):
    type: Literal["google"]
    details: GoogleDetails


class UncheckedRegistry(_Registry):
    type: Literal["unchecked"]
    details: UncheckedDetails


RegistryRequest = Annotated[
    V2Registry | HubRegistry | GitlabRegistry | GithubRegistry | GoogleRegistry | UncheckedRegistry,
    Field(discriminator="type"),
]


class RegistryListItem(ResponseModel):
    type: RegistryType
    id: str
    name: str
    description: str | None
    icon: str | None
    url: str


class RegistryResponse(ResponseModel):
    type: RegistryType
    # The type's details as stored: url, imageNamePrefix, namespace, public, user, local, apiUrl
    # (whichever the type has) and never the token.
    details: dict[str, str | bool]
    id: str
    name: str
    description: str | None
    icon: str | None
    in_use: bool
    created_at: UtcDateTime
    updated_at: UtcDateTime


class RegistryCheckResponse(ResponseModel):
    """A live check's answer: `checked` false when the type is not checked (unchecked, public Docker
    Hub), with why; a failed check is a 400 at the field at fault instead."""

    checked: bool
    message: str


class ImageSearchQuery(RequestModel):
    """`?q=`: part of an image's name (empty: every name the catalog lists)."""

    model_config = ConfigDict(extra="ignore")

    q: Annotated[str, StringConstraints(max_length=255)] = ""


class TagQuery(RequestModel):
    """`?image=`: required, but checked after the registry is found (a foreign registry is a 404 first)."""

    model_config = ConfigDict(extra="ignore")

    image: (
        Annotated[
            str,
            StringConstraints(
                strip_whitespace=True,
                min_length=1,
                max_length=255,
                pattern=r"^[a-z0-9]+(?:(?:[._]|__|-+|/)[a-z0-9]+)*$",
            ),
        ]
        | None
    ) = None


class FoundImage(ResponseModel):
    name: str


class ImageTags(ResponseModel):
    name: str
    tags: list[str]
