"""Adapters for mail."""
