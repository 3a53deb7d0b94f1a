"""The deploy path in the console, end to end with real parts only: `make run`'s stack, headless
Chromium, an agent installed on this machine by the install command copied from the node's screen,
and the real Docker engine.

Sign-up → team → a project made in the console from the Redis template (its `library/redis:7` from
Docker Hub, which is out of reach here: a busybox stand-in built offline under that name, with a
`redis-server` script, which the agent uses as a local image) → a node made in the console, its
install command run here, the node turning connected live → a deployment made in the console with
the template's secret typed in the browser and sealed there for the node's agent → deploy, followed
live over the WebSocket API until `successful` → the container runs with the secret in its
environment, and the node's containers screen shows it with its log (secret masked) → a restart,
the agent's update and its token's revocation from the console.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from pathlib import Path

import pytest

from tests.browser.conftest import ROOT, Console, unique_email, unique_slug
from tests.fixtures.docker_engine import build_busybox
from tests.fixtures.local_stack import agent_log, alive, run_install_command, stop_agent
from tests.fixtures.waiting import wait_for

pytestmark = pytest.mark.browser

TEMPLATE = json.loads(Path(ROOT, "chalicelib", "templates", "redis.json").read_text())
STAND_IN_LABEL = "org.dyrectorio.test.stand-in"
# What the template's command runs (`exec redis-server --appendonly yes --requirepass "$REDIS_PASSWORD"`)
REDIS_SERVER = """#!/bin/sh
echo "redis-server stand-in: $*"
trap 'exit 0' TERM
sleep 600 & wait
"""


def expect(target):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


@pytest.fixture()
def agent_data(tmp_path):
    """Where the installed agent keeps its files; the agent is stopped after the test."""
    data_dir = tmp_path / "agent"
    yield data_dir
    pid_file = data_dir / "agent.pid"
    if pid_file.exists():
        stop_agent(int(pid_file.read_text()))


@pytest.fixture()
def template_image(docker_client):
    """The template's image as the agent asks the engine for it (`library/redis:7`: no registry host, so
    a local image is used as it is), built offline from busybox; removed afterwards."""
    import docker.errors

    [registry] = TEMPLATE["registries"]
    [image] = TEMPLATE["images"]
    assert registry["type"] == "hub" and image["registryName"] == registry["name"]
    reference = f"{registry['details']['imageNamePrefix']}/{image['name']}:{image['tag']}"
    try:
        present = docker_client.images.get(reference)
        if STAND_IN_LABEL not in (present.labels or {}):
            pytest.fail(f"{reference} is on the engine and is not this test's stand-in: not replacing it")
    except docker.errors.ImageNotFound:
        pass
    scripts = {"/bin/redis-server": REDIS_SERVER}
    build_busybox(docker_client, reference=reference, labels={STAND_IN_LABEL: "1"}, scripts=scripts)
    yield reference
    with contextlib.suppress(docker.errors.ImageNotFound):
        docker_client.images.remove(reference)


@pytest.fixture()
def prefix(docker_client, template_image):
    """The deployment's prefix; every container and volume carrying it is removed afterwards (before the
    template's image)."""
    value = f"e2e{uuid.uuid4().hex[:8]}"
    yield value
    label = f"org.dyrectorio.container.prefix={value}"
    for container in docker_client.containers.list(all=True, filters={"label": label}):
        container.remove(force=True)
    for volume in docker_client.volumes.list(filters={"label": label}):
        volume.remove(force=True)


def project_from_the_template(console: Console, page) -> None:
    # WHEN she makes a project from the Redis template in the gallery
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Templates").click()
    page.get_by_role("button", name=f"Create a project from {TEMPLATE['name']}", exact=True).click()
    dialog = page.get_by_role("dialog", name=f"A project from {TEMPLATE['name']}")
    dialog.get_by_label("Project name").fill("shop")
    dialog.get_by_role("button", name="Create project").click()

    # THEN the project opens with the template's image
    expect(page.get_by_text(f"Project shop created from {TEMPLATE['name']}.")).to_be_visible()
    expect(page.get_by_role("heading", name="shop", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Config of redis:7")).to_be_visible()


def add_node_and_install_its_agent(console: Console, page, agent_data) -> None:
    # WHEN she adds a node in the console and runs its install command on this machine
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Nodes").click()
    expect(page.get_by_text("No nodes yet")).to_be_visible()
    page.get_by_label("Name", exact=True).fill("this-host")
    page.get_by_role("button", name="Add node").click()
    expect(page.get_by_role("heading", name="this-host")).to_be_visible()
    page.get_by_role("button", name="Make install command").click()
    installer = page.get_by_label("Install command", exact=True)
    expect(installer).to_be_visible()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name="Copy Install command").click()
    expect(page.get_by_role("button", name="Copied Install command")).to_be_visible()
    command = page.evaluate("navigator.clipboard.readText()")  # what she pastes on the host
    assert command == installer.input_value()
    assert command.startswith("curl ") and command.endswith("| sh -")
    expect(page.get_by_text("Live", exact=True)).to_be_visible()  # the node's status is followed
    run_install_command(command, agent_data)

    # THEN the node turns connected on her screen, without a reload (pushed over the WebSocket API)
    expect(page.locator(".page-head").get_by_text("connected")).to_be_visible(timeout=60_000)
    expect(page.locator(".facts")).to_contain_text("issued")
    console.shot(page, "node-connected", docs="node-details")


def create_deployment_with_a_secret(console: Console, page, slug: str, prefix: str, secret: str) -> None:
    # WHEN she creates a deployment of the project to the node
    page.get_by_role("link", name="Deploy to this node").click()
    expect(page.get_by_label("Node")).to_have_value(page.url.split("nodeId=")[1])  # preselected
    expect(page.get_by_label("Version")).to_contain_text("rolling (default)")
    page.get_by_label("Prefix").fill(prefix)
    page.get_by_label("Note").fill("first deploy from the console")
    page.get_by_role("button", name="Create deployment").click()
    expect(page.get_by_role("heading", name="shop on this-host")).to_be_visible()
    instances = page.get_by_role("table", name="Instances")
    expect(instances).to_contain_text("REDIS_PASSWORD to set")

    # AND types the secret on the instance's screen (sealed in the browser for the node's agent)
    instances.get_by_role("link", name="Configure").click()
    expect(page.get_by_role("heading", name=f"redis in {prefix}")).to_be_visible()
    expect(page.get_by_label("Secret name")).to_have_value("REDIS_PASSWORD")
    page.get_by_label("Secret value").fill(secret)
    page.get_by_role("button", name="Seal and save").click()
    expect(page.get_by_text("REDIS_PASSWORD sealed for this-host's agent and saved.")).to_be_visible()
    expect(page.get_by_role("table", name="Secrets")).to_contain_text("set (sealed for the node)")

    # THEN the platform holds a sealed box for the node's key, never the value
    stored = console.call(page, "GET", f"/api/{slug}/deployments?take=1").json()[0]
    details = console.call(page, "GET", f"/api/{slug}/deployments/{stored['id']}").json()
    [sealed] = details["instances"][0]["config"]["secrets"]
    assert sealed["encrypted"] and sealed["publicKey"] == details["publicKey"] and secret not in str(details)


def deploy_and_follow_it(console: Console, page, secret: str) -> None:
    # WHEN she deploys it from the deployment's screen
    page.get_by_role("link", name="Back to the deployment").click()
    expect(page.get_by_text("Live", exact=True)).to_be_visible()
    page.get_by_role("button", name="Deploy", exact=True).click()

    # THEN the console shows it successful and its event log as it happens, without a reload
    expect(page.locator(".page-head").get_by_text("successful")).to_be_visible(timeout=120_000)
    log = page.get_by_role("log", name="Event log")
    expect(log).to_contain_text("Deployment in-progress")
    expect(log).to_contain_text("Deployment successful")
    expect(log).to_contain_text("Container redis: running")
    assert secret not in page.content()
    console.shot(page, "deployment-successful", docs="deployment-details")


def container_on_the_nodes_screen(console: Console, page, prefix: str, image: str, secret: str) -> None:
    # WHEN she opens the node's containers THEN the container shows, with its log (the secret masked by the agent)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Nodes").click()
    page.get_by_role("table", name="Nodes").get_by_role("link", name="this-host").click()
    page.get_by_role("link", name="Containers", exact=True).click()
    page.get_by_label("Prefix", exact=True).fill(prefix)
    page.get_by_role("button", name="Show").click()
    row = page.get_by_role("table", name="Containers").get_by_role("row").filter(has_text="redis")
    expect(row).to_contain_text("running")
    expect(row).to_contain_text(image)
    console.shot(page, "node-containers")
    row.get_by_role("link", name="redis").click()
    expect(page.get_by_role("log", name="Container log")).to_contain_text(
        "redis-server stand-in: --appendonly yes --requirepass ******"
    )
    environment = page.get_by_role("table", name="Environment")
    expect(environment.get_by_role("row").filter(has_text="REDIS_PASSWORD")).to_contain_text("secret, not shown")
    assert secret not in page.content()
    console.shot(page, "container-log")


def update_and_revoke_the_agent(page, agent_data) -> None:
    # WHEN she asks the agent to update itself THEN it does, and the node's events say so
    page.get_by_role("link", name="this-host").click()
    page.get_by_role("button", name="Update agent").click()
    page.get_by_role("dialog", name="Update the agent?").get_by_role("button", name="Update").click()
    expect(page.get_by_text("The agent is updating itself")).to_be_visible()
    expect(page.get_by_role("table", name="Node events")).to_contain_text("updateCompleted", timeout=60_000)
    expect(page.locator(".page-head").get_by_text("connected")).to_be_visible(timeout=30_000)

    # AND revoking its token stops it: the node turns unreachable on her screen, live
    pid = int((agent_data / "agent.pid").read_text())
    page.get_by_role("button", name="Revoke token").click()
    page.get_by_role("dialog", name="Revoke the agent's token?").get_by_role("button", name="Revoke").click()
    expect(page.locator(".page-head").get_by_text("unreachable")).to_be_visible(timeout=30_000)
    wait_for(lambda: not alive(pid), 30, "the agent still runs; its log:\n" + agent_log(agent_data))


@pytest.mark.timeout(420)
def test_deploy_from_the_console_with_a_secret_typed_in_the_browser(
    console: Console, page, docker_client, template_image, agent_data, prefix
):
    # GIVEN Ada, signed up in the console with a team
    slug, secret = unique_slug("ship"), f"pw-{uuid.uuid4().hex}"
    sockets: list = []
    page.on("websocket", lambda socket: sockets.append(socket))
    console.sign_up(page, unique_email("ada"), "Ada")
    console.create_team(page, "Shipping", slug)
    project_from_the_template(console, page)

    add_node_and_install_its_agent(console, page, agent_data)
    create_deployment_with_a_secret(console, page, slug, prefix, secret)
    deploy_and_follow_it(console, page, secret)

    # AND the container runs on the engine with the secret's value in its environment
    container = docker_client.containers.get(f"{prefix}-redis")
    assert container.status == "running", agent_log(agent_data)
    assert container.attrs["Config"]["Image"] == template_image
    env = dict(item.split("=", 1) for item in container.attrs["Config"]["Env"])
    assert env["REDIS_PASSWORD"] == secret

    container_on_the_nodes_screen(console, page, prefix, template_image, secret)

    # WHEN she restarts it from the console THEN it restarts on the engine
    started = container.attrs["State"]["StartedAt"]
    page.get_by_role("button", name="Restart").click()
    expect(page.get_by_text(f"{prefix}-redis: restart sent to the agent.")).to_be_visible()

    def restarted() -> bool:
        container.reload()
        return container.attrs["State"]["StartedAt"] != started and container.status == "running"

    wait_for(restarted, 30, "the container was not restarted; agent log:\n" + agent_log(agent_data))
    update_and_revoke_the_agent(page, agent_data)

    # AND the live updates came over the WebSocket API, the token never in its URL (query strings get logged)
    socket_url = console.call(page, "GET", "/api/socket").json()["url"]
    assert sockets and {socket.url for socket in sockets} == {socket_url}
    assert console.token_of(page) not in socket_url and "?" not in socket_url
