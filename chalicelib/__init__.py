"""Control plane of the container deployment platform (a dyrector.io-compatible API on Lambda)."""
