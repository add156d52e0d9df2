"""Admit a contact form post under the form's rate limit (domain/contact_form.py)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime

from aftersales.domain.contact_form import ContactLimits, post_keys, refusal
from aftersales.ports import ContactPostLog


def admit_post(
    posts: Callable[[], AbstractContextManager[ContactPostLog]],
    email: str,
    client: str,
    *,
    now: datetime,
    limits: ContactLimits,
) -> str | None:
    """Count the post and return None, or return why it is refused (and count nothing).

    Counting and checking are one transaction, with the counters locked, so posts arriving
    at once through several server processes never pass the limit together."""
    keys = post_keys(email, client)
    with posts() as log:
        log.lock(keys.values())
        log.prune(now - limits.window)
        reason = refusal(log.counts_since(keys, now - limits.window), limits)
        if reason is None:
            log.record(keys.values(), now)
        return reason
