"""What the headers say before anyone reads the text: automatic mail to screen out, and case tags.

Screening keeps the desk from answering machines: an out-of-office that opens a case gets an
acknowledgement, which triggers another out-of-office, and so on. The signals are the ones RFC 3834
(Auto-Submitted), RFC 2369/2919 (List-*), RFC 3464 (delivery status) and the big mail programs use.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping
from email.message import EmailMessage

from aftersales.domain.messages import AutoKind

# Precedence is not standardised; these are the values mail programs actually send.
_LIST_PRECEDENCE = frozenset({"list", "bulk"})
_AUTO_PRECEDENCE = frozenset({"auto_reply", "junk"})
# List-Id marks list mail; List-Unsubscribe alone does not: marketplaces (Etsy, eBay, Amazon)
# relay real customer messages with it.
_LIST_HEADERS = ("list-id",)
# Present at all means automatic: Exchange sets X-Auto-Response-Suppress on its own automatic mail.
_AUTO_HEADERS = ("x-auto-response-suppress", "x-autoreply", "x-autorespond")
_SCREEN_HEADERS = frozenset({"auto-submitted", "precedence", *_LIST_HEADERS, *_AUTO_HEADERS})
_BOUNCE_SENDERS = frozenset({"mailer-daemon", "postmaster"})
_FIRST_WORD = re.compile(r"[a-z0-9_-]+")
# "[case 42]", "[Case #42]", "[case: 42]", "[#42]"; the first tag wins.
_CASE_TAG = re.compile(r"\[\s*(?:case\s*[:#]?\s*|#)(\d{1,12})\s*\]", re.IGNORECASE)


def auto_kind_of(msg: EmailMessage, *, sender: str, own_addresses: Collection[str]) -> AutoKind | None:
    """The screening bucket of ``msg``, or None for mail a person wrote to the desk.

    ``sender`` is the From address, lower-cased (it may lack a domain, as a bare ``MAILER-DAEMON`` does).
    The order matters: our own address first (loop protection beats everything), then bounces (which
    often carry Auto-Submitted too), then lists, then any other automatic mail.
    """
    headers = _screen_headers(msg)
    if sender and sender in {address.strip().lower() for address in own_addresses}:
        return AutoKind.OWN_MAIL
    if _is_delivery_report(msg, sender):
        return AutoKind.DELIVERY_REPORT
    if _is_list_mail(headers):
        return AutoKind.MAILING_LIST
    if _is_auto_reply(msg, headers):
        return AutoKind.AUTO_REPLY
    return None


def case_hint_of(subject: str) -> str:
    """The case number a subject tag names ("Re: parcel [case 42]" → "42"), or ""."""
    match = _CASE_TAG.search(subject)
    return match.group(1) if match else ""


def leaf_parts(part: EmailMessage) -> Iterator[EmailMessage]:
    """The parts a reader sees, depth first: multipart containers are opened, attached messages are not.

    Attached messages (message/rfc822) stay whole on purpose: a customer who forwards a bounce or a
    newsletter has written to us, and the forwarded mail's parts are not ours to screen or list.
    """
    if part.get_content_maintype() != "multipart":
        yield part
        return
    for child in part.iter_parts():
        if isinstance(child, EmailMessage):
            yield from leaf_parts(child)


def _screen_headers(msg: EmailMessage) -> Mapping[str, str]:
    """First value of each screening header, lower-cased; raw values, so no header parser can fail."""
    found: dict[str, str] = {}
    for name, value in msg.raw_items():
        key = name.lower()
        if key in _SCREEN_HEADERS and key not in found:
            found[key] = str(value).strip().lower()
    return found


def _is_delivery_report(msg: EmailMessage, sender: str) -> bool:
    if sender.split("@", 1)[0] in _BOUNCE_SENDERS:
        return True
    if _report_type(msg) == "delivery-status":
        return True
    # Some servers wrap the machine-readable status in multipart/mixed instead of multipart/report.
    return any(part.get_content_type() == "message/delivery-status" for part in leaf_parts(msg))


def _is_list_mail(headers: Mapping[str, str]) -> bool:
    if any(headers.get(name) for name in _LIST_HEADERS):
        return True
    return _first_word(headers.get("precedence", "")) in _LIST_PRECEDENCE


def _is_auto_reply(msg: EmailMessage, headers: Mapping[str, str]) -> bool:
    auto_submitted = _first_word(headers.get("auto-submitted", ""))
    if auto_submitted and auto_submitted != "no":
        return True
    if any(name in headers for name in _AUTO_HEADERS):
        return True
    if _first_word(headers.get("precedence", "")) in _AUTO_PRECEDENCE:
        return True
    # Read receipts (RFC 8098) are machine-made too, and no one wants a case for each.
    return _report_type(msg) == "disposition-notification"


def _report_type(msg: EmailMessage) -> str:
    if msg.get_content_type() != "multipart/report":
        return ""
    value = msg.get_param("report-type", "")
    return value.strip().lower() if isinstance(value, str) else ""


def _first_word(value: str) -> str:
    match = _FIRST_WORD.match(value.strip())
    return match.group(0) if match else ""
