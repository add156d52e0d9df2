"""Shopify's dispute evidence fields and what each dispute reason needs: the packet's parts,
the fields each fills, and what to do when one is missing (after field-and-formats §5.3).

Shopify publishes no per-reason help text, so the reason table is derived from the field
list of ``ShopifyPaymentsDisputeEvidence`` and chargeback guides (see docs/disputes.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class Part(StrEnum):
    """A part of the packet; stable in the JSON (``checklist[].part``)."""

    ORDER = "order"
    PAYMENT = "payment"
    REFUNDS = "refunds"
    CUSTOMER = "customer"
    FULFILMENT = "fulfilment"
    TRACKING = "tracking"
    DELIVERY_PROOF = "delivery_proof"
    SHIPPING_ADDRESS = "shipping_address"
    BILLING_ADDRESS = "billing_address"
    PURCHASE_IP = "purchase_ip"
    PAYMENT_CHECKS = "payment_checks"
    PRIOR_ORDERS = "prior_orders"
    CONVERSATION = "conversation"
    PHOTOS = "photos"
    PRODUCT_DESCRIPTION = "product_description"
    DECISION = "decision"
    REFUND_REFUSAL = "refund_refusal"
    POLICY = "policy"
    CANCELLATION_POLICY = "cancellation_policy"
    CANCELLATION_REBUTTAL = "cancellation_rebuttal"
    DISTINCT_CHARGES = "distinct_charges"
    TIMELINE = "timeline"


# Which Shopify dispute evidence fields (ShopifyPaymentsDisputeEvidence) each part fills.
EVIDENCE_FIELDS: Mapping[Part, tuple[str, ...]] = {
    Part.ORDER: ("uncategorizedText",),
    Part.PAYMENT: ("uncategorizedText",),
    Part.REFUNDS: ("uncategorizedText",),
    Part.CUSTOMER: ("customerEmailAddress", "customerFirstName", "customerLastName"),
    Part.FULFILMENT: ("fulfillments",),
    Part.TRACKING: ("shippingDocumentationFile",),
    Part.DELIVERY_PROOF: ("shippingDocumentationFile",),
    Part.SHIPPING_ADDRESS: ("shippingAddress",),
    Part.BILLING_ADDRESS: ("billingAddress",),
    Part.PURCHASE_IP: ("customerPurchaseIp",),
    Part.PAYMENT_CHECKS: ("uncategorizedText",),
    Part.PRIOR_ORDERS: ("uncategorizedText",),
    Part.CONVERSATION: ("customerCommunicationFile",),
    Part.PHOTOS: ("uncategorizedFile",),
    Part.PRODUCT_DESCRIPTION: ("productDescription",),
    Part.DECISION: ("uncategorizedText",),
    Part.REFUND_REFUSAL: ("refundRefusalExplanation",),
    Part.POLICY: ("refundPolicyDisclosure", "refundPolicyFile"),
    Part.CANCELLATION_POLICY: ("cancellationPolicyDisclosure", "cancellationPolicyFile"),
    Part.CANCELLATION_REBUTTAL: ("cancellationRebuttal",),
    Part.DISTINCT_CHARGES: ("uncategorizedText", "uncategorizedFile"),
    Part.TIMELINE: ("uncategorizedText",),
}

LABELS: Mapping[Part, str] = {
    Part.ORDER: "Order",
    Part.PAYMENT: "Payment",
    Part.REFUNDS: "Refunds",
    Part.CUSTOMER: "Customer name and e-mail",
    Part.FULFILMENT: "Fulfilment: carrier and tracking number",
    Part.TRACKING: "Every tracking event",
    Part.DELIVERY_PROOF: "Delivery proof",
    Part.SHIPPING_ADDRESS: "Shipping address",
    Part.BILLING_ADDRESS: "Billing address",
    Part.PURCHASE_IP: "Customer purchase IP",
    Part.PAYMENT_CHECKS: "AVS / CVV results",
    Part.PRIOR_ORDERS: "Prior undisputed orders",
    Part.CONVERSATION: "Support conversation",
    Part.PHOTOS: "Photos",
    Part.PRODUCT_DESCRIPTION: "Product description at purchase",
    Part.DECISION: "Refund or reship decision",
    Part.REFUND_REFUSAL: "Why a refund was refused",
    Part.POLICY: "Policy page version in force",
    Part.CANCELLATION_POLICY: "Cancellation policy",
    Part.CANCELLATION_REBUTTAL: "Cancellation rebuttal",
    Part.DISTINCT_CHARGES: "Explanation of distinct charges",
    Part.TIMELINE: "Timeline",
}

# What to do when a part is missing ({order} is the order's number).
TO_DO: Mapping[Part, str] = {
    Part.ORDER: "Import the order (`aftersales import orders` or `aftersales shopify sync`).",
    Part.PAYMENT: "Sync the order from Shopify so its payment status is known, and attach the "
    "transaction (Shopify Admin → Orders → {order} → Payment).",
    Part.REFUNDS: "Import the order so its refunds are known.",
    Part.CUSTOMER: "Link the order to its buyer (import it with the customer's e-mail).",
    Part.FULFILMENT: "Record the fulfilment: carrier and tracking number (Shopify Admin → Orders → "
    "{order} → Fulfillment).",
    Part.TRACKING: "Sync the fulfilment events (`aftersales shopify sync`) or attach the carrier's "
    "tracking history.",
    Part.DELIVERY_PROOF: "Ask the carrier for proof of delivery (delivery scan, GPS, photo or signature) "
    "or the result of a trace; with no proof, refund or reship before the evidence is due.",
    Part.SHIPPING_ADDRESS: "Sync the order (`aftersales shopify sync`) or import it with its Shipping "
    "columns; else copy it from order {order} in Shopify. Check it is where the carrier delivered.",
    Part.BILLING_ADDRESS: "Sync the order (`aftersales shopify sync`) or import it with its Billing "
    "columns; else copy it from order {order} in Shopify and check it matches the shipping address.",
    Part.PURCHASE_IP: "Copy the browser IP from the order's fraud analysis (Shopify Admin → {order}).",
    Part.PAYMENT_CHECKS: "Copy the AVS and CVV results from the order's payment details.",
    Part.PRIOR_ORDERS: "List the buyer's earlier orders that were paid and not disputed.",
    Part.CONVERSATION: "Add the messages with the buyer to the case (forward them to the desk).",
    Part.PHOTOS: "Ask the buyer for photos, or attach the carrier's delivery photo.",
    Part.PRODUCT_DESCRIPTION: "Attach the product page text as it read when the order was placed.",
    Part.DECISION: "Record the refund, reship or defence decision on the case "
    "(`aftersales decide CASE --text ... --by ...`): who decided and when.",
    Part.REFUND_REFUSAL: "Write why the refund was refused (the policy clause, the return not received).",
    Part.POLICY: "Add the store's policy texts with the date they took effect "
    "(`aftersales policy texts add ... --effective DATE`).",
    Part.CANCELLATION_POLICY: "Add the cancellation terms to the policy texts and show where the "
    "buyer saw them at checkout.",
    Part.CANCELLATION_REBUTTAL: "Explain why the subscription was still active (no cancellation "
    "request in the conversation, usage after the date).",
    Part.DISTINCT_CHARGES: "Show the charges are for different orders: numbers, items and times.",
    Part.TIMELINE: "Nothing is known about the order yet: import it and its cases.",
}

# The seed: "Keep the order, payment, tracking, delivery proof, support conversation, photos,
# refund or reship decision, policy-page version, and timeline."
SEED_PARTS: tuple[Part, ...] = (
    Part.ORDER,
    Part.PAYMENT,
    Part.TRACKING,
    Part.DELIVERY_PROOF,
    Part.CONVERSATION,
    Part.PHOTOS,
    Part.DECISION,
    Part.POLICY,
    Part.TIMELINE,
)
# The chargeback route's evidence (routes.toml): order timeline, tracking and delivery
# proof, policy version, conversation, refund or reship record.
ROUTE_PARTS: tuple[Part, ...] = (
    Part.ORDER,
    Part.TIMELINE,
    Part.TRACKING,
    Part.DELIVERY_PROOF,
    Part.POLICY,
    Part.CONVERSATION,
    Part.DECISION,
)
_PAYMENT_SIDE = (Part.PAYMENT, Part.CONVERSATION)
_FRAUD = (
    Part.CUSTOMER,
    Part.PURCHASE_IP,
    Part.PAYMENT_CHECKS,
    Part.BILLING_ADDRESS,
    Part.SHIPPING_ADDRESS,
    Part.PRIOR_ORDERS,
    Part.DELIVERY_PROOF,
    Part.CONVERSATION,
)
_GENERAL = (Part.CONVERSATION, Part.CUSTOMER)
# What each dispute reason (Shopify's, lower case) needs, after field-and-formats §5.3.
REASON_PARTS: Mapping[str, tuple[Part, ...]] = {
    "product_not_received": (
        Part.CUSTOMER,
        Part.FULFILMENT,
        Part.TRACKING,
        Part.DELIVERY_PROOF,
        Part.SHIPPING_ADDRESS,
        Part.CONVERSATION,
    ),
    "fraudulent": _FRAUD,
    "unrecognized": _FRAUD,
    "product_unacceptable": (
        Part.PRODUCT_DESCRIPTION,
        Part.PHOTOS,
        Part.POLICY,
        Part.REFUND_REFUSAL,
        Part.CONVERSATION,
    ),
    "credit_not_processed": (Part.POLICY, Part.REFUNDS, Part.REFUND_REFUSAL, Part.CONVERSATION),
    "subscription_cancelled": (
        Part.CANCELLATION_POLICY,
        Part.CANCELLATION_REBUTTAL,
        Part.CONVERSATION,
    ),
    "duplicate": (Part.DISTINCT_CHARGES, Part.PAYMENT, Part.PRIOR_ORDERS),
    "general": _GENERAL,
    "customer_initiated": _GENERAL,
    "bank_cannot_process": _PAYMENT_SIDE,
    "debit_not_authorized": _PAYMENT_SIDE,
    "incorrect_account_details": _PAYMENT_SIDE,
    "insufficient_funds": _PAYMENT_SIDE,
    "noncompliant": _PAYMENT_SIDE,
}


def parts_for(reason: str | None) -> tuple[Part, ...]:
    """What a dispute of this reason needs; None (no dispute) gives the chargeback route's
    list, and a reason Shopify adds later is treated as general."""
    if reason is None:
        return ROUTE_PARTS
    return REASON_PARTS.get(reason.lower(), _GENERAL)
