"""Names both sides of the agent boundary derive the same way: one definition each.

The platform checks prefixes and computes container names for its views; the agent names
what it creates on the node from the same rules, so the two can never disagree.
"""

import re

# RFC 1123 label (Kubernetes namespaces and object names, our deployment prefixes).
DNS_LABEL_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
DNS_LABEL = re.compile(DNS_LABEL_PATTERN)

# Label on each deployed container listing the secret keys it was given (values never).
SECRET_KEYS_LABEL = "org.dyrectorio.secret.keys"


def container_name(prefix: str | None, name: str) -> str:
    """`<prefix>-<name>`, as dyrector's agents name containers; a bare name without a prefix."""
    return f"{prefix}-{name}" if prefix else name
