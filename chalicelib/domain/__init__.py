"""Pure rules of the domain: no I/O, so every rule is unit-tested on plain values."""
