"""The container configs of the API (dyrector §1.3): the contract's model (`contracts/containers.py`).

Image configs declare secret keys; instance and deployment configs hold concrete secrets
(ciphertext for the node's public key, never plain text once `encrypted` is true). The same
model travels to the agent, so a field the API accepts is one the merge and the runtimes know.
"""

from chalicelib.contracts.containers import (
    Argument,
    ConcreteSecret,
    ContainerConfig,
    ImageConfig,
    UniqueKey,
    UniqueKeyValue,
    UniqueSecretKey,
)

__all__ = [
    "Argument",
    "ConcreteSecret",
    "ImageConfig",
    "InstanceConfig",
    "UniqueKey",
    "UniqueKeyValue",
    "UniqueSecretKey",
]


class InstanceConfig(ContainerConfig):
    """An instance's or deployment's config, as the API names it."""
