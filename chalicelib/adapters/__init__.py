"""Thin wrappers around AWS services; the only place boto3 clients are built."""
