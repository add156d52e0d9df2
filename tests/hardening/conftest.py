"""Fixtures the hardening tests share with the tests of the parts they harden."""

from __future__ import annotations

from web.test_webhooks import hook_app, hooks  # noqa: F401  (the signed-webhook app and client)
