"""Adapters for policy."""
