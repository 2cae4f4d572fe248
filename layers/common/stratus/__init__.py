"""Stratus: the shared Lambda layer for every service."""

__version__ = "0.1.0"
