"""Credentials: password hashing, the envelope-encrypted signing key, and JWTs."""
