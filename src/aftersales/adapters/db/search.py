"""Full-text search of the desk: which cases a search names, on SQLite and PostgreSQL.

A case matches when every word of the search starts a word of one of its messages (subject or
text), or of its customer's name or e-mail address; or when the search is the customer's
whole e-mail address or the case's order number. The index is the database's own, kept in the
transaction that writes the row (migration 0013):

* SQLite: FTS5 tables ``messages_search`` and ``customers_search`` over the rows (external
  content), kept by triggers; words are Unicode letters and digits, accents folded.
* PostgreSQL: GIN indexes over ``to_tsvector('simple', ...)`` of the same columns ('simple':
  no stemming, as the store writes in several languages); accents are kept.

Only letters and digits of the search reach either query language (``queue.search_words``).

A word in nearly every message (a store's "order") would make a search sort nearly every
case: 92,000 hits at 100,000 cases took 0.2 s on SQLite and 0.8 s on PostgreSQL. So the words
are looked up in the newest ``MESSAGE_HITS`` matching messages only (both indexes hand out
their newest hits first, and stop there): a search whose words are in fewer messages finds
them all, one in more lists the cases of the newest of them.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    column,
    func,
    literal_column,
    or_,
    select,
    table,
    text,
    union,
)

from aftersales.adapters.db import schema as t
from aftersales.domain.queue import SEARCH_MESSAGE_CAP as MESSAGE_HITS
from aftersales.domain.queue import order_number_in, search_words

# the text of migration 0013's expression indexes: the planner uses an index only for the
# expression it was built on
PG_MESSAGE_TEXT = "to_tsvector('simple'::regconfig, left(messages.subject || ' ' || messages.body, 100000))"
PG_CUSTOMER_TEXT = (
    "to_tsvector('simple'::regconfig, customers.name || ' ' || translate(customers.email, '@.', '  '))"
)
_MESSAGES_SEARCH = table("messages_search", column("rowid"))
_CUSTOMERS_SEARCH = table("customers_search", column("rowid"))


def matching(dialect: str, term: str) -> ColumnElement[bool] | None:
    """A condition on ``cases`` true for the cases the search names; None for a search with
    nothing to look for. Either way the hits are looked up by their indexes and then sorted
    into the queue's order (a word in most messages makes that sort large: see
    docs/benchmarks.md). SQLite does that best from one ``IN`` per way to match (a multi-index
    OR); PostgreSQL from their union, as the shape each planner chose well at 100,000 cases."""
    words = search_words(term)
    found: list[ColumnElement[bool]] = []
    if words:
        found.append(t.cases.c.id.in_(_message_hits(dialect, words)))
        found.append(t.cases.c.customer_id.in_(_customer_hits(dialect, words)))
    if "@" in term:
        by_address = select(t.customers.c.id).where(t.customers.c.email == term.strip().lower())
        found.append(t.cases.c.customer_id.in_(by_address))
    if number := order_number_in(term):
        found.append(t.cases.c.order_number == number)
    if not found:
        return None
    if dialect == "postgresql":
        # given the OR, its planner walked the whole queue testing each row (0.36 s at 100,000)
        return t.cases.c.id.in_(union(*(select(t.cases.c.id).where(way) for way in found)))
    return or_(*found)


def reaches_message_cap(db: Connection, term: str) -> bool:
    """Whether more than ``MESSAGE_HITS`` messages have every word of the search: then the
    listing holds the cases of the newest of them only, and the page says so."""
    words = search_words(term)
    if not words:
        return False
    hits = _message_hits(db.dialect.name, words, limit=MESSAGE_HITS + 1).subquery()
    return int(db.execute(select(func.count()).select_from(hits)).scalar_one()) > MESSAGE_HITS


def _message_hits(dialect: str, words: Sequence[str], *, limit: int = MESSAGE_HITS) -> Select[tuple[int]]:
    """The cases of the newest ``MESSAGE_HITS`` messages with every word (message ids grow
    with time)."""
    if dialect == "postgresql":
        query = text(f"{PG_MESSAGE_TEXT} @@ to_tsquery('simple'::regconfig, :message_words)")
        newest = (
            select(t.messages.c.case_id)
            .where(query.bindparams(message_words=_pg_query(words)))
            .order_by(t.messages.c.id.desc())
            .limit(limit)
        )
        return select(newest.subquery().c.case_id)
    match = literal_column("messages_search").op("MATCH")(_fts5_query(words))
    hits = (
        select(_MESSAGES_SEARCH.c.rowid)
        .where(match)
        .order_by(_MESSAGES_SEARCH.c.rowid.desc())
        .limit(limit)
        .subquery()
    )
    return select(t.messages.c.case_id).join(hits, t.messages.c.id == hits.c.rowid)


def _customer_hits(dialect: str, words: Sequence[str]) -> Select[tuple[int]]:
    if dialect == "postgresql":
        query = text(f"{PG_CUSTOMER_TEXT} @@ to_tsquery('simple'::regconfig, :customer_words)")
        return select(t.customers.c.id).where(query.bindparams(customer_words=_pg_query(words)))
    match = literal_column("customers_search").op("MATCH")(_fts5_query(words))
    return select(_CUSTOMERS_SEARCH.c.rowid).where(match)


def _fts5_query(words: Sequence[str]) -> str:
    """Every word as a prefix: "ana" finds Ana and Anabel; quoted, so no word is an operator."""
    return " AND ".join(f'"{word}"*' for word in words)


def _pg_query(words: Sequence[str]) -> str:
    return " & ".join(f"{word}:*" for word in words)
