"""`POST /webhooks/shopify`: Shopify's order, fulfilment, refund and dispute webhooks.

The signature is checked on the raw body, in constant time, before anything is parsed; a
forged, unsigned or altered delivery gets 401 and changes nothing. Each delivery is applied
once: its X-Shopify-Webhook-Id is stored with its effects, and a repeat is answered 200 with
nothing done. A topic the desk does not act on is acknowledged (200) so Shopify stops
retrying it. A payload older than what is stored is recorded and answered 200, changing
nothing. A payload the desk cannot read (not JSON, nested too deep, a value out of range) is
422, one that contradicts the stored orders 409: never a 500, which Shopify would retry.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from starlette.concurrency import run_in_threadpool

from aftersales.adapters.shopify.webhooks import WebhookPayloadError, read_payload, signature_is_valid
from aftersales.domain.shop_events import ConflictingOrder
from aftersales.services.shopify_events import Delivery, DeliveryResult, handle_delivery
from aftersales.web.context import WebDesk
from aftersales.web.errors import ApiError
from aftersales.web.security import Web

router = APIRouter(prefix="/webhooks", tags=["webhooks"])


# Not in the OpenAPI schema: Shopify is its only client, and docs/integrations.md its manual.
@router.post("/shopify", include_in_schema=False)
async def shopify_webhook(
    request: Request,
    web: Web,
    x_shopify_hmac_sha256: Annotated[str | None, Header()] = None,
    x_shopify_topic: Annotated[str | None, Header()] = None,
    x_shopify_webhook_id: Annotated[str | None, Header()] = None,
    x_shopify_shop_domain: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    """Take in one Shopify webhook delivery, signed with AFTERSALES_SHOPIFY_WEBHOOK_SECRET."""
    secret = web.settings.shopify.webhook_secret
    if not secret:
        raise ApiError(
            503, "not_configured", "Shopify webhooks are off: set AFTERSALES_SHOPIFY_WEBHOOK_SECRET"
        )
    # over body_limit.WEBHOOK_BYTES, the body was refused (413) before it was read whole
    body = await request.body()
    if not signature_is_valid(secret, body, x_shopify_hmac_sha256):
        raise ApiError(
            401, "bad_signature", "the X-Shopify-Hmac-Sha256 signature is missing or does not match"
        )
    if not x_shopify_topic or not x_shopify_webhook_id:
        raise ApiError(400, "missing_header", "X-Shopify-Topic and X-Shopify-Webhook-Id are required")
    delivery = Delivery(
        webhook_id=x_shopify_webhook_id.strip()[:100],
        topic=x_shopify_topic.strip().lower()[:100],
        shop=(x_shopify_shop_domain or "").strip()[:255],
        event=_event(x_shopify_topic.strip().lower(), body),
    )
    try:
        result = await run_in_threadpool(_handle, web, delivery)
    except ConflictingOrder as error:
        raise ApiError(409, "conflict", f"the {delivery.topic} payload cannot be stored: {error}") from None
    return {"webhook_id": delivery.webhook_id, "duplicate": result.duplicate, "outcome": result.outcome}


def _handle(web: WebDesk, delivery: Delivery) -> DeliveryResult:
    return handle_delivery(web.desk.uow, web.kit, delivery, now=web.now())


def _event(topic: str, body: bytes) -> Any:
    try:
        payload = json.loads(body)
    except RecursionError:  # the parser recurses once per level: 1,000 levels exhaust it
        raise ApiError(422, "bad_payload", f"the {topic} body is nested too deeply") from None
    except ValueError as error:  # not JSON, not UTF-8, or an integer of over 4,300 digits
        raise ApiError(422, "bad_payload", f"the {topic} body is not JSON: {error}") from None
    try:
        return read_payload(topic, payload)
    except WebhookPayloadError as error:
        raise ApiError(422, "bad_payload", f"the {topic} payload cannot be used: {error}") from None
