"""Tests of infra/: the resource template, packaging, the stack helper and the event pump."""
