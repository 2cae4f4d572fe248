"""Adapters of the chat and embedding ports; the factories import them on first use."""
