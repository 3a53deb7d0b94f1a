"""Pydantic request/response models with the API's camelCase field names."""
