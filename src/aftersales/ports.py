"""What the use cases need from the outside world, as Protocols; adapters implement them."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

# Only the annotations name the domain's types: importing ports (every use case does) loads
# no domain module a command does not otherwise need.
if TYPE_CHECKING:
    from aftersales.domain.accounts import DeskSession, Role, User
    from aftersales.domain.attachments import CaseFile
    from aftersales.domain.cases import CaseRecord, CaseStatus, CaseSummary, Event
    from aftersales.domain.corrections import ModelVersion, RouteLabel
    from aftersales.domain.event_feed import FeedConsumer, FeedEvent
    from aftersales.domain.evidence import EvidenceItem
    from aftersales.domain.history_import import HistoryAddition, HistoryCase
    from aftersales.domain.jobs import JobName, JobRun, JobStatus, Periodic
    from aftersales.domain.messages import AttachmentMeta, Direction, InboundMessage
    from aftersales.domain.notifications import DigestLine, Notice, NoticeCase, Subscriber, Timing, Topic
    from aftersales.domain.order_side import OtherCase
    from aftersales.domain.orders import Dispute, OrderFacts, OrderSnapshot, TrackingEvent
    from aftersales.domain.outbound_webhooks import (
        CaseFacts,
        Endpoint,
        SendAttempt,
        WebhookEvent,
        WebhookSend,
    )
    from aftersales.domain.outgoing import Delivery, OutgoingMail, QueuedMail
    from aftersales.domain.presence import Viewer
    from aftersales.domain.queue import QueueQuery
    from aftersales.domain.reading import MessageToRead, Reading
    from aftersales.domain.routes import Route
    from aftersales.domain.satisfaction import Rating, RatingLink


class ClockInputs(NamedTuple):
    """What a case's clocks are computed from, as ``case_row`` (its id, route, status, stored
    clocks, risk and next due time), ``message_times`` and ``timeline`` give it."""

    row: Mapping[str, Any]
    messages: list[Mapping[str, Any]]
    events: list[Mapping[str, Any]]


class ClockStore(Protocol):
    """What keeping a case's clocks reads and writes (services/clocks.py::refresh_clocks)."""

    def case_row(self, case_id: int) -> CaseRecord: ...
    def message_times(self, case_id: int) -> list[Mapping[str, Any]]: ...
    def timeline(self, case_id: int) -> list[Mapping[str, Any]]: ...
    def add_events(self, case_id: int, events: Sequence[Event]) -> None: ...
    def update_case(
        self, case_id: int, fields: Mapping[str, Any], current: Mapping[str, Any] | None = None
    ) -> None: ...


class IntakeStore(ClockStore, Protocol):
    """What taking in one message reads and writes (services/intake.py::receive): the whole
    repository, or a chunk's batch that answers from lookups made once (``IntakeBatch``)."""

    def has_message(self, dedupe_key: str) -> bool: ...
    def case_for_message_ids(self, message_ids: Sequence[str]) -> int | None: ...
    def open_case_for(self, customer_id: int, order_number: str) -> int | None: ...
    def newest_open_case(self, *, customer_id: int | None = None, order_number: str = "") -> int | None: ...
    def case_exists(self, case_id: int) -> bool: ...
    def customer_id(self, email: str, name: str, at: datetime) -> int: ...
    def order(self, number: str) -> OrderFacts | None: ...
    def order_customer(self, number: str) -> tuple[str, str] | None: ...
    def open_case(self, fields: Mapping[str, Any]) -> int: ...
    def add_message(
        self,
        case_id: int,
        message: InboundMessage,
        direction: Direction,
        promised_update_at: datetime | None = None,
    ) -> int: ...
    def add_evidence(self, case_id: int, items: Sequence[EvidenceItem], by: str, at: datetime) -> None: ...
    def set_evidence(
        self,
        case_id: int,
        items: Sequence[EvidenceItem],
        by: str,
        at: datetime,
        *,
        keep_present: bool = False,
    ) -> None: ...
    def evidence_of(self, case_id: int) -> list[Mapping[str, Any]]: ...
    def hold_automation(self, customer_id: int, case_id: int, reason: str, since: datetime) -> None: ...
    def screen(self, message: InboundMessage, source: str, at: datetime) -> bool: ...
    def save_attachment(self, meta: AttachmentMeta, content: bytes) -> str: ...


class IntakeBatch(IntakeStore, Protocol):
    """A chunk of messages taken in over lookups made once; what intake writes is kept until
    ``flush`` writes it in a statement per table. Cases opened in the batch have provisional
    (negative) ids until then; ``flush`` returns their stored ids by provisional id."""

    def flush(self) -> dict[int, int]: ...


class CaseStore(Protocol):
    """The cases themselves: finding, opening, reading and changing them, and the listings."""

    def case_for_message_ids(self, message_ids: Sequence[str]) -> int | None: ...
    def open_case_for(self, customer_id: int, order_number: str) -> int | None: ...
    def newest_open_case(self, *, customer_id: int | None = None, order_number: str = "") -> int | None:
        """The newest open case of this customer and/or on this order (either may be left out)."""
        ...

    def related_cases(self, case_id: int) -> list[int]:
        """The cases linked to this one (their ``related_case_id``): messages it may not change."""
        ...

    def case_exists(self, case_id: int) -> bool: ...
    def open_case(self, fields: Mapping[str, Any]) -> int: ...
    def update_case(
        self, case_id: int, fields: Mapping[str, Any], current: Mapping[str, Any] | None = None
    ) -> None: ...
    def case_row(self, case_id: int) -> CaseRecord: ...
    def locked_case_row(self, case_id: int) -> CaseRecord:
        """The case row, held until the unit of work ends: another writer that asks for it
        waits (PostgreSQL: SELECT ... FOR UPDATE; SQLite's writers take turns anyway)."""
        ...

    def customer_cases(self, customer_id: int, *, except_case: int, limit: int) -> list[OtherCase]:
        """The customer's other cases, newest first."""
        ...

    def list_cases(
        self,
        statuses: Sequence[CaseStatus],
        *,
        route: Route | None = None,
        lead: str | None = None,
        breaching: bool = False,
        limit: int = 200,
    ) -> list[CaseSummary]: ...
    def queue(self, query: QueueQuery) -> list[CaseSummary]:
        """The queue as the query asks: filters, search, order (domain/queue.py)."""
        ...

    def find_cases(self, term: str, limit: int = 200) -> list[CaseSummary]: ...
    def search_is_capped(self, term: str) -> bool:
        """Whether the search's words are in more messages than a search looks at (its
        listing then holds the cases of the newest of them: adapters/db/search.py)."""
        ...

    def open_case_ids(self) -> list[int]:
        """Every case still open (new, open or waiting on the customer), by id."""
        ...

    def case_ids_to_check(self, now: datetime) -> list[int]:
        """The open cases the SLA tick must look at by ``now``: their ``next_check_at`` has
        come, or is not set (a case stored before migration 0023, or never refreshed)."""
        ...

    def case_ids_due_meaning(self, limit: int) -> list[int]:
        """Up to ``limit`` cases routed by their words alone that the semantic reader should
        read again (``meaning_due``), oldest first."""
        ...

    def meaning_due_count(self) -> int:
        """How many cases wait for the semantic reader (``case_ids_due_meaning``)."""
        ...

    def clock_inputs(self, case_ids: Sequence[int]) -> dict[int, ClockInputs]:
        """Each of ``case_ids``' clock inputs, in three statements whatever their number."""
        ...


class CaseTimeline(Protocol):
    """A case's messages and events, in the order they happened."""

    def add_message(
        self,
        case_id: int,
        message: InboundMessage,
        direction: Direction,
        promised_update_at: datetime | None = None,
    ) -> int: ...
    def add_event(self, case_id: int, event: Event) -> None: ...
    def add_events(self, case_id: int, events: Sequence[Event]) -> None: ...
    def events_after(self, case_id: int, event_id: int) -> list[Mapping[str, Any]]:
        """The case's timeline entries with an id above ``event_id``, oldest first."""
        ...

    def timeline(self, case_id: int) -> list[Mapping[str, Any]]: ...
    def messages_of(self, case_id: int) -> list[Mapping[str, Any]]: ...
    def message_times(self, case_id: int) -> list[Mapping[str, Any]]: ...


class IntakeGate(Protocol):
    """What stops a message before it reaches a case: a copy seen before, a sender screened
    out, a message that could not be taken in (quarantined)."""

    def has_message(self, dedupe_key: str) -> bool: ...
    def screen(self, message: InboundMessage, source: str, at: datetime) -> bool: ...
    def quarantine(self, source: str, reason: str, at: datetime) -> None: ...


class CustomerStore(Protocol):
    """Customers by e-mail address, added the first time they are met."""

    def customer_id(self, email: str, name: str, at: datetime) -> int: ...
    def customer_ids(self, people: Mapping[str, str], at: datetime) -> dict[str, int]:
        """The customer id of each e-mail address (lower case) -> name, added when new."""
        ...


class OrderStore(Protocol):
    """Orders mirrored from the shop, their carrier scans, and the policy versions they fall under."""

    def order(self, number: str) -> OrderFacts | None: ...
    def save_order(self, order: OrderFacts, customer_id: int | None, at: datetime) -> None: ...
    # many orders at once (an export's import): a few statements per batch, not per order
    def orders(self, numbers: Sequence[str]) -> dict[str, OrderFacts]: ...
    def save_orders(self, orders: Sequence[tuple[OrderFacts, int | None]], at: datetime) -> None: ...
    def policy_versions(self) -> list[tuple[datetime, str]]:
        """Every store policy version: (effective time, label), oldest first."""
        ...

    # orders by their Shopify Admin API id
    def order_number_for(self, shopify_id: str) -> str | None: ...
    def order_numbers_by_shopify_id(self, shopify_ids: Collection[str]) -> dict[str, str]:
        """The stored order number of each of these Admin API ids that is stored."""
        ...

    def update_order_row(self, order: OrderFacts, at: datetime) -> None:
        """Store an order's own facts (a new scan, a carrier) leaving its lines, refunds and
        buyer as they are."""
        ...

    def lock_order(self, number: str) -> None:
        """Hold the order until the unit of work ends, so two changes to it (two carrier scans
        arriving at once) take turns; SQLite's writers take turns anyway."""
        ...

    def order_customer(self, number: str) -> tuple[str, str] | None:
        """The e-mail address and name of the order's buyer, when the desk knows them."""
        ...

    def add_tracking_event(self, order_number: str, event: TrackingEvent) -> bool:
        """Store a scan once; False when the order already has it."""
        ...

    def tracking_events(self, order_number: str) -> list[TrackingEvent]: ...


class DisputeStore(Protocol):
    """Payment disputes (chargebacks) and the case each opened."""

    def dispute(self, dispute_id: str) -> tuple[Dispute, int | None] | None:
        """The stored dispute and the case it opened."""
        ...

    def save_dispute(self, dispute: Dispute, case_id: int | None, at: datetime) -> None: ...


class ShopifyDeliveries(Protocol):
    """Shopify's webhook deliveries, each taken once."""

    def record_delivery(self, webhook_id: str, topic: str, shop: str, at: datetime) -> bool:
        """Record a webhook delivery; False when this X-Shopify-Webhook-Id was seen before."""
        ...

    def set_delivery_outcome(self, webhook_id: str, outcome: str) -> None: ...


class EvidenceStore(Protocol):
    """A case's evidence checklist: what is present, missing or asked for."""

    def add_evidence(self, case_id: int, items: Sequence[EvidenceItem], by: str, at: datetime) -> None: ...
    def set_evidence(
        self,
        case_id: int,
        items: Sequence[EvidenceItem],
        by: str,
        at: datetime,
        *,
        keep_present: bool = False,
    ) -> None: ...
    def remove_evidence(self, case_id: int, keys: Sequence[str]) -> None: ...
    def evidence_of(self, case_id: int) -> list[Mapping[str, Any]]: ...


class CaseFiles(Protocol):
    """Attachments and uploaded files of the cases."""

    def save_attachment(self, meta: AttachmentMeta, content: bytes) -> str: ...
    def add_upload(self, case_id: int, evidence_key: str, meta: AttachmentMeta, by: str, at: datetime) -> int:
        """List a file a person uploaded for an evidence item (saved with ``save_attachment``)."""
        ...

    def files_of(self, case_id: int) -> list[CaseFile]: ...
    def case_file(self, file_id: int) -> CaseFile | None: ...
    def file_content(self, file: CaseFile) -> bytes | None:
        """The file's bytes when a whole copy is kept, else None."""
        ...


class AutomationHolds(Protocol):
    """Customers whose cases no automation may touch, and why (held by case, released by case)."""

    def hold_automation(self, customer_id: int, case_id: int, reason: str, since: datetime) -> None: ...
    def release_automation(self, case_id: int, until: datetime) -> None: ...


class RouteLabels(Protocol):
    """Labelled examples the router learns from (a person's confirmed or changed route)."""

    def add_route_label(self, label: RouteLabel) -> int:
        """Store a labelled example; its ``id`` is ignored (returns the stored id)."""
        ...

    def route_labels(self) -> list[RouteLabel]: ...
    def route_label_count(self, after_id: int = 0) -> int: ...


class Outbox(Protocol):
    """Mail queued with the change that caused it, sent by `aftersales mail send`."""

    def queue_mail(self, mail: OutgoingMail, at: datetime) -> bool:
        """Queue ``mail``; False when a mail with its Message-ID was queued before."""
        ...

    def pending_mails(self, limit: int = 100) -> list[QueuedMail]: ...
    def claim_mail(self, mail_id: int, at: datetime, by: str = "") -> QueuedMail | None:
        """Mark a pending mail as being sent since ``at`` by ``by`` (host:pid); None when it is
        not pending (another sender took it)."""
        ...

    def mark_mail_sent(self, mail_id: int, at: datetime) -> None: ...
    def mark_mail_failed(self, mail_id: int, error: str, *, final: bool) -> None:
        """One more attempt failed; ``final`` gives up (status failed), else it is pending again."""
        ...

    def release_stale_mails(self, before: datetime, error: str) -> int:
        """Mail being sent since before ``before`` (its sender stopped) is pending again."""
        ...

    def acknowledgements_since(self, address: str, since: datetime) -> list[str]:
        """Message-IDs of the acknowledgements queued to ``address`` since ``since``."""
        ...

    def mail_deliveries(self, case_id: int) -> dict[str, Delivery]:
        """The delivery state of each of the case's reply mails, by Message-ID."""
        ...


class EventFeed(Protocol):
    """The case timeline as a feed (domain/event_feed.py): the events after a consumer's
    cursor, locked for it until the transaction ends, and its cursor moved on. Events of
    imported cases are left out."""

    def feed_events(self, consumer: FeedConsumer, *, limit: int = 500) -> list[FeedEvent]: ...
    def advance_feed(self, consumer: FeedConsumer, last_event_id: int) -> None: ...
    def skip_feed(self, consumer: FeedConsumer) -> None:
        """Move the cursor past every event the feed would hand out now, without reading
        them: a consumer with nobody to tell keeps up at the cost of one statement."""
        ...


class Ratings(Protocol):
    """The satisfaction survey's rating links (domain/satisfaction.py), and a bad rating's flag."""

    def add_rating_link(self, link: RatingLink) -> None: ...
    def rating_link(self, token: str, *, lock: bool = False) -> RatingLink | None:
        """The link named by ``token``; ``lock``: held until the transaction ends."""
        ...

    def record_rating(self, token: str, rating: Rating, comment: str, at: datetime) -> bool:
        """Use the link; False when it was used already (a link rates once)."""
        ...

    def flagged_cases(self, case_ids: Collection[int]) -> dict[int, str]:
        """Of ``case_ids``, those with an uncleared bad rating: case id → the rating's comment."""
        ...

    def clear_rating_flag(self, case_id: int, by: str, at: datetime) -> int: ...
    def ratings_of(self, case_id: int) -> list[RatingLink]: ...


class Notifications(Protocol):
    """What desk users chose to hear of, the facts that decide who is told of a case's event,
    and what waits for their daily digest (domain/notifications.py)."""

    def notification_choices(self, user_id: int) -> dict[Topic, Timing]: ...
    def set_notification_choices(self, user_id: int, chosen: dict[Topic, Timing]) -> None: ...
    def subscribers(self) -> list[Subscriber]:
        """Active users who chose at least one topic."""
        ...

    def notice_cases(self, case_ids: Collection[int]) -> dict[int, NoticeCase]: ...
    def keep_for_digest(self, items: Sequence[Notice]) -> None:
        """Keep items for their users' digests, once per user, event and topic."""
        ...

    def waiting_digest_items(self, before: datetime) -> dict[int, list[tuple[int, DigestLine]]]:
        """Unsent items older than ``before`` by user: (item id, line), locked for this run."""
        ...

    def mark_digested(self, item_ids: Collection[int], at: datetime) -> None: ...
    def user_emails(self, user_ids: Collection[int]) -> dict[int, str]:
        """Active users' addresses."""
        ...


class MailLinks(Protocol):
    """Links put in mail, on the web desk's public address (adapters/links.py)."""

    @property
    def can_link(self) -> bool:
        """Whether the desk's public address is known: a rating link needs it."""
        ...

    def rating_url(self, token: str, rating: Rating) -> str: ...
    def case_url(self, case_id: int) -> str: ...


class CaseRepository(  # noqa: PLR0904 - the roles above, one object per unit of work
    CaseStore,
    CaseTimeline,
    IntakeGate,
    CustomerStore,
    OrderStore,
    DisputeStore,
    ShopifyDeliveries,
    EvidenceStore,
    CaseFiles,
    AutomationHolds,
    RouteLabels,
    Outbox,
    EventFeed,
    Ratings,
    Notifications,
    Protocol,
):
    """Every role of one unit of work (one transaction): what ``UnitOfWork`` yields. A use
    case that needs one role takes that role; the adapter implements them all on one object
    so their writes share the transaction."""

    def savepoint(self) -> AbstractContextManager[None]:
        """A block whose writes are undone alone when it raises; the transaction goes on."""
        ...

    def intake_batch(self, messages: Sequence[InboundMessage], order_numbers: Collection[str]) -> IntakeBatch:
        """The batch for taking in ``messages`` (with the order numbers their cards name)."""
        ...


class CasesAndTimelines(CaseStore, CaseTimeline, Protocol):
    """A case and its timeline: what the clocks and the collision check read and write."""


class UnitOfWork(Protocol):
    """``with uow() as cases:`` runs one transaction; leaving the block commits it."""

    def __call__(self) -> AbstractContextManager[CaseRepository]: ...


class UserRepository(Protocol):
    """Desk users and their API tokens, in one unit of work (one transaction)."""

    def add_user(self, email: str, name: str, role: Role, password_hash: str, at: datetime) -> int:
        """The new user's id; raises InputError when the e-mail is taken."""
        ...

    def user_by_email(self, email: str) -> tuple[User, str] | None:
        """The user and their password hash."""
        ...

    def user_by_id(self, user_id: int) -> User | None: ...
    def list_users(self) -> list[User]: ...
    def set_password_hash(self, user_id: int, password_hash: str) -> None: ...
    def add_token(self, user_id: int, name: str, token_hash: str, at: datetime) -> int: ...
    def user_for_token_hash(self, token_hash: str, at: datetime) -> User | None:
        """The active user holding this unrevoked token; records that it was used."""
        ...

    def revoke_tokens(self, user_id: int, at: datetime) -> None: ...

    # account control: sessions are stored server-side, named by their token's hash
    def set_active(self, user_id: int, *, active: bool) -> None: ...
    def set_role(self, user_id: int, role: Role) -> None: ...
    def add_session(  # noqa: PLR0913
        self, session_hash: str, user_id: int, csrf_token: str, at: datetime, expires_at: datetime
    ) -> None: ...
    def session(self, session_hash: str, at: datetime) -> DeskSession | None:
        """The unexpired session of an active user."""
        ...

    def touch_session(self, session_hash: str, at: datetime) -> None: ...
    def delete_session(self, session_hash: str) -> None: ...
    def delete_sessions_of(self, user_id: int) -> int: ...
    def delete_expired_sessions(self, at: datetime) -> None: ...
    def add_sign_in_failure(self, account: str, address: str, at: datetime) -> None: ...
    def sign_in_failures(
        self, account: str, address: str, since: datetime
    ) -> tuple[list[datetime], list[datetime]]: ...
    def forget_sign_in_failures(
        self, *, account: str | None = None, before: datetime | None = None
    ) -> None: ...


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...
    def verify(self, password_hash: str, password: str) -> bool:
        """False for a wrong password or a hash it cannot read; never raises for them."""
        ...

    def needs_rehash(self, password_hash: str) -> bool:
        """True when the hash was made with weaker parameters than the current ones."""
        ...


class ContactPostLog(Protocol):
    """The contact form's accepted posts, by counter key, in one unit of work."""

    def lock(self, keys: Collection[str]) -> None:
        """Hold these counters until the unit of work ends (concurrent posts take turns)."""
        ...

    def counts_since(self, keys: Mapping[str, str], since: datetime) -> dict[str, int]:
        """Posts each key (by name) counted after ``since``."""
        ...

    def record(self, keys: Collection[str], at: datetime) -> None: ...
    def prune(self, before: datetime) -> None:
        """Forget posts at or before ``before``: no limit looks that far back."""
        ...


class PresenceLog(Protocol):
    """Who has which case open (domain/presence.py), in one unit of work."""

    def see(self, case_id: int, user_id: int, at: datetime) -> bool:
        """The user has the case open at ``at``; False when there is no such case."""
        ...

    def viewers(self, case_id: int, since: datetime) -> list[Viewer]:
        """Who said they had the case open after ``since``."""
        ...

    def forget_before(self, before: datetime) -> None: ...
    def latest_event_id(self, case_id: int) -> int:
        """The highest id of the case's timeline events (0 when it has none)."""
        ...


class RouterModels(Protocol):
    """The store's trained router models, by version, and which one is current."""

    def versions(self) -> list[ModelVersion]: ...
    def current(self) -> ModelVersion | None: ...
    def save(self, model: dict[str, Any], version: ModelVersion) -> ModelVersion:
        """Keep a model as the next version (``version.version`` is ignored); current if promoted."""
        ...

    def use(self, number: int | None) -> None: ...


class Reader(Protocol):
    """A second reader of a message (a language model): given the local reading, its own,
    or the local one again with ``read_by = "local_fallback"`` and why. Never raises for a
    message it cannot read, and never sends anything to a customer."""

    def read(self, message: MessageToRead, local: Reading) -> Reading: ...


class ReadingCache(Protocol):
    """Readings by key (a hash of the masked message and the prompt), shared by processes."""

    def get(self, key: str) -> Mapping[str, Any] | None: ...
    def put(self, key: str, prompt_version: str, reading: Mapping[str, Any]) -> None: ...


class ShopOrders(Protocol):
    """The shop's orders as its Admin API reports them, each with its parcels, scans, refunds
    and dispute."""

    def order_snapshot(self, number_or_gid: str) -> OrderSnapshot | None: ...
    def orders_updated_since(self, when: datetime) -> Iterator[OrderSnapshot]: ...


class JobLog(Protocol):
    """The job log (domain/jobs.py::JobRun), in one unit of work."""

    def start(self, name: str, *, attempt: int, worker: str, at: datetime, ref: str = "") -> int:
        """A new run, marked running; its id. ``ref`` is the back end's id of the job."""
        ...

    def finish(
        self, run_id: int, status: JobStatus, *, at: datetime, summary: Mapping[str, Any], error: str = ""
    ) -> None: ...
    def abandon(self, ref: str, *, at: datetime, error: str) -> int:
        """Runs of back-end job ``ref`` still marked running end failed: their process died."""
        ...

    def recent(self, limit: int = 50, *, failed_only: bool = False, name: str | None = None) -> list[JobRun]:
        """The newest runs first."""
        ...

    def prune(self, before: datetime) -> int:
        """Forget runs started before ``before``; how many."""
        ...


class JobLogUnitOfWork(Protocol):
    def __call__(self) -> AbstractContextManager[JobLog]: ...


class JobBody(Protocol):
    """The work of one job; returns a summary for the job log, raises when it failed."""

    def __call__(self) -> Mapping[str, Any]: ...


class JobAttempts(Protocol):
    """Runs attempts at jobs and writes them to the job log (services/jobs.py::JobRunner)."""

    def run(self, name: str, body: JobBody, *, attempt: int = 1, ref: str = "") -> Mapping[str, Any]:
        """One attempt; its summary, or what the job raised, raised again once logged."""
        ...

    def abandon(self, ref: str) -> int:
        """The logged runs of back-end job ``ref`` whose process died end failed."""
        ...


class JobQueue(Protocol):
    """Runs the desk's jobs: periodic ones once per period however many processes run it,
    enqueued ones soon; a failed attempt is tried again after a backoff (RetryPolicy), and
    every attempt is written to the job log."""

    def periodic(self, job: Periodic, body: JobBody) -> None:
        """Run ``body`` every ``job.seconds`` (register before ``run``/``start``)."""
        ...

    def enqueue(self, name: JobName) -> None:
        """Run the periodic job ``name`` soon, once, besides its schedule."""
        ...

    def run(self) -> None:
        """Run the jobs in this process until it is stopped (a signal, Ctrl-C)."""
        ...


class WebhookStore(EventFeed, Protocol):
    """Outbound webhooks (domain/outbound_webhooks.py) in one unit of work: the endpoints, the
    deliveries relayed from the event feed with its cursor, and each attempt's log."""

    def forget_sends(self, before: datetime) -> int:
        """Delete the deliveries that ended before ``before``, with their attempts."""
        ...

    def add_endpoint(  # noqa: PLR0913
        self, url: str, events: Sequence[WebhookEvent], secret: str, by: str, at: datetime
    ) -> Endpoint: ...
    def endpoints(self, *, active_only: bool = True) -> list[Endpoint]: ...
    def endpoint(self, endpoint_id: int) -> Endpoint | None: ...
    def endpoint_secret(self, endpoint_id: int) -> str: ...
    def remove_endpoint(self, endpoint_id: int, at: datetime) -> bool:
        """Stop sending to it (its deliveries stay in the log); False: no such active endpoint."""
        ...

    def case_facts(self, case_ids: Collection[int]) -> dict[int, CaseFacts]: ...
    def add_send(
        self, endpoint_id: int, event_id: int | None, event: str, body: str, at: datetime
    ) -> int | None:
        """Queue a delivery due at ``at``; None when this endpoint has this event already."""
        ...

    def due_sends(self, now: datetime, limit: int) -> list[int]:
        """Pending deliveries due at ``now``, oldest first."""
        ...

    def claim_send(self, send_id: int, at: datetime, by: str) -> WebhookSend | None:
        """Mark a due pending delivery as being sent by ``by`` since ``at``; None when another
        worker took it (one conditional update)."""
        ...

    def record_attempt(self, attempt: SendAttempt) -> None: ...
    def finish_send(self, send_id: int, attempt: SendAttempt, next_attempt_at: datetime | None) -> None:
        """After an attempt: sent (2xx), pending again at ``next_attempt_at``, or failed (None)."""
        ...

    def release_stale_sends(self, before: datetime, error: str) -> int:
        """Deliveries claimed before ``before`` (their worker stopped) are pending again."""
        ...

    def sends(
        self, limit: int = 50, *, endpoint_id: int | None = None, failed_only: bool = False
    ) -> list[WebhookSend]:
        """The newest deliveries first."""
        ...

    def send(self, send_id: int) -> WebhookSend | None: ...
    def attempts_of(self, send_ids: Collection[int]) -> dict[int, list[SendAttempt]]: ...
    def replay(self, send_id: int, at: datetime) -> bool:
        """Send it again from ``at`` (a new round of attempts); False: no such delivery."""
        ...


class WebhookUnitOfWork(Protocol):
    """``with webhooks() as store:`` runs one transaction."""

    def __call__(self) -> AbstractContextManager[WebhookStore]: ...


class PostAnswer(NamedTuple):
    """What one POST got: the status code (None when no answer came), the answer's first
    bytes, and what went wrong on the way ("" when an answer came)."""

    status_code: int | None
    body: bytes
    error: str
    seconds: float


class WebhookPoster(Protocol):
    """POSTs a delivery; never raises for a receiver that is down, slow or refuses."""

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> PostAnswer: ...


class HistoryStore(Protocol):
    """What the history import reads and writes (services/history_import.py), a chunk of
    conversations at a time."""

    def imported_cases(self, source: str, conversation_ids: Collection[str]) -> dict[str, int]:
        """The case of each of these conversations of ``source`` imported before, by id."""
        ...

    def stored_message_keys(self, keys: Collection[str]) -> set[str]:
        """Those of the message keys (``dedupe_key``) already stored."""
        ...

    def store_cases(self, cases: Sequence[HistoryCase], at: datetime) -> None:
        """Store each conversation as a case: its customer, messages, timeline, label and
        its (source, id), so a second import finds it."""
        ...

    def add_history_messages(self, additions: Sequence[HistoryAddition], at: datetime) -> None:
        """Add a re-exported conversation's new messages to its case."""
        ...


class HistoryUnitOfWork(Protocol):
    """``with history() as store:`` is one transaction, committed when the block ends."""

    def __call__(self) -> AbstractContextManager[HistoryStore]: ...
