"""The tables (SQLAlchemy Core). Migrations in ``migrations/`` create them; tests and the
app never call ``metadata.create_all``."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

from aftersales.adapters.db.types import Money, UtcDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

customers = Table(
    "customers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("name", String(200), nullable=False, default=""),
    Column("created_at", UtcDateTime, nullable=False),
)

orders = Table(
    "orders",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("number", String(64), nullable=False, unique=True),
    Column("customer_id", ForeignKey("customers.id"), nullable=True, index=True),
    Column("placed_at", UtcDateTime),
    Column("fulfilled_at", UtcDateTime),
    Column("delivered_at", UtcDateTime),
    Column("cancelled_at", UtcDateTime),
    Column("last_scan_at", UtcDateTime),
    Column("last_scan_status", String(32)),
    Column("last_scan_location", String(200), nullable=False, default=""),
    Column("carrier", String(100), nullable=False, default=""),
    Column("tracking_numbers", JSON, nullable=False, default=list),
    Column("promise_window_end", UtcDateTime),
    Column("destination", String(8), nullable=False, default=""),
    Column("currency", String(3), nullable=False, default=""),
    Column("total", Money),
    Column("policy_version", String(64), nullable=False, default=""),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("shopify_id", String(64), nullable=True, unique=True),  # the Admin API's numeric id
    Column("financial_status", String(32), nullable=False, server_default="", default=""),
    # Address fields by name; SQL NULL (not JSON null) when the source gave no address
    Column("shipping_address", JSON(none_as_null=True), nullable=True),
    Column("billing_address", JSON(none_as_null=True), nullable=True),
    # the shop's own updated_at of the payload the row was last written from: an older
    # payload changes nothing (migration 0008)
    Column("shopify_updated_at", UtcDateTime, nullable=True),
)

order_lines = Table(
    "order_lines",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("order_id", ForeignKey("orders.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("sku", String(100), nullable=False, index=True),
    Column("title", String(300), nullable=False, default=""),
    Column("variant", String(200), nullable=False, default=""),
    Column("quantity", Integer, nullable=False, default=1),
    Column("price", Money, nullable=False),
    Column("gtin", String(14), nullable=False, default=""),
)

refunds = Table(
    "refunds",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("order_id", ForeignKey("orders.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("amount", Money, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("reason", String(200), nullable=False, default=""),
    # Shopify's refund id: a refund is stored once and never removed by an order payload;
    # None for a refund without one (an export's refunded total), replaced by the next import
    Column("shopify_id", String(64), nullable=True),
    UniqueConstraint("order_id", "shopify_id"),
)

cases = Table(
    "cases",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("customer_id", ForeignKey("customers.id"), nullable=True),
    Column("order_number", String(64), nullable=False, default=""),
    Column("subject", String(500), nullable=False, default=""),
    Column("route", String(32), nullable=False),
    Column("secondary_routes", JSON, nullable=False, default=list),
    Column("confidence", Float, nullable=False, default=0.0),
    Column("status", String(32), nullable=False),
    Column("lead_role", String(32), nullable=False),
    Column("lead_name", String(200), nullable=False, default=""),
    Column("decision", JSON, nullable=False, default=dict),
    Column("write_back", JSON, nullable=False, default=list),
    Column("clocks", JSON, nullable=False, default=list),
    # denormalised from ``clocks`` so the queue sorts and filters on indexes
    Column("next_due_at", UtcDateTime),
    Column("risk", Integer, nullable=False, default=0),  # 2 breached, 1 at risk, 0 otherwise
    # the queue's order in one indexed number: riskiest first, then soonest due (see repository)
    Column("queue_order", BigInteger, nullable=False, default=0),
    Column("is_open", Boolean, nullable=False, default=True),
    Column("opened_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("resolved_at", UtcDateTime),
    # the weekly review's dimensions, set when the case is routed: the SKU and variant it is
    # about, the carrier of its order, and the decision's reason (its segment)
    Column("sku", String(100), nullable=False, server_default="", default=""),
    Column("variant", String(200), nullable=False, server_default="", default=""),
    Column("carrier", String(100), nullable=False, server_default="", default=""),
    Column("reason", String(100), nullable=False, server_default="", default=""),
    # who wrote (migration 0010): "" the order's buyer or no order named, "not_buyer" the
    # order's buyer has another e-mail address (or none is stored), "unverified" the contact
    # form (its address was typed, never proven); and the case of another customer it names
    Column("sender_mark", String(32), nullable=False, server_default="", default=""),
    Column("related_case_id", ForeignKey("cases.id", ondelete="SET NULL"), nullable=True, index=True),
    # migration 0012: why a person should check the route ("" when the router was sure or a
    # person confirmed or changed it), and the language of the opening message ("" unknown)
    Column("route_check", String(200), nullable=False, server_default="", default=""),
    Column("language", String(16), nullable=False, server_default="", default=""),
    # migration 0013: the desk user the case is assigned to (the route's lead stays its
    # escalation owner); the "most overdue" order's key (adapters/db/queue.py); the last
    # message on one line, kept at intake and reply so the queue reads no message
    Column("assignee_user_id", ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("due_order", BigInteger, nullable=False, server_default="0", default=0),
    Column("last_message_preview", String(200), nullable=False, server_default="", default=""),
    Column("last_message_direction", String(16), nullable=False, server_default="", default=""),
    Column("last_message_at", UtcDateTime, nullable=True),
    # migration 0018: the tool a case was imported from ("" a case of this desk): its
    # events are history, never relayed to webhooks or notifications
    Column("imported_from", String(32), nullable=False, server_default="", default=""),
    # migration 0023: when the SLA tick must look at the case again (a clock turning at risk
    # or breached); NULL: at the next tick. The tick reads only the open cases due a look.
    Column("next_check_at", UtcDateTime, nullable=True),
    # migration 0024: routed by its words alone where the semantic reader would have read it
    # (bulk intake leaves it out for speed); the re-read job reads it again (services/rereading.py)
    Column("meaning_due", Boolean, nullable=False, server_default=false(), default=False),
    Index("ix_cases_customer_order_open", "customer_id", "order_number", "status"),
    Index("ix_cases_opened_at", "opened_at"),
    # the queue's listings, each one walk of an index in its order (adapters/db/queue.py)
    Index("ix_cases_queue_order", "queue_order"),
    Index("ix_cases_route_queue", "route", "queue_order"),
    Index("ix_cases_status_queue", "status", "queue_order"),
    Index("ix_cases_due_order", "due_order"),
    Index("ix_cases_route_due", "route", "due_order"),
    Index("ix_cases_assignee_queue", "assignee_user_id", "queue_order"),
    Index("ix_cases_lead_queue", "lead_name", "queue_order"),
    Index("ix_cases_lead_role_queue", "lead_role", "queue_order"),
    Index("ix_cases_order_number", "order_number"),
    Index("ix_cases_open_next_check", "is_open", "next_check_at"),
    Index("ix_cases_meaning_due", "meaning_due"),
)
# Full-text search of messages and customers is not described here: it differs by database
# (SQLite FTS5 tables kept by triggers, PostgreSQL GIN indexes over tsvector expressions).
# Migration 0013 makes it; adapters/db/search.py queries it.

messages = Table(
    "messages",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", ForeignKey("cases.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("direction", String(16), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("message_id", String(998), nullable=False, index=True),
    Column("dedupe_key", String(1100), nullable=False),
    Column("in_reply_to", String(998), nullable=False, default=""),
    Column("references", JSON, nullable=False, default=list),
    Column("from_address", String(320), nullable=False, default=""),
    Column("author", String(200), nullable=False, default=""),
    Column("subject", String(998), nullable=False, default=""),
    Column("sent_at", UtcDateTime, nullable=False),
    Column("body", Text, nullable=False, default=""),
    Column("full_body", Text, nullable=False, default=""),
    Column("html", Text, nullable=False, default=""),
    Column("attachments", JSON, nullable=False, default=list),
    Column("promised_update_at", UtcDateTime),
    UniqueConstraint("dedupe_key"),
)

evidence_items = Table(
    "evidence_items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", ForeignKey("cases.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("key", String(64), nullable=False),
    Column("label", String(300), nullable=False),
    Column("present", Boolean, nullable=False, default=False),
    Column("source", String(500), nullable=False, default=""),
    Column("marked_by", String(200), nullable=False, default=""),
    Column("marked_at", UtcDateTime),
    UniqueConstraint("case_id", "key"),
)

# One row per file of a case (migration 0015), served by its own id: a file a customer's
# message carried (``message_id``) or one a person uploaded for an evidence item
# (``evidence_key``). The content is stored apart, by SHA-256 (``save_attachment``).
attachments = Table(
    "attachments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", ForeignKey("cases.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("message_id", ForeignKey("messages.id", ondelete="CASCADE"), nullable=True, index=True),
    Column("evidence_key", String(64), nullable=False, server_default="", default=""),
    Column("filename", String(255), nullable=False),
    Column("content_type", String(255), nullable=False, server_default="", default=""),  # as declared
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("added_by", String(200), nullable=False, server_default="", default=""),
    Column("added_at", UtcDateTime, nullable=False),
)

events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", ForeignKey("cases.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("kind", String(48), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("data", JSON, nullable=False, default=dict),
)

automation_holds = Table(
    "automation_holds",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("customer_id", ForeignKey("customers.id"), nullable=False, index=True),
    Column("case_id", ForeignKey("cases.id"), nullable=True, index=True),
    Column("reason", String(200), nullable=False),
    Column("since", UtcDateTime, nullable=False),
    Column("until", UtcDateTime),
)

screened = Table(
    "screened",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("dedupe_key", String(1100), nullable=False, unique=True),
    Column("kind", String(32), nullable=False),
    Column("source", String(500), nullable=False),
    Column("from_address", String(320), nullable=False, default=""),
    Column("subject", String(998), nullable=False, default=""),
    Column("received_at", UtcDateTime, nullable=False),
)

quarantine = Table(
    "quarantine",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String(500), nullable=False, unique=True),
    Column("reason", Text, nullable=False),
    Column("at", UtcDateTime, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("email", String(320), nullable=False, unique=True),  # lower case
    Column("name", String(200), nullable=False, default=""),
    Column("role", String(32), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", UtcDateTime, nullable=False),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", ForeignKey("users.id"), nullable=False, index=True),
    Column("name", String(100), nullable=False),
    # the SHA-256 hex of the token: the token itself is shown once and never stored
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_used_at", UtcDateTime),
    Column("revoked_at", UtcDateTime),
)

# --- Server-side sessions and failed sign-ins (migration 0009) ---

sessions = Table(
    "sessions",
    metadata,
    # the SHA-256 hex of the cookie's random token: a copy of this table signs nobody in
    Column("id", String(64), primary_key=True),
    Column("user_id", ForeignKey("users.id"), nullable=False, index=True),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_seen_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False, index=True),
)

sign_in_failures = Table(
    "sign_in_failures",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account", String(64), nullable=False, index=True),  # SHA-256 hex of the e-mail typed
    Column("address", String(64), nullable=False, index=True),  # the client's IP address
    Column("at", UtcDateTime, nullable=False, index=True),
)

# --- Shopify: the catalogue, webhooks, fulfilment events and disputes (migration 0005) ---

product_variants = Table(
    "product_variants",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("handle", String(255), nullable=False),
    # the variant's option values joined with " / " ("Black / M"); "" for a single-variant product
    Column("variant_key", String(500), nullable=False, default=""),
    Column("sku", String(100), nullable=False, default="", index=True),
    Column("title", String(300), nullable=False, default=""),
    Column("vendor", String(200), nullable=False, default=""),
    Column("product_type", String(200), nullable=False, default=""),
    Column("options", JSON, nullable=False, default=dict),  # option name -> value
    Column("gtin", String(64), nullable=False, default="", index=True),  # Variant Barcode as given
    Column("price", Money),
    Column("compare_at_price", Money),
    Column("inventory", Integer),  # None: not tracked
    Column("image_link", String(2000), nullable=False, default=""),
    Column("status", String(32), nullable=False, default=""),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("handle", "variant_key"),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("webhook_id", String(100), nullable=False, unique=True),  # X-Shopify-Webhook-Id
    Column("topic", String(100), nullable=False),
    Column("shop_domain", String(255), nullable=False, default=""),
    Column("received_at", UtcDateTime, nullable=False),
    Column("outcome", String(500), nullable=False, default=""),
)

fulfillment_events = Table(
    "fulfillment_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("order_id", ForeignKey("orders.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("shopify_id", String(64), nullable=False),  # the event's id, or fulfilment id + status
    Column("status", String(32), nullable=False),
    Column("happened_at", UtcDateTime, nullable=False),
    Column("message", String(1000), nullable=False, default=""),
    Column("location", String(300), nullable=False, default=""),
    Column("carrier", String(100), nullable=False, default=""),
    Column("tracking_number", String(100), nullable=False, default=""),
    UniqueConstraint("order_id", "shopify_id"),
)

disputes = Table(
    "disputes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("shopify_id", String(64), nullable=False, unique=True),
    Column("order_number", String(64), nullable=False, default="", index=True),
    Column("case_id", ForeignKey("cases.id"), nullable=True, index=True),
    Column("kind", String(32), nullable=False, default=""),  # chargeback | inquiry
    Column("reason", String(64), nullable=False, default=""),
    Column("network_reason_code", String(32), nullable=False, default=""),
    Column("status", String(32), nullable=False, default=""),
    Column("amount", Money),
    Column("currency", String(3), nullable=False, default=""),
    Column("evidence_due_by", UtcDateTime),
    Column("evidence_sent_on", UtcDateTime),
    Column("initiated_at", UtcDateTime),
    Column("finalized_on", UtcDateTime),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("shopify_updated_at", UtcDateTime, nullable=True),  # of the payload (migration 0008)
)

# --- policy texts, mail bookkeeping, reviews (migration 0005) ---

policy_versions = Table(
    "policy_versions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", Integer, nullable=False, unique=True),  # 1, 2, 3 … in the order added
    Column("sha256", String(64), nullable=False),  # of the texts, canonically joined
    Column("texts", JSON, nullable=False),  # kind ("refund", "return", "shipping") -> text
    Column("effective_at", UtcDateTime, nullable=False, index=True),
    Column("added_at", UtcDateTime, nullable=False),
    Column("added_by", String(200), nullable=False, default=""),
)

mailbox_state = Table(
    "mailbox_state",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("mailbox", String(500), nullable=False, unique=True),  # user@host/folder
    Column("uidvalidity", BigInteger, nullable=False),
    Column("last_uid", BigInteger, nullable=False, default=0),
    Column("polled_at", UtcDateTime, nullable=False),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    # NULL (migration 0020): a mail about no one case, a desk user's daily digest
    Column("case_id", ForeignKey("cases.id", ondelete="CASCADE"), nullable=True, index=True),
    Column("kind", String(32), nullable=False),  # reply | acknowledgement | notification | digest
    Column("message_id", String(998), nullable=False, unique=True),
    Column("to_address", String(320), nullable=False),
    Column("subject", String(998), nullable=False, default=""),
    Column("in_reply_to", String(998), nullable=False, default=""),
    Column("references", JSON, nullable=False, default=list),
    Column("body", Text, nullable=False, default=""),
    Column("status", String(16), nullable=False, index=True),  # pending | sending | sent | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", String(1000), nullable=False, default=""),
    Column("queued_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime),  # while "sending": when it was claimed (its lease runs from then)
    Column("claimed_by", String(200), nullable=False, default=""),  # host:pid sending it (migration 0016)
)

reviews = Table(
    "reviews",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String(32), nullable=False),  # judgeme | yotpo
    Column("external_id", String(200), nullable=False),  # the export's review id, else a content hash
    Column("rating", Integer, nullable=False),
    Column("title", String(500), nullable=False, default=""),
    Column("body", Text, nullable=False, default=""),
    Column("reviewer_email", String(320), nullable=False, default="", index=True),
    Column("reviewer_name", String(200), nullable=False, default=""),
    Column("order_number", String(64), nullable=False, default=""),
    Column("sku", String(100), nullable=False, default="", index=True),
    Column("product_handle", String(255), nullable=False, default=""),
    Column("reviewed_at", UtcDateTime),
    Column("case_id", ForeignKey("cases.id"), nullable=True, index=True),
    Column("imported_at", UtcDateTime, nullable=False),
    UniqueConstraint("source", "external_id"),
)

# --- the write-back loop: tasks from the weekly review and the feed audit, review requests
# (migration 0006) ---

writeback_tasks = Table(
    "writeback_tasks",
    metadata,
    Column("id", Integer, primary_key=True),
    # what the task is about, stable across runs ("repeat|wrong_item|sku|TUM-20-BLK",
    # "feed|gtin_check_digit|TUM-20-BLK"), so a rerun finds its task instead of adding one
    Column("key", String(500), nullable=False, unique=True),
    Column("source", String(32), nullable=False),  # weekly_review | feed_audit | case
    Column("target", String(64), nullable=False),  # faq, shipping_policy, product_page, feed_sync …
    Column("title", String(500), nullable=False),
    Column("detail", Text, nullable=False, default=""),
    Column("route", String(32), nullable=False, default=""),
    Column("owner_role", String(32), nullable=False, default=""),
    Column("owner_name", String(200), nullable=False, default=""),
    Column("evidence", JSON, nullable=False, default=dict),  # case ids, counts, feed values
    Column("status", String(16), nullable=False, index=True),  # open | closed
    Column("created_at", UtcDateTime, nullable=False),
    Column("due_at", UtcDateTime),
    Column("next_review_at", UtcDateTime),
    Column("last_seen_at", UtcDateTime),
    Column("closed_at", UtcDateTime),
    Column("closed_by", String(200), nullable=False, default=""),
    Column("close_note", Text, nullable=False, default=""),
)

review_requests = Table(
    "review_requests",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("order_number", String(64), nullable=False, unique=True),
    Column("customer_id", ForeignKey("customers.id"), nullable=True, index=True),
    Column("delivered_at", UtcDateTime, nullable=False),
    Column("due_at", UtcDateTime, nullable=False, index=True),  # delivery + the usage window
    Column("status", String(16), nullable=False, index=True),  # scheduled | deferred | sent
    Column("sent_at", UtcDateTime),
    # every deferral and the send, with why: requests are deferred, never gated
    Column("log", JSON, nullable=False, default=list),
    Column("updated_at", UtcDateTime, nullable=False),
)


# --- the contact form's rate limit (migration 0010): one row per accepted post and key, kept
# in the database so every server process counts the same posts
contact_posts = Table(
    "contact_posts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(400), nullable=False),  # "email:<address>" or "ip:<client address>"
    Column("at", UtcDateTime, nullable=False),
    Index("ix_contact_posts_key_at", "key", "at"),
)

# A person's word on a case's route (migration 0012): the text of its opening message and the
# route, from a re-route ("correction") or a "confirm route" ("confirmation"). The store's
# router model learns from these (`aftersales train --from-desk`). Kept when its case goes.
route_labels = Table(
    "route_labels",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", ForeignKey("cases.id", ondelete="SET NULL"), nullable=True, index=True),
    Column("text", Text, nullable=False),
    Column("route", String(32), nullable=False),
    Column("source", String(16), nullable=False),
    Column("labelled_by", String(200), nullable=False, default=""),
    Column("labelled_at", UtcDateTime, nullable=False),
)

# --- the language-model reader's cache (migration 0011): one reading per masked message and
# prompt, kept in the database so every process (web, intake, workers) reuses it
reader_cache = Table(
    "reader_cache",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(64), nullable=False, unique=True),  # sha256 of the prompt version, model and message
    Column("prompt_version", String(32), nullable=False),
    Column("reading", JSON, nullable=False),  # domain/reading.py::reading_to_dict
    Column("created_at", UtcDateTime, nullable=False),
)

# Who has a case open (migration 0014): a user's case page says so on load and every few
# seconds while open; a row not refreshed for a minute is someone who left. Never history.
case_presence = Table(
    "case_presence",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("seen_at", UtcDateTime, nullable=False, index=True),
    UniqueConstraint("case_id", "user_id", name="uq_case_presence_case_id_user_id"),
)

# The job log (migration 0016): one row per attempt at a background job (domain/jobs.py),
# written by whichever process ran it: `aftersales serve`, `aftersales worker`.
job_runs = Table(
    "job_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False),  # domain/jobs.py::JobName
    Column("status", String(16), nullable=False),  # running | succeeded | failed
    Column("attempt", Integer, nullable=False, default=1),
    Column("worker", String(200), nullable=False, default=""),  # host:pid
    Column("job_ref", String(64), nullable=False, default=""),  # the back end's job id (procrastinate's)
    Column("started_at", UtcDateTime, nullable=False, index=True),
    Column("finished_at", UtcDateTime),
    Column("summary", JSON, nullable=False, default=dict),
    Column("error", String(1000), nullable=False, default=""),
    Index("ix_job_runs_status_started_at", "status", "started_at"),
)

# Where each consumer of the case timeline has read up to (migration 0018): the outbound
# webhooks and the notifications read ``events`` after their cursor (adapters/db/event_feed.py)
event_cursors = Table(
    "event_cursors",
    metadata,
    Column("consumer", String(64), primary_key=True),
    Column("last_event_id", BigInteger, nullable=False),
)

# Outbound webhooks (migration 0021, domain/outbound_webhooks.py): the receivers an admin
# registered, one delivery per event and receiver (``webhook_sends``; the inbound Shopify
# deliveries are ``webhook_deliveries``), and every HTTP attempt at one.
webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("url", String(2000), nullable=False),
    Column("events", JSON, nullable=False, default=list),  # ["case.opened", ...]
    Column("secret", String(200), nullable=False),  # signs its deliveries; shown once
    Column("active", Boolean, nullable=False, default=True),  # False: removed (its log stays)
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(320), nullable=False, default=""),
    Column("removed_at", UtcDateTime),
)

webhook_sends = Table(
    "webhook_sends",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("endpoint_id", ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), nullable=False),
    Column("event_id", BigInteger),  # the timeline event told; NULL for a test delivery
    Column("event", String(64), nullable=False),
    Column("body", Text, nullable=False),  # the exact JSON sent, the same on every attempt
    Column("status", String(16), nullable=False),  # pending | sending | sent | failed
    Column("attempts", Integer, nullable=False, default=0),  # since queued or last replayed
    Column("next_attempt_at", UtcDateTime),
    Column("claimed_at", UtcDateTime),  # while "sending": its lease runs from then
    Column("claimed_by", String(200), nullable=False, default=""),
    Column("created_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime),
    Column("last_status_code", Integer),
    Column("last_error", String(1000), nullable=False, default=""),
    # one delivery per event and endpoint however many workers relay the feed
    UniqueConstraint("endpoint_id", "event_id"),
    Index("ix_webhook_sends_status_next_attempt_at", "status", "next_attempt_at"),
)

webhook_send_attempts = Table(
    "webhook_send_attempts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("send_id", ForeignKey("webhook_sends.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("at", UtcDateTime, nullable=False),
    Column("status_code", Integer),  # None: no answer (refused, timed out)
    Column("excerpt", String(200), nullable=False, default=""),
    Column("error", String(1000), nullable=False, default=""),
    Column("milliseconds", Integer, nullable=False, default=0),
)

# Each conversation the history import made a case of (migration 0019), once per source and
# id: a second import finds it. Its history's first-response and resolution times in business
# hours (None: never answered, or not closed) are kept here for the reports.
imported_conversations = Table(
    "imported_conversations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String(32), nullable=False),  # domain/history.py::HistoryFormat
    Column("conversation_id", String(200), nullable=False),
    Column("case_id", ForeignKey("cases.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("imported_at", UtcDateTime, nullable=False),
    Column("first_response_hours", Float, nullable=True),
    Column("resolution_hours", Float, nullable=True),
    UniqueConstraint("source", "conversation_id", name="uq_imported_conversations_source_conversation_id"),
)

# The satisfaction survey (migration 0020): one row per rating link sent with the reply that
# resolved a case; its random token is what the signed link carries, used once. The rating
# and comment are the case's; a bad one flags the case for its lead until a person clears it.
case_ratings = Table(
    "case_ratings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", ForeignKey("cases.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("token", String(64), nullable=False, unique=True),
    Column("issued_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("rated_at", UtcDateTime),  # NULL: not used yet
    Column("rating", String(8), nullable=False, default=""),  # good | bad; "" not rated
    Column("comment", Text, nullable=False, default=""),
    Column("flag_cleared_at", UtcDateTime),  # a bad rating's flag, cleared by a person
    Column("flag_cleared_by", String(200), nullable=False, default=""),
)

# Notifications (migration 0020): what each desk user chose to hear of, and how (at once or
# in the daily digest); absent row: not told. Digest items wait here for the day's mail.
notification_choices = Table(
    "notification_choices",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("topic", String(32), nullable=False),  # domain/notifications.py::Topic
    Column("delivery", String(16), nullable=False),  # immediate | digest
    UniqueConstraint("user_id", "topic", name="uq_notification_choices_user_id_topic"),
)

notification_digest_items = Table(
    "notification_digest_items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("case_id", ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    Column("event_id", BigInteger, nullable=False),
    Column("topic", String(32), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("summary", String(500), nullable=False, default=""),
    Column("sent_at", UtcDateTime),  # NULL: still to go in a digest
    UniqueConstraint(
        "user_id", "event_id", "topic", name="uq_notification_digest_items_user_id_event_id_topic"
    ),
    Index("ix_notification_digest_items_sent_at_user_id", "sent_at", "user_id"),
)
