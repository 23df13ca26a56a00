"""Render and edit times of the built-in models (gateway/local)."""

from gateway.local.bench import main

__all__ = ["main"]
