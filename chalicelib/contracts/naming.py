"""Names both sides of the agent boundary derive the same way: one definition each.

The platform checks prefixes and computes container names for its views; the agent names
what it creates on the node from the same rules, so the two can never disagree. `check_name`
is the rule for names people read (the API's models and the container config both apply it).
"""

import re
import unicodedata
from typing import Any

from pydantic_core import PydanticCustomError

# RFC 1123 label (Kubernetes namespaces and object names, our deployment prefixes).
DNS_LABEL_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
DNS_LABEL = re.compile(DNS_LABEL_PATTERN)

# Label on each deployed container listing the secret keys it was given (values never).
SECRET_KEYS_LABEL = "org.dyrectorio.secret.keys"


def container_name(prefix: str | None, name: str) -> str:
    """`<prefix>-<name>`, as dyrector's agents name containers; a bare name without a prefix."""
    return f"{prefix}-{name}" if prefix else name


# Bidirectional embeddings, overrides and isolates: they make a name read differently than it is.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Letters that render as nothing (Hangul fillers, braille blank): a name of only these looks empty.
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def _invisible(char: str) -> bool:
    return char.isspace() or char in _BLANK_LETTERS or unicodedata.category(char) == "Cf"


def check_name(value: Any) -> Any:
    """A name is text people read and scripts print: no control characters (NUL, ESC, tabs), no line
    breaks (incl. NEL, U+2028/2029), no bidi overrides or isolates, and at least one visible character."""
    if not isinstance(value, str):
        return value  # the str schema answers
    for char in value:
        if unicodedata.category(char) in ("Cc", "Zl", "Zp") or char in BIDI_CONTROLS:
            raise PydanticCustomError(
                "name_characters",
                "must not contain control characters, line breaks or bidirectional overrides (found U+{code})",
                {"code": f"{ord(char):04X}"},
            )
    if value and all(_invisible(char) for char in value):
        raise PydanticCustomError("name_blank", "must contain a visible character")
    return value
