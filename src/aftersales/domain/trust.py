"""Who may change what: whether a message's sender is the buyer of the order it names.

Anyone can type an order number, a known customer's e-mail address into the contact form, or
an In-Reply-To header. What such a message may do: open its own case (linked to the case it
names), never change another customer's case, never hold another customer's automation, and
never be told the order's facts in a reply. The agent still sees those facts on the card.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class SenderMark(StrEnum):
    """What the desk knows about a case's sender; stored on the case ("" when nothing to say)."""

    NONE = ""  # the order's buyer wrote, or no stored order was named
    NOT_BUYER = "not_buyer"  # the order's buyer has another e-mail address
    # the order has no buyer address on record: nothing shows the sender bought it, so the
    # desk treats it as NOT_BUYER (facts are not drafted, evidence is not ticked from it)
    BUYER_UNKNOWN = "buyer_unknown"
    UNVERIFIED = "unverified"  # the contact form: its address was typed, never proven

    @property
    def trusts_order(self) -> bool:
        """Whether a reply to this sender may state the order's facts."""
        return self not in (SenderMark.NOT_BUYER, SenderMark.BUYER_UNKNOWN)


SENDER_MARK_LABELS: Mapping[SenderMark, str] = {
    SenderMark.NONE: "",
    SenderMark.NOT_BUYER: "sender is not the buyer",
    SenderMark.BUYER_UNKNOWN: "sender is not the buyer (the order has no buyer e-mail to compare)",
    SenderMark.UNVERIFIED: "unverified sender (contact form: the e-mail address was typed, not proven)",
}


def sender_mark(sender: str, buyer_email: str | None, *, typed: bool, order_named: bool) -> SenderMark:
    """The mark of a message from ``sender`` naming a stored order (``order_named``) whose
    buyer's address is ``buyer_email`` (None: the order has no buyer on record); ``typed``:
    the address was typed into the public contact form.

    Addresses compare case-insensitively. A message without a sender address is not marked:
    no reply can reach it (a Shopify dispute on an order without a buyer, say).
    """
    address = sender.strip().casefold()
    if order_named and address:
        if buyer_email is None or not buyer_email.strip():
            return SenderMark.BUYER_UNKNOWN
        if buyer_email.strip().casefold() != address:
            return SenderMark.NOT_BUYER
    if typed:
        return SenderMark.UNVERIFIED
    return SenderMark.NONE


def strongest(*marks: str) -> SenderMark:
    """The mark that says most: a case keeps the strongest mark any of its messages earned."""
    order = (SenderMark.NOT_BUYER, SenderMark.BUYER_UNKNOWN, SenderMark.UNVERIFIED)
    given = {SenderMark(m) for m in marks}
    return next((m for m in order if m in given), SenderMark.NONE)
