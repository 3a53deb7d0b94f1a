"""The template catalog: one JSON file and one SVG icon per template (package data)."""
