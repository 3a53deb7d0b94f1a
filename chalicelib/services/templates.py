"""Templates: preset stacks a team turns into a project in one call (dyrector §10.1).

Each template is a JSON file beside its SVG icon in `chalicelib/templates/` (shipped with the
Lambda package). Creating a project from one adds the registries it names that the team does
not have yet (by name, without a live check), the project, its version (the rolling one of a
versionless project, or `1.0.0` of a versioned one) and the images with their full configs.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from chalicelib import ids
from chalicelib.db import images as image_repo
from chalicelib.db import registries as registry_repo
from chalicelib.db import versions as version_repo
from chalicelib.errors import NotFoundError
from chalicelib.models.containers import ImageConfig
from chalicelib.models.projects import CreateProjectRequest
from chalicelib.models.versions import CreateVersionRequest
from chalicelib.services import projects, versions
from chalicelib.services.access import TeamAccess
from chalicelib.services.identity import Identity

CATALOG = Path(__file__).resolve().parents[1] / "templates"
FIRST_VERSION = "1.0.0"


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class TemplateRegistry(_Model):
    name: str
    type: str
    details: dict[str, Any]


class TemplateImage(_Model):
    name: str
    tag: str | None = None
    registry_name: str
    config: ImageConfig


class Template(_Model):
    id: str = ""
    name: str
    description: str
    technologies: list[str]
    registries: list[TemplateRegistry]
    images: list[TemplateImage]


@functools.cache
def list_templates() -> list[Template]:
    found = []
    for path in sorted(CATALOG.glob("*.json")):
        template = Template.model_validate(json.loads(path.read_text()))
        template.id = path.stem
        found.append(template)
    return found


def get_template(template_id: str) -> Template:
    template = next((t for t in list_templates() if t.id == template_id), None)
    if template is None:
        raise NotFoundError("Template not found.", property="templateId", value=template_id)
    return template


def icon(template_id: str) -> str:
    get_template(template_id)
    path = CATALOG / f"{template_id}.svg"
    if not path.exists():
        raise NotFoundError("Template image not found.", property="templateId", value=template_id)
    return path.read_text()


def create_project(team: TeamAccess, identity: Identity, template_id: str, request: CreateProjectRequest):
    template = get_template(template_id)
    registry_ids = _ensure_registries(team, identity, template)
    project, _ = projects.create_project(team, identity, request)
    if project.kind == "versionless":
        version = version_repo.list_for_project(team.team_id, project.id)[0]
    else:
        version = versions.create_version(
            team,
            identity,
            project.id,
            CreateVersionRequest(
                type="incremental", name=FIRST_VERSION, changelog=f"From the {template.name} template."
            ),
        ).version
    now = ids.utcnow()
    image_repo.put_new(
        team.team_id,
        [
            image_repo.new_item(
                team.team_id,
                project.id,
                version.id,
                ids.new_id(),
                registry_ids[image.registry_name],
                image.name,
                image.tag,
                order,
                image.config.stored_with_new_ids(),
                None,
                now,
            )
            for order, image in enumerate(template.images)
        ],
    )
    return project


def _ensure_registries(team: TeamAccess, identity: Identity, template: Template) -> dict[str, str]:
    existing = registry_repo.ids_by_name(team.team_id, [wanted.name for wanted in template.registries])
    result = {}
    for wanted in template.registries:
        registry_id = existing.get(wanted.name)
        if registry_id is None:
            item = registry_repo.new_item(
                team.team_id,
                ids.new_id(),
                wanted.name,
                None,
                None,
                wanted.type,
                dict(wanted.details),
                None,
                identity.user_id,
                ids.utcnow(),
            )
            registry_repo.create(team.team_id, item)
            registry_id = item.id
        result[wanted.name] = registry_id
    return result
