"""Infrastructure: the resource definition (`resources.json`), packaging for AWS and the local stack."""
