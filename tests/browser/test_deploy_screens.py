"""The nodes and deployments screens in a real browser, without an agent (the deploy path with one:
test_deploy_e2e.py): each family made, edited and deleted, an API refusal shown at the field it
names, the install command made and made again, refusals of an unreachable node, a deployment's
environment, instance overrides, CI token and copy, and both at a phone's width."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.browser.conftest import PHONE, Console, unique_email, unique_slug

pytestmark = pytest.mark.browser

UNCHECKED = {"type": "unchecked", "name": "Example registry", "details": {"url": "registry.example.com"}}
WEB = {
    "name": "web",
    "environment": [{"key": "MODE", "value": "demo"}],
    "secrets": [{"key": "DB_PASSWORD", "required": True}],
}


def expect(target):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def install_command_made_again_and_discarded(console: Console, page) -> None:
    # AND the install command is made, shown with its script, made again (the old one stops) and discarded
    page.get_by_role("button", name="Make install command").click()
    installer = page.get_by_label("Install command", exact=True)
    expect(installer).to_be_visible()
    first = installer.input_value()
    assert first.startswith("curl -fsSL ") and first.endswith("| sh -")
    page.get_by_text("Show the script it runs").click()
    expect(page.locator(".script pre")).to_contain_text("#!/bin/sh")
    console.shot(page, "install-command")
    page.get_by_role("button", name="Make a new command").click()
    expect(page.get_by_text("A new install command is ready")).to_be_visible()
    expect(installer).not_to_have_value(first)
    page.get_by_role("button", name="Discard this command").click()
    page.get_by_role("dialog", name="Discard the install command?").get_by_role("button", name="Discard").click()
    expect(page.get_by_text("The install command was discarded.")).to_be_visible()
    expect(installer).to_be_hidden()


def taken_names_refused_at_their_fields(page) -> None:
    # WHEN she adds another of the same name THEN the API's refusal shows at the name field, focused
    name = page.get_by_label("Name", exact=True)
    name.fill("edge-1")
    page.get_by_role("button", name="Add node").click()
    expect(page.get_by_text("Node name taken.")).to_be_visible()
    expect(name).to_be_focused()
    expect(name).to_have_attribute("aria-invalid", "true")

    # AND renaming a second node to a taken name is refused at the settings' name field
    name.fill("edge-2")
    page.get_by_role("button", name="Add node").click()
    expect(page.get_by_role("heading", name="edge-2")).to_be_visible()
    settings = page.get_by_role("form", name="Node settings")
    settings.get_by_label("Name", exact=True).fill("edge-1")
    settings.get_by_role("button", name="Save").click()
    expect(settings.get_by_text("Node name taken.")).to_be_visible()
    expect(settings.get_by_label("Name", exact=True)).to_be_focused()

    # WHEN she renames it to a free name THEN the screen shows the new name
    settings.get_by_label("Name", exact=True).fill("edge-two")
    settings.get_by_label("Description").fill("spare host")
    settings.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Node saved.")).to_be_visible()
    expect(page.get_by_role("heading", name="edge-two")).to_be_visible()
    expect(page.get_by_text("spare host", exact=True)).to_be_visible()


def both_nodes_deleted(page) -> None:
    # WHEN she deletes both (confirmed) THEN the list is empty again
    page.get_by_role("button", name="Delete node").click()
    page.get_by_role("dialog", name="Delete edge-two?").get_by_role("button", name="Delete for good").click()
    expect(page.get_by_text("Node edge-two deleted.")).to_be_visible()
    expect(page.get_by_role("table", name="Nodes")).not_to_contain_text("edge-two")
    page.get_by_role("table", name="Nodes").get_by_role("link", name="edge-1").click()
    page.get_by_role("button", name="Delete node").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete for good").click()
    expect(page.get_by_role("heading", name="No nodes yet")).to_be_visible()


def deploying_refused_and_a_taken_prefix(page) -> None:
    # AND deploying is refused while the node has no agent, with the API's reason
    page.get_by_role("button", name="Deploy", exact=True).click()
    expect(page.get_by_role("form", name="Deploy").get_by_role("alert")).to_contain_text("The node is unreachable.")

    # WHEN he creates another with the same prefix THEN the refusal shows at the prefix field, focused
    page.get_by_role("link", name="Deployments", exact=True).first.click()
    prefix = page.get_by_label("Prefix")
    expect(prefix).to_have_value("shop")
    expect(page.get_by_label("Version")).to_contain_text("rolling (default)")
    prefix.press("Enter")  # from the keyboard
    expect(page.get_by_text("Prefix taken for the node.")).to_be_visible()
    expect(prefix).to_be_focused()
    row = page.get_by_role("table", name="Deployments").get_by_role("row").filter(has_text="edge")
    expect(row).to_contain_text("preparing")


def note_and_environment_edited(page) -> None:
    # WHEN he edits its note and its environment THEN they are kept
    row = page.get_by_role("table", name="Deployments").get_by_role("row").filter(has_text="edge")
    row.get_by_role("link", name="shop").click()
    settings = page.get_by_role("form", name="Deployment settings")
    settings.get_by_label("Note").fill("first try")
    settings.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Deployment saved.")).to_be_visible()
    expect(page.locator(".page-head")).to_contain_text("first try")
    environment = page.get_by_role("form", name="Deployment environment")
    names = environment.get_by_label("Name", exact=True)
    environment.get_by_role("button", name="Add variable").click()
    names.nth(0).focus()
    page.keyboard.type("LOG_LEVEL")  # from the keyboard: the row's name, then its value
    page.keyboard.press("Tab")
    page.keyboard.type("debug")
    environment.get_by_role("button", name="Add variable").click()
    names.nth(1).fill("BAD KEY")

    # AND a refused row shows the API's message at that row
    environment.get_by_role("button", name="Save environment").click()
    expect(environment.get_by_text("environment.1.key: String should match pattern")).to_be_visible()
    expect(names.nth(1)).to_be_focused()
    environment.get_by_role("button", name="Remove variable 2").click()
    environment.get_by_role("button", name="Save environment").click()
    expect(page.get_by_text("Environment saved")).to_be_visible()
    page.reload()
    saved = page.get_by_role("form", name="Deployment environment")
    expect(saved.get_by_label("Name", exact=True)).to_have_value("LOG_LEVEL")
    expect(saved.get_by_label("Value")).to_have_value("debug")


def instance_overrides_kept(page) -> None:
    # AND an instance's overrides are kept; its secrets wait for the node's agent (they are sealed for its key)
    page.get_by_role("table", name="Instances").get_by_role("link", name="Configure").click()
    expect(page.get_by_role("heading", name="web in shop")).to_be_visible()
    expect(page.get_by_text("edge's agent has not connected yet")).to_be_visible()
    expect(page.get_by_role("table", name="Secrets")).to_contain_text("not set")
    page.get_by_text("The image's config", exact=True).click()
    expect(page.locator(".config-json")).to_contain_text('"MODE"')
    overrides = page.get_by_role("form", name="Instance overrides")
    expect(overrides.get_by_role("group", name="Secrets")).to_have_count(0)  # the section above's
    overrides.get_by_role("button", name="Add port").click()
    overrides.get_by_label("Container port", exact=True).fill("8080")
    overrides.get_by_label("Published port", exact=True).fill("18080")
    overrides.get_by_label("Restart policy").select_option("always")
    overrides.get_by_role("button", name="Save overrides").click()
    expect(page.get_by_text("Overrides saved")).to_be_visible()
    page.get_by_role("link", name="Back to the deployment").click()
    expect(page.get_by_role("table", name="Instances")).to_contain_text("ports, restartPolicy")


def ci_token_made(console: Console, page) -> None:
    # AND a CI token is made for it (shown once, with its curl command)
    token = page.get_by_role("form", name="Create a deployment token")
    token.get_by_label("Token name").fill("GitHub Actions")
    token.get_by_role("button", name="Create token").click()
    expect(page.get_by_label("Deployment token", exact=True)).to_be_visible()
    expect(page.get_by_label("curl command", exact=True)).to_be_visible()
    curl = page.get_by_label("curl command", exact=True).input_value()
    assert curl.startswith("curl ") and "/start" in curl
    expect(page.locator("section", has=page.get_by_role("heading", name="CI token")).locator(".facts")).to_contain_text(
        "GitHub Actions"
    )
    console.shot(page, "deployment-edited")


def copied_and_deleted(page) -> None:
    # WHEN he copies it under another prefix THEN the copy's screen opens
    copy = page.get_by_role("form", name="Copy the deployment")
    copy.get_by_label("Prefix").fill("shop-copy")
    copy.get_by_role("button", name="Copy").click()
    expect(page.get_by_text("Deployment copied")).to_be_visible()
    expect(page.locator(".page-head")).to_contain_text("shop-copy")

    # WHEN he deletes the copy (confirmed) THEN only the first one is listed
    page.get_by_role("button", name="Delete deployment").click()
    page.get_by_role("dialog", name="Delete this deployment?").get_by_role("button", name="Delete for good").click()
    expect(page.get_by_text("Deployment deleted")).to_be_visible()
    rows = page.get_by_role("table", name="Deployments").locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("first try")


def older_events_paged_in(page) -> None:
    # GIVEN a log of 120 events (the log route's answers stood in for: without an agent nothing happens)
    events = [
        {
            "type": "log",
            "deploymentStatus": None,
            "createdAt": f"2026-01-01T00:{i // 60:02d}:{i % 60:02d}.000Z",
            "log": [f"line {i:03d}"],
            "containerState": None,
        }
        for i in range(120)
    ]
    asked: list[int] = []

    def answer(route) -> None:
        query = parse_qs(urlsplit(route.request.url).query)
        skip, take = int(query["skip"][0]), int(query["take"][0])
        asked.append(skip)
        newest_first = events[::-1][skip : skip + take]
        total = len(events) if skip + take >= len(events) else skip + take + 1  # as the API counts
        route.fulfill(json={"items": newest_first[::-1], "total": total})

    log_route = re.compile(r"/deployments/[^/]+/log\?")
    page.route(log_route, answer)
    page.reload()

    # THEN the newest page shows, and older pages come in on request until there are no more
    log = page.get_by_role("log", name="Event log")
    expect(log).to_contain_text("line 119")
    expect(log).not_to_contain_text("line 069")
    older = page.get_by_role("button", name="Load older events")
    # (the newest page is read again once the live subscription is up: let that read land before clicking)
    expect(page.locator(".live-live")).to_be_visible()
    for _ in range(100):
        if asked.count(0) >= 2:
            break
        page.wait_for_timeout(50)
    expect(older).to_be_enabled()
    older.click()
    expect(log).to_contain_text("line 020")
    expect(log).not_to_contain_text("line 019")
    older.click()
    expect(log).to_contain_text("line 000")
    expect(older).to_be_hidden()
    assert [skip for skip in asked if skip] == [50, 100]
    expect(log.locator("li")).to_have_count(120)
    page.unroute(log_route)


def test_nodes_are_made_edited_and_deleted_and_a_taken_name_shows_at_its_field(console: Console, page):
    # GIVEN Nora with a team and no nodes
    slug = unique_slug("edge")
    console.sign_up(page, unique_email("nora"), "Nora")
    console.create_team(page, "Edge", slug)
    page.goto(f"/{slug}/nodes")
    expect(page.get_by_role("heading", name="No nodes yet")).to_be_visible()

    # WHEN she adds a node THEN its screen says the agent is to be installed
    page.get_by_label("Name", exact=True).fill("edge-1")
    page.get_by_label("Description").fill("rack 4")
    page.get_by_role("button", name="Add node").click()
    expect(page.get_by_role("heading", name="edge-1")).to_be_visible()
    expect(page.get_by_text("The agent is not installed yet")).to_be_visible()
    expect(page.locator(".page-head")).to_contain_text("unreachable")

    install_command_made_again_and_discarded(console, page)

    # AND the list shows it, its status followed live
    page.get_by_role("link", name="Nodes", exact=True).first.click()
    row = page.get_by_role("table", name="Nodes").get_by_role("row").filter(has_text="edge-1")
    expect(row).to_contain_text("unreachable")
    expect(row).to_contain_text("Docker")

    taken_names_refused_at_their_fields(page)

    # AND its containers screen says the node is unreachable (they are read through the agent)
    page.get_by_role("link", name="Containers", exact=True).click()
    expect(page.get_by_role("heading", name="Containers on edge-two")).to_be_visible()
    expect(page.locator(".notice-error")).to_contain_text("The node is unreachable.")
    page.get_by_role("link", name="check the node").click()

    # AND at a phone's width the node's screen fits, its actions within reach
    page.set_viewport_size(PHONE)
    expect(page.get_by_role("heading", name="edge-two")).to_be_visible()
    assert fits_the_screen(page)
    console.shot(page, "phone-node")
    page.set_viewport_size({"width": 1280, "height": 800})

    both_nodes_deleted(page)


def test_deployments_are_made_edited_copied_and_deleted_and_a_taken_prefix_shows_at_its_field(console: Console, page):
    # GIVEN Dan's team with a node (no agent yet) and a project whose image declares a required secret
    slug = unique_slug("dep")
    console.sign_up(page, unique_email("dan"), "Dan")
    console.create_team(page, "Deployers", slug)
    console.call(page, "POST", f"/api/{slug}/nodes", {"name": "edge"}, expect=201)
    console.project_with_image(page, slug, UNCHECKED, "acme/web:1.0", WEB)

    # WHEN he creates a deployment: project, its default version and the node are chosen, the prefix follows
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Deployments").click()
    expect(page.get_by_role("heading", name="No deployments yet")).to_be_visible()
    expect(page.get_by_label("Project")).to_contain_text("shop")
    expect(page.get_by_label("Version")).to_contain_text("rolling (default)")
    expect(page.get_by_label("Prefix")).to_have_value("shop")
    page.get_by_role("button", name="Create deployment").click()

    # THEN its screen shows the instance's missing secret and an empty event log
    expect(page.get_by_role("heading", name="shop on edge")).to_be_visible()
    expect(page.get_by_role("table", name="Instances")).to_contain_text("DB_PASSWORD to set")
    expect(page.get_by_role("log", name="Event log")).to_contain_text("No events yet")
    expect(page.locator(".page-head")).to_contain_text("preparing")

    older_events_paged_in(page)
    page.reload()
    deploying_refused_and_a_taken_prefix(page)
    note_and_environment_edited(page)
    instance_overrides_kept(page)
    ci_token_made(console, page)

    # AND at a phone's width its screen fits
    page.set_viewport_size(PHONE)
    assert fits_the_screen(page)
    console.shot(page, "phone-deployment")
    page.set_viewport_size({"width": 1280, "height": 800})

    copied_and_deleted(page)
