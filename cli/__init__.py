"""Client-side helpers for operators and CI (`python -m cli ...`); never imported by the API."""
