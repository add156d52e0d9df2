"""Adapters for files."""
