"""Container runtimes the agent drives: Docker (`docker` SDK) and Kubernetes (`kubernetes` client)."""
