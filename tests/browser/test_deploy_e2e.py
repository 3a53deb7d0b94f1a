"""The deploy path in the console, end to end with real parts only: `make run`'s stack, headless
Chromium, an agent installed on this machine by the install command copied from the node's screen,
the real Docker engine and a v2 registry (htpasswd) holding a busybox image built offline.

Sign-up → team → (a project with that image, through the API: another family's screens) → a node
made in the console, its install command run here, the node turning connected live → a deployment
made in the console with a secret typed in the browser and sealed there for the node's agent →
deploy, followed live over the WebSocket API until `successful` → the container runs with the
secret in its environment, and the node's containers screen shows it with its log (secret masked)
→ a restart, the agent's update and its token's revocation from the console.
"""

from __future__ import annotations

import uuid

import pytest

from tests.browser.conftest import Console, unique_email, unique_slug
from tests.fixtures.local_stack import agent_log, alive, run_install_command, stop_agent
from tests.fixtures.waiting import wait_for

pytestmark = pytest.mark.browser

SCRIPT = "echo \"hello from web, DB_PASSWORD=$DB_PASSWORD\"; trap 'exit 0' TERM; sleep 600 & wait"


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
def prefix(docker_client):
    """The deployment's prefix; every container carrying it is removed afterwards."""
    value = f"e2e{uuid.uuid4().hex[:8]}"
    yield value
    for container in docker_client.containers.list(
        all=True, filters={"label": f"org.dyrectorio.container.prefix={value}"}
    ):
        container.remove(force=True)


def registry_and_project(console: Console, page, slug: str, local_registry) -> None:
    """The test registry as the team's v2 registry and a project holding its busybox `acme/web:1.0`."""
    registry = {
        "type": "v2",
        "name": "CI registry",
        "details": {"url": local_registry.url, "user": local_registry.user, "token": local_registry.password},
    }
    web = {
        "name": "web",
        "environment": [{"key": "MODE", "value": "demo"}],
        "secrets": [{"key": "DB_PASSWORD", "required": True}],
        "commands": [{"key": "sh"}, {"key": "-c"}],
        "args": [{"key": SCRIPT}],
    }
    console.project_with_image(page, slug, registry, "acme/web:1.0", web)


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
    expect(instances).to_contain_text("DB_PASSWORD to set")

    # AND types the secret on the instance's screen (sealed in the browser for the node's agent)
    instances.get_by_role("link", name="Configure").click()
    expect(page.get_by_role("heading", name=f"web in {prefix}")).to_be_visible()
    expect(page.get_by_label("Secret name")).to_have_value("DB_PASSWORD")
    page.get_by_label("Secret value").fill(secret)
    page.get_by_role("button", name="Seal and save").click()
    expect(page.get_by_text("DB_PASSWORD sealed for this-host's agent and saved.")).to_be_visible()
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
    expect(log).to_contain_text("Container web: running")
    assert secret not in page.content()
    console.shot(page, "deployment-successful", docs="deployment-details")


def container_on_the_nodes_screen(console: Console, page, prefix: str, image_host: str, secret: str) -> None:
    # WHEN she opens the node's containers THEN the container shows, with its log (the secret masked by the agent)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Nodes").click()
    page.get_by_role("table", name="Nodes").get_by_role("link", name="this-host").click()
    page.get_by_role("link", name="Containers", exact=True).click()
    page.get_by_label("Prefix", exact=True).fill(prefix)
    page.get_by_role("button", name="Show").click()
    row = page.get_by_role("table", name="Containers").get_by_role("row").filter(has_text="web")
    expect(row).to_contain_text("running")
    expect(row).to_contain_text(f"{image_host}/acme/web")
    console.shot(page, "node-containers")
    row.get_by_role("link", name="web").click()
    expect(page.get_by_role("log", name="Container log")).to_contain_text("hello from web, DB_PASSWORD=******")
    environment = page.get_by_role("table", name="Environment")
    expect(environment.get_by_role("row").filter(has_text="DB_PASSWORD")).to_contain_text("secret, not shown")
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
    console: Console, page, local_registry, docker_client, agent_data, prefix
):
    # GIVEN Ada, signed up in the console with a team, whose project holds an image of the test registry
    slug, secret = unique_slug("ship"), f"pw-{uuid.uuid4().hex}"
    sockets: list = []
    page.on("websocket", lambda socket: sockets.append(socket))
    console.sign_up(page, unique_email("ada"), "Ada")
    console.create_team(page, "Shipping", slug)
    registry_and_project(console, page, slug, local_registry)

    add_node_and_install_its_agent(console, page, agent_data)
    create_deployment_with_a_secret(console, page, slug, prefix, secret)
    deploy_and_follow_it(console, page, secret)

    # AND the container runs on the engine with the secret's value in its environment
    container = docker_client.containers.get(f"{prefix}-web")
    assert container.status == "running", agent_log(agent_data)
    env = dict(item.split("=", 1) for item in container.attrs["Config"]["Env"])
    assert env["DB_PASSWORD"] == secret and env["MODE"] == "demo"

    container_on_the_nodes_screen(console, page, prefix, local_registry.host, secret)

    # WHEN she restarts it from the console THEN it restarts on the engine
    started = container.attrs["State"]["StartedAt"]
    page.get_by_role("button", name="Restart").click()
    expect(page.get_by_text(f"{prefix}-web: restart sent to the agent.")).to_be_visible()

    def restarted() -> bool:
        container.reload()
        return container.attrs["State"]["StartedAt"] != started and container.status == "running"

    wait_for(restarted, 30, "the container was not restarted; agent log:\n" + agent_log(agent_data))
    update_and_revoke_the_agent(page, agent_data)

    # AND the live updates came over the WebSocket API, the token never in its URL (query strings get logged)
    socket_url = console.call(page, "GET", "/api/socket").json()["url"]
    assert sockets and {socket.url for socket in sockets} == {socket_url}
    assert console.token_of(page) not in socket_url and "?" not in socket_url
