"""The deploy command carries the typed container config, in the wire shape agents already read."""

from __future__ import annotations

from chalicelib.contracts import agent as contract
from chalicelib.contracts.containers import ContainerConfig
from chalicelib.domain.nodes import supported

STORED = {
    "name": "web",
    "environment": [{"id": "e", "key": "MODE", "value": "prod"}],
    "portRanges": [{"id": "r", "internal": {"from": 7000, "to": 7001}, "external": {"from": 17000, "to": 17001}}],
    "volumes": [{"id": "v", "name": "data", "path": "/data", "class": "fast"}],
    "extraLBAnnotations": [{"id": "a", "key": "lb/type", "value": "nlb"}],
    "healthCheckConfig": {"readinessProbe": "/ready"},
    "restartPolicy": "always",
}


def deploy(config: ContainerConfig) -> contract.Deploy:
    workload = contract.Workload(instance_id="i1", name="web", image="img:1", config=config)
    return contract.Deploy(id="c1", deployment_id="d1", attempt=1, prefix="shop", workloads=[workload])


def test_the_config_travels_in_its_api_shape_without_the_fields_left_unset():
    # GIVEN a config as stored (API shape), read as the contract's model
    config = ContainerConfig.model_validate(STORED)
    # THEN the command's config is that shape again: camelCase, `from`/`class`, no nulls (what 0.2 agents read)
    assert deploy(config).dump()["workloads"][0]["config"] == STORED


def test_a_command_round_trips_through_json_as_the_agent_reads_it():
    command = deploy(ContainerConfig.model_validate(STORED))
    assert contract.read_command(command.dump()) == command
    assert contract.read_commands([command.dump()]) == [command]


def test_an_agent_ignores_config_fields_a_newer_platform_adds():
    body = deploy(ContainerConfig.model_validate(STORED)).dump()
    body["workloads"][0]["config"] |= {"sidecars": [{"image": "x"}], "routing": {"domain": "a.example", "newer": 1}}
    [read] = contract.read_command(body).workloads
    assert read.config.routing.domain == "a.example" and read.config.name == "web"


def test_agents_of_the_previous_minor_version_still_get_commands():
    # The wire shape is unchanged, so 0.2 and 0.3 agents stay supported (0.2 applies no Docker health checks
    # or limits; neither is sent the container log and inspect commands of 0.4).
    assert contract.AGENT_VERSION == "0.4.0"
    assert supported("0.2.0", contract.AGENT_VERSION) and supported("0.3.0", contract.AGENT_VERSION)
    assert supported(contract.AGENT_VERSION, contract.AGENT_VERSION)
