"""Projects, versions, images, registries and templates in the console (headless Chromium on
`make run`'s stack): each family created, changed and deleted through its screens, an API refusal
shown at its field, registry checks and image lookups against the test's real v2 registry, images
reordered by keyboard and by dragging, the container config edited in its form and as JSON, and the
screens at a phone's width."""

from __future__ import annotations

import json
import re

import pytest
import requests

from tests.browser.conftest import PHONE, Console, unique_email, unique_slug

pytestmark = pytest.mark.browser


def expect(target):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def call(console: Console, page, method: str, path: str, body=None) -> dict | list | None:
    """The API as the signed-in person (setup the test is not about)."""
    response = requests.request(
        method,
        console.url + path,
        json=body,
        headers={"Authorization": f"Bearer {console.token_of(page)}"},
        timeout=30,
    )
    assert response.ok, response.text
    return response.json() if response.content else None


def signed_in_team(console: Console, page, name: str) -> str:
    slug = unique_slug(name[:4].lower())
    console.sign_up(page, unique_email(name.lower()), name)
    console.create_team(page, f"{name} team", slug)
    return slug


def v2_registry(console: Console, page, slug: str, local_registry, name: str = "CI registry") -> dict:
    details = {"url": local_registry.url, "user": local_registry.user, "token": local_registry.password}
    return call(console, page, "POST", f"/api/{slug}/registries", {"type": "v2", "name": name, "details": details})


def labelled(text: str) -> re.Pattern:
    """A field's label, with or without the " (optional)" the console adds to optional ones."""
    return re.compile(rf"^{re.escape(text)}( \(optional\))?$")


def field_error(scope, label: str):
    """The error read out with the field labelled `label` (its aria-describedby), which is marked invalid."""
    field = scope.get_by_label(labelled(label))
    expect(field).to_have_attribute("aria-invalid", "true")
    [error_id] = [i for i in field.get_attribute("aria-describedby").split() if i.endswith("-error")]
    return scope.locator(f'[id="{error_id}"]')


def expect_images(page, names: list[str]) -> None:
    """The version's images, by container name, in deployment order."""
    expect(page.get_by_role("list", name="Images in deployment order").locator(".image-name")).to_have_text(names)


def versioned_project_with_image(console: Console, page, slug: str, local_registry) -> tuple[str, dict]:
    """A versioned project's version 1.0.0 holding acme/web:1.0 (whose labels declare MODE and DB_PASSWORD):
    the API path of its image, and the image."""
    registry = v2_registry(console, page, slug, local_registry)
    project = call(console, page, "POST", f"/api/{slug}/projects", {"type": "versioned", "name": "Shop"})
    base = f"/api/{slug}/projects/{project['id']}/versions"
    version = call(console, page, "POST", base, {"type": "incremental", "name": "1.0.0"})
    added = [{"registryId": registry["id"], "images": ["acme/web:1.0"]}]
    [image] = call(console, page, "POST", f"{base}/{version['id']}/images", added)
    return f"{base}/{version['id']}/images/{image['id']}", image


def open_config(page, image_path: str) -> None:
    page.goto(image_path.removeprefix("/api"))
    expect(page.get_by_role("heading", name="Config of web")).to_be_visible()


# --- registries ---------------------------------------------------------------------------------


def test_the_registry_form_asks_for_each_types_details(console: Console, page):
    # GIVEN a team: its registries start with the public Docker Hub library
    signed_in_team(console, page, "Rhea")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Registries").click()
    expect(page.get_by_role("table", name="Registries")).to_contain_text("Docker Hub Library")
    page.get_by_role("link", name="Add registry").first.click()
    expect(page.get_by_role("heading", name="Add a registry")).to_be_visible()
    details = page.get_by_role("group", name=re.compile(": details$"))
    expect(details.get_by_label("Registry URL")).to_be_visible()  # v2 first

    # WHEN the type changes THEN the details asked for follow it (the API's fields for the type)
    page.get_by_label("Type").select_option("github")
    expect(details.get_by_label("Namespace")).to_have_value("organization")
    expect(details.get_by_label("Personal access token")).to_be_visible()
    expect(details.get_by_label("Registry URL")).to_have_count(0)
    page.get_by_label("Type").select_option("gitlab")
    expect(details.get_by_label("Namespace")).to_have_value("group")
    expect(details.get_by_label(labelled("GitLab URL (self-managed)"))).to_be_visible()
    page.get_by_label("Type").select_option("google")
    expect(details.get_by_label("Service account key (JSON)")).to_be_visible()
    page.get_by_label("Type").select_option("hub")
    expect(details.get_by_label("Organisation or user")).to_be_visible()
    expect(details.get_by_label("Public: pull without credentials")).to_be_checked()
    expect(details.get_by_label("Access token")).to_have_count(0)  # public: no credentials
    details.get_by_label("Public: pull without credentials").uncheck()
    expect(details.get_by_label("Access token")).to_be_visible()
    page.get_by_label("Type").select_option("unchecked")
    expect(details.get_by_label("Local images only: the node’s own")).to_be_visible()
    expect(details.get_by_label(labelled("Registry URL"))).to_be_visible()


def test_a_registry_is_checked_live_before_it_is_added_and_a_taken_name_is_refused(
    console: Console, page, local_registry
):
    # GIVEN the add form filled for the test registry with a wrong password
    slug = signed_in_team(console, page, "Rita")
    page.goto(f"/{slug}/registries/new")
    details = page.get_by_role("group", name=re.compile(": details$"))
    page.get_by_label("Name", exact=True).fill("CI registry")
    details.get_by_label("Registry URL").fill(local_registry.url)
    details.get_by_label("User").fill(local_registry.user)
    details.get_by_label("Password or access token").fill("wrong-password")

    # WHEN it is checked THEN the registry's refusal shows at the details
    page.get_by_role("button", name="Check connection").click()
    refused = page.locator("fieldset.fieldset-invalid > .field-error")
    expect(refused).to_contain_text("refused the credentials")
    console.shot(page, "registry-check-refused")

    # AND with the right one the check passes, showing the registry's answer; then it is added
    details.get_by_label("Password or access token").fill(local_registry.password)
    page.get_by_role("button", name="Check connection").click()
    passed = f"Check passed. The registry at {local_registry.host} answered with these credentials."
    expect(page.locator(".check-answer")).to_contain_text(passed)
    expect(refused).to_have_count(0)
    page.get_by_role("button", name="Add registry").click()
    expect(page.get_by_text("Registry CI registry added (it answered the check).")).to_be_visible()
    row = page.get_by_role("table", name="Registries").get_by_role("row").filter(has_text="CI registry")
    expect(row).to_contain_text(local_registry.url)

    # WHEN another is added under the same name THEN the API's 409 shows at the name field
    page.get_by_role("link", name="Add registry").first.click()
    page.get_by_label("Name", exact=True).fill("ci registry")
    page.get_by_label("Type").select_option("unchecked")
    page.get_by_label(labelled("Registry URL")).fill("registry.example.com")
    page.get_by_role("button", name="Add registry").click()
    expect(field_error(page, "Name")).to_contain_text("taken")
    expect(page.get_by_label("Name", exact=True)).to_be_focused()


def test_a_registry_is_renamed_keeping_its_token_checked_as_stored_and_deleted(console: Console, page, local_registry):
    # GIVEN the test registry in a team, its token stored
    slug = signed_in_team(console, page, "Rosa")
    v2_registry(console, page, slug, local_registry)

    # WHEN it is renamed with its token left empty (the stored one is kept, and checked)
    page.goto(f"/{slug}/registries")
    page.get_by_role("link", name="Edit CI registry").click()
    expect(page.get_by_label(labelled("Password or access token"))).to_have_value("")
    page.get_by_label("Name", exact=True).fill("Build registry")
    page.get_by_role("button", name="Check connection").click()
    expect(page.locator(".check-answer")).to_contain_text("answered with these credentials")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Registry Build registry saved (it answered the check).")).to_be_visible()
    expect(page.get_by_role("heading", name="Build registry")).to_be_visible()

    # THEN the list checks registries as stored, saying which types are not checked
    page.get_by_role("link", name="All registries").click()
    page.get_by_role("button", name="Check Build registry").click()
    expect(page.locator(".check-answer")).to_contain_text("Build registry: The registry at")
    page.get_by_role("button", name="Check Docker Hub Library").click()
    expect(page.locator(".check-answer")).to_contain_text("Not checked. Docker Hub Library: Docker Hub's public images")
    console.shot(page, "registries")

    # AND deleting it (confirmed) removes it
    registries = page.get_by_role("table", name="Registries")
    registries.get_by_role("row").filter(has_text="Build registry").get_by_role("button", name="Delete").click()
    page.get_by_role("dialog", name="Delete the registry Build registry?").get_by_role("button", name="Delete").click()
    expect(page.get_by_text("Registry Build registry deleted.")).to_be_visible()
    expect(registries).not_to_contain_text("Build registry")


# --- projects and versions ----------------------------------------------------------------------


def test_versions_are_created_made_default_increased_renamed_and_deleted(console: Console, page):
    # GIVEN a versioned project created on the projects screen
    signed_in_team(console, page, "Vera")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Projects").click()
    page.get_by_label("Name", exact=True).fill("Shop")
    page.get_by_label("Type").select_option("versioned")
    page.get_by_role("button", name="Create project").click()
    expect(page.get_by_role("heading", name="Shop", exact=True)).to_be_visible()
    expect(page.get_by_text("No versions yet")).to_be_visible()

    # WHEN versions are created: an incremental one (the first becomes the default) and a rolling one
    page.get_by_label("Version name").fill("1.0.0")
    page.get_by_role("button", name="Create version").click()
    versions = page.get_by_role("table", name="Versions")
    expect(versions.get_by_role("row").filter(has_text="1.0.0").locator(".badge")).to_have_text("default")
    page.get_by_label("Version name").fill("nightly")
    page.get_by_label("Version type").select_option("rolling")
    page.get_by_role("button", name="Create version").click()
    expect(versions.get_by_role("row").filter(has_text="nightly")).to_be_visible()

    # AND a taken version name is refused at its field
    page.get_by_label("Version name").fill("1.0.0")
    page.get_by_role("button", name="Create version").click()
    expect(field_error(page, "Version name")).to_contain_text("taken")

    # AND the rolling one becomes the default; 1.0.0 is increased to 1.1.0
    page.get_by_role("button", name="Make nightly the default").click()
    expect(versions.get_by_role("row").filter(has_text="nightly").locator(".badge")).to_have_text("default")
    expect(versions.get_by_role("row").filter(has_text="1.0.0").locator(".badge")).to_have_count(0)
    page.get_by_role("button", name="Increase 1.0.0").click()
    dialog = page.get_by_role("dialog", name="Increase 1.0.0")
    dialog.get_by_label("Name").fill("1.1.0")
    dialog.get_by_label("Changelog").fill("Faster checkout")
    dialog.get_by_role("button", name="Create version").click()
    expect(versions.get_by_role("row").filter(has_text="1.1.0")).to_contain_text("Faster checkout")
    expect(page.get_by_role("button", name="Increase 1.0.0")).to_have_count(0)  # it has its child now
    console.shot(page, "versions")

    # WHEN a version is renamed on its screen, and another deleted
    versions.get_by_role("link", name="nightly").click()
    expect(page.get_by_role("heading", name="Shop nightly")).to_be_visible()
    page.get_by_label("Name", exact=True).fill("edge")
    page.get_by_label("Changelog").fill("Whatever main holds")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Shop edge")).to_be_visible()
    page.get_by_role("link", name="Shop", exact=True).click()
    versions.get_by_role("row").filter(has_text="1.1.0").get_by_role("button", name="Delete").click()
    page.get_by_role("dialog", name="Delete the version 1.1.0?").get_by_role("button", name="Delete").click()

    # THEN the project shows what is left
    expect(versions).not_to_contain_text("1.1.0")
    expect(versions.get_by_role("row").filter(has_text="edge")).to_contain_text("Whatever main holds")


def test_projects_are_listed_renamed_converted_and_deleted_and_a_taken_name_is_refused(console: Console, page):
    # GIVEN a team with one project
    slug = signed_in_team(console, page, "Paul")
    page.goto(f"/{slug}/projects")
    expect(page.get_by_text("No projects yet")).to_be_visible()
    call(console, page, "POST", f"/api/{slug}/projects", {"type": "versioned", "name": "Shop"})
    page.reload()

    # WHEN another project takes its name THEN the API's 409 shows at the name field
    page.get_by_label("Name", exact=True).fill("shop")
    page.get_by_role("button", name="Create project").click()
    expect(field_error(page, "Name")).to_contain_text("taken")
    expect(page.get_by_label("Name", exact=True)).to_be_focused()
    console.shot(page, "project-name-taken")

    # WHEN a versionless project is made THEN its screen holds its images at once
    page.get_by_label("Name", exact=True).fill("Blog")
    page.get_by_role("button", name="Create project").click()
    expect(page.get_by_role("heading", name="Blog", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Images (0)")).to_be_visible()
    expect(page.get_by_text("No images yet")).to_be_visible()

    # AND it is renamed (with its changelog) and converted to versioned
    page.get_by_label("Name", exact=True).fill("Blog engine")
    page.get_by_label("Changelog").fill("First cut")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Blog engine", exact=True)).to_be_visible()
    page.get_by_role("button", name="Convert to versioned").click()
    page.get_by_role("dialog").get_by_role("button", name="Convert").click()
    expect(page.get_by_role("table", name="Versions")).to_contain_text("First cut")

    # THEN the list shows both; deleting one (confirmed) leaves the other
    page.get_by_role("link", name="All projects").click()
    projects = page.get_by_role("table", name="Projects")
    expect(projects.get_by_role("row")).to_have_count(3)  # the header and two projects
    projects.get_by_role("link", name="Blog engine").click()
    page.get_by_role("button", name="Delete project").click()
    page.get_by_role("dialog", name="Delete the project Blog engine?").get_by_role(
        "button", name="Delete project"
    ).click()
    expect(page.get_by_text("Project Blog engine deleted.")).to_be_visible()
    expect(projects).not_to_contain_text("Blog engine")
    expect(projects).to_contain_text("Shop")


# --- images -------------------------------------------------------------------------------------


def test_images_are_found_in_their_registry_and_added_and_a_missing_one_is_refused(
    console: Console, page, local_registry
):
    # GIVEN a versionless project and the test registry (acme/web 1.0 and 2.0, acme/worker latest)
    slug = signed_in_team(console, page, "Ines")
    registry = v2_registry(console, page, slug, local_registry)
    project = call(console, page, "POST", f"/api/{slug}/projects", {"type": "versionless", "name": "Shop"})
    page.goto(f"/{slug}/projects/{project['id']}")
    add = page.get_by_role("form", name="Add an image")
    add.get_by_label("Registry").select_option(registry["id"])

    # WHEN the registry is searched and a found image picked THEN its tags are looked up; one is picked
    add.get_by_role("button", name="Search images").click()
    found = add.get_by_role("group", name="Images found")
    expect(found.get_by_role("button")).to_have_text(["acme/web", "acme/worker"])
    found.get_by_role("button", name="acme/web").click()
    expect(add.get_by_label("Image", exact=True)).to_have_value("acme/web")
    tags = add.get_by_role("group", name="Tags found")
    expect(tags.get_by_role("button")).to_have_text(["2.0", "1.0"])
    tags.get_by_role("button", name="1.0").click()
    expect(add.get_by_label(labelled("Tag"))).to_have_value("1.0")
    add.get_by_role("button", name="Add image").click()
    expect(page.get_by_text("acme/web:1.0 added.")).to_be_visible()

    # AND an image the registry does not hold is refused at the image field (its lookup says so first)
    add.get_by_label("Image", exact=True).fill("acme/nothing")
    add.get_by_role("button", name="Find tags").click()
    expect(add.get_by_role("status")).to_contain_text("not found")
    add.get_by_role("button", name="Add image").click()
    expect(field_error(page, "Image")).to_contain_text("not found")
    expect(add.get_by_label("Image", exact=True)).to_be_focused()

    # AND typed names are added too: from the test registry and from Docker Hub's library
    add.get_by_label("Image", exact=True).fill("acme/worker")
    add.get_by_role("button", name="Find tags").click()
    add.get_by_role("group", name="Tags found").get_by_role("button", name="latest").click()
    add.get_by_role("button", name="Add image").click()
    expect(page.get_by_text("acme/worker:latest added.")).to_be_visible()
    add.get_by_label("Registry").select_option(label="Docker Hub Library (hub.docker.com)")
    add.get_by_label("Image", exact=True).fill("redis")
    add.get_by_label(labelled("Tag")).fill("7.4")
    add.get_by_role("button", name="Add image").click()

    # THEN the version holds the three, in the order they were added
    expect(page.get_by_role("heading", name="Images (3)")).to_be_visible()
    expect_images(page, ["web", "worker", "redis"])


def test_images_are_reordered_by_keyboard_and_by_dragging_and_deleted(console: Console, page, local_registry):
    # GIVEN a versionless project with three images
    slug = signed_in_team(console, page, "Olga")
    registry = v2_registry(console, page, slug, local_registry)
    hub = next(r for r in call(console, page, "GET", f"/api/{slug}/registries") if r["type"] == "hub")
    project = call(console, page, "POST", f"/api/{slug}/projects", {"type": "versionless", "name": "Shop"})
    version = call(console, page, "GET", f"/api/{slug}/projects/{project['id']}")["versions"][0]
    images_path = f"/api/{slug}/projects/{project['id']}/versions/{version['id']}/images"
    added = [
        {"registryId": registry["id"], "images": ["acme/web:1.0", "acme/worker:latest"]},
        {"registryId": hub["id"], "images": ["redis:7.4"]},
    ]
    call(console, page, "POST", images_path, added)
    page.goto(f"/{slug}/projects/{project['id']}")
    expect_images(page, ["web", "worker", "redis"])

    # WHEN the last one moves up with the keyboard THEN the order changes and focus stays with it
    page.get_by_role("button", name="Move redis:7.4 up").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("redis moved to position 2.")).to_be_visible()
    expect(page.get_by_role("button", name="Move redis:7.4 up")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_text("redis moved to position 1.")).to_be_visible()
    expect(page.get_by_role("button", name="Move redis:7.4 down")).to_be_focused()  # at the top: Down takes it
    expect_images(page, ["redis", "web", "worker"])

    # AND dragging the last row onto the first puts it first
    rows = page.get_by_role("list", name="Images in deployment order").get_by_role("listitem")
    rows.nth(2).drag_to(rows.nth(0))
    expect(page.get_by_text("acme/worker moved to position 1.")).to_be_visible()
    expect_images(page, ["worker", "redis", "web"])
    console.shot(page, "images-ordered", docs="project-images")

    # THEN the order is the version's (a reload shows it); deleting one removes it
    page.reload()
    expect_images(page, ["worker", "redis", "web"])
    rows.filter(has_text="redis:7.4").get_by_role("button", name="Delete").click()
    page.get_by_role("dialog", name="Remove redis:7.4 from the version?").get_by_role("button", name="Delete").click()
    expect(page.get_by_role("heading", name="Images (2)")).to_be_visible()
    expect_images(page, ["worker", "web"])
    images = call(console, page, "GET", images_path)
    assert [(i["name"], i["order"]) for i in images] == [("acme/worker", 0), ("acme/web", 2)]


# --- the container config -----------------------------------------------------------------------


def test_the_config_form_saves_and_shows_a_refused_port_at_its_field(console: Console, page, local_registry):
    # GIVEN an image whose labels declared the env key MODE, on its config screen
    slug = signed_in_team(console, page, "Carl")
    image_path, _ = versioned_project_with_image(console, page, slug, local_registry)
    page.goto(f"/{slug}/projects")
    page.get_by_role("link", name="Shop").click()
    page.get_by_role("link", name="1.0.0").click()
    expect(page.get_by_role("heading", name="Shop 1.0.0")).to_be_visible()
    page.get_by_role("link", name="Config of acme/web:1.0").click()
    expect(page.get_by_role("heading", name="Config of web")).to_be_visible()

    # WHEN the form gets an env value, a port published on an impossible port, limits and a health check
    environment = page.get_by_role("group", name="Environment")
    expect(environment.get_by_label("Name").first).to_have_value("MODE")
    environment.get_by_label("Value").first.fill("production")
    ports = page.get_by_role("group", name="Ports")
    expect(ports.get_by_text("None.")).to_be_visible()
    ports.get_by_role("button", name="+ Add port").click()
    ports.get_by_label("Container port").fill("80")
    ports.get_by_label("Published port").fill("70000")
    page.get_by_label("Restart policy").select_option("unlessStopped")
    page.get_by_label("Memory limit").fill("256Mi")
    page.get_by_label("Liveness path").fill("/healthz")
    page.get_by_role("button", name="Save config").click()

    # THEN the API's refusal is shown at that port's field, which gets focus
    expect(field_error(page, "Published port")).to_contain_text("less than or equal to 65535")
    expect(ports.get_by_label("Published port")).to_be_focused()
    console.shot(page, "config-port-refused")

    # AND fixed, it saves: the API holds what the form shows
    ports.get_by_label("Published port").fill("8080")
    expect(page.locator(".field-error")).to_have_count(0)
    page.get_by_role("button", name="Save config").click()
    expect(page.get_by_text("Config of acme/web saved.")).to_be_visible()
    saved = call(console, page, "GET", image_path)["config"]
    assert [(p["internal"], p["external"]) for p in saved["ports"]] == [(80, 8080)]
    assert (saved["restartPolicy"], saved["resourceConfig"]["limits"]["memory"]) == ("unlessStopped", "256Mi")
    assert saved["healthCheckConfig"]["livenessProbe"] == "/healthz"
    assert {e["key"]: e["value"] for e in saved["environment"]}["MODE"] == "production"
    expect(page.get_by_role("group", name="Ports").get_by_label("Published port")).to_have_value("8080")
    console.shot(page, "config-form", docs="config-editor")

    # AND a new tag is checked in the registry: one it lacks is refused at the tag field
    page.get_by_label("Tag").fill("9.9")
    page.get_by_role("button", name="Save config").click()
    expect(field_error(page, "Tag")).to_contain_text("not found")
    page.get_by_label("Tag").fill("2.0")
    page.get_by_role("button", name="Save config").click()
    expect(page.get_by_text("acme/web:2.0", exact=True)).to_be_visible()


def test_the_config_as_json_saves_and_shows_a_refusal_with_its_path(console: Console, page, local_registry):
    # GIVEN an image with a port and a restart policy, its config shown as JSON
    slug = signed_in_team(console, page, "Jana")
    image_path, _ = versioned_project_with_image(console, page, slug, local_registry)
    config = {"ports": [{"internal": 80, "external": 8080}], "restartPolicy": "always"}
    call(console, page, "PATCH", image_path, {"config": config})
    open_config(page, image_path)
    page.get_by_role("button", name="JSON").click()
    json_field = page.get_by_label("The whole config (JSON)")
    text = json_field.input_value()
    assert '"external": 8080' in text and '"restartPolicy": "always"' in text

    # WHEN a port in it is made impossible THEN the refusal shows at the JSON with the property's path
    json_field.fill(text.replace('"internal": 80,', '"internal": 99999,'))
    page.get_by_role("button", name="Save config").click()
    expect(field_error(page, "The whole config (JSON)")).to_contain_text("config.ports.0.internal")
    console.shot(page, "config-json-refused")

    # AND broken JSON is caught before anything is sent
    json_field.fill("{ not json")
    page.get_by_role("button", name="Save config").click()
    expect(field_error(page, "The whole config (JSON)")).to_contain_text("Not valid JSON")

    # WHEN a field is removed and a command set THEN it saves: the JSON shows what the API holds
    edited = json.loads(text)
    del edited["restartPolicy"]
    edited["commands"] = [{"key": "serve"}]
    json_field.fill(json.dumps(edited, indent=2))
    page.get_by_role("button", name="Save config").click()
    expect(json_field).to_have_value(re.compile(r'"commands": \[\s*\{\s*"id": "'))  # the id the API gave it
    saved = call(console, page, "GET", image_path)["config"]
    assert saved.get("restartPolicy") is None and [c["key"] for c in saved["commands"]] == ["serve"]

    # AND the form view shows it too
    page.get_by_role("button", name="Form").click()
    expect(page.get_by_role("group", name="Command").get_by_label(labelled("Word"))).to_have_value("serve")
    expect(page.get_by_label("Restart policy")).to_have_value("")


# --- templates ----------------------------------------------------------------------------------


def test_the_template_gallery_shows_icons_and_makes_a_project(console: Console, page):
    # GIVEN a team on the template gallery
    slug = signed_in_team(console, page, "Tom")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Templates").click()
    gallery = page.get_by_role("list", name="Templates")
    card = gallery.get_by_role("listitem").filter(has=page.get_by_role("heading", name="nginx"))
    expect(card.get_by_role("list", name="Technologies of nginx")).to_contain_text("HTTP")

    # THEN every template shows its icon (fetched with the session, shown as a data: URL)
    expect(gallery.locator("img.template-icon")).to_have_count(gallery.locator(":scope > li").count())
    page.wait_for_function(
        "[...document.querySelectorAll('img.template-icon')].every((i) => i.complete && i.naturalWidth > 0)"
    )
    console.shot(page, "templates")

    # WHEN a project is made from nginx THEN it opens with the template's image and config
    card.get_by_role("button", name="Create a project from nginx").click()
    dialog = page.get_by_role("dialog", name="A project from nginx")
    expect(dialog.get_by_label("Project name")).to_be_focused()
    dialog.get_by_label("Project name").fill("Front door")
    dialog.get_by_role("button", name="Create project").click()
    expect(page.get_by_text("Project Front door created from nginx.")).to_be_visible()
    expect(page.get_by_role("heading", name="Front door", exact=True)).to_be_visible()
    expect_images(page, ["nginx"])
    page.get_by_role("link", name="Config of nginx:1.27").click()
    expect(page.get_by_role("group", name="Ports").get_by_label("Container port")).to_have_value("80")

    # AND it is deleted like any project
    page.goto(f"/{slug}/projects")
    page.get_by_role("table", name="Projects").get_by_role("link", name="Front door").click()
    page.get_by_role("button", name="Delete project").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete project").click()
    expect(page.get_by_text("No projects yet")).to_be_visible()


def test_a_project_from_a_template_may_not_take_a_taken_name(console: Console, page):
    # GIVEN a team with a project named Cache
    slug = signed_in_team(console, page, "Tess")
    call(console, page, "POST", f"/api/{slug}/projects", {"type": "versionless", "name": "Cache"})

    # WHEN a versioned project is made from redis under that name THEN the 409 shows in the dialog
    page.goto(f"/{slug}/templates")
    page.get_by_role("button", name="Create a project from redis").click()
    dialog = page.get_by_role("dialog", name="A project from redis")
    dialog.get_by_label("Project name").fill("cache")
    dialog.get_by_label("Type").select_option("versioned")
    dialog.get_by_role("button", name="Create project").click()
    expect(field_error(dialog, "Project name")).to_contain_text("taken")
    expect(dialog.get_by_label("Project name")).to_be_focused()

    # AND another name makes it, with its first version 1.0.0
    dialog.get_by_label("Project name").fill("Sessions")
    dialog.get_by_role("button", name="Create project").click()
    expect(page.get_by_role("heading", name="Sessions", exact=True)).to_be_visible()
    expect(page.get_by_role("table", name="Versions")).to_contain_text("1.0.0")


# --- narrow screens -----------------------------------------------------------------------------


def test_the_project_screens_fit_a_phone(console: Console, local_registry):
    # GIVEN a project with images, on a 390 px wide screen
    page = console.new_page(viewport=PHONE)
    slug = signed_in_team(console, page, "Pia")
    image_path, _ = versioned_project_with_image(console, page, slug, local_registry)
    version_path = image_path.split("/images/")[0].removeprefix("/api")

    # THEN the projects, a version with images, registries and templates are no wider than the screen
    for path in (
        version_path,
        f"/{slug}/registries",
        f"/{slug}/registries/new",
        f"/{slug}/templates",
        f"/{slug}/projects",
    ):
        page.goto(path)
        expect(page.locator("#page-title")).to_be_visible()
        page.wait_for_load_state("networkidle")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], path

    # AND so is the config editor, with a list entry added
    open_config(page, image_path)
    page.get_by_role("group", name="Ports").get_by_role("button", name="+ Add port").click()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    console.shot(page, "phone-config")
