"""Adapters for business_calendar."""
