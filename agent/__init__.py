"""The node agent: runs on an operator's Docker host or Kubernetes cluster and connects out to
the platform (`python -m agent`). The only code that imports the `docker` or `kubernetes` SDKs."""
