"""Adapters for reports."""
