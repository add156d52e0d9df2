"""Adapters for reader."""
