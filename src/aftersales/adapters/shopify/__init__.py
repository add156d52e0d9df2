"""Adapters for shopify."""
