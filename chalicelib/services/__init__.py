"""Use-cases of the platform: domain rules over repositories; no Chalice, no boto3."""
