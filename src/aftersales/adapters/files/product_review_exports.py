"""Judge.me and Yotpo review exports (CSV), read into reviews.

The format is told from the header and columns are found by name: case, spaces, "_" and "-"
do not matter, so ``review_score`` and ``Review Score`` are one column, and extra, missing
optional and reordered columns are all fine. Only the rating is required on a row. A row
with a bad value is reported with its CSV line number and the reason; the others are read.

Judge.me: ``title, body, rating, review_date, source, curated, reviewer_name,
reviewer_email, product_id, product_handle, reply, reply_date, picture_urls, ip_address,
location`` (no review id: one is made from the row). Yotpo: ``Review ID, Review Title,
Review Content, Review Score, Date, Product ID, Product Title, Product URL, Email, Reviewer
Display Name, Order ID, Published``.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from aftersales.domain.errors import InputError
from aftersales.domain.product_reviews import (
    MAX_RATING,
    MIN_RATING,
    ExportedReview,
    ReviewProblem,
    ReviewSource,
)
from aftersales.domain.values import BadValue, in_window, read_amount

# the widest values the reviews table takes (see adapters/db/schema.py)
_ID_WIDTH, _TITLE_WIDTH, _EMAIL_WIDTH, _NAME_WIDTH, _ORDER_WIDTH, _HANDLE_WIDTH = 200, 500, 320, 200, 64, 255
_DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S %Z",
    "%Y-%m-%d %H:%M:%S %z",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y",
)
_PRODUCT_PATH = re.compile(r"/products/([^/?#]+)")


@dataclass(frozen=True, slots=True)
class _Columns:
    """Where each field is read from: column names (normalised), first one present wins."""

    source: ReviewSource
    identifies: tuple[str, ...]  # columns whose presence tells this format
    review_id: tuple[str, ...]
    title: tuple[str, ...]
    body: tuple[str, ...]
    rating: tuple[str, ...]
    reviewed_at: tuple[str, ...]
    email: tuple[str, ...]
    name: tuple[str, ...]
    order: tuple[str, ...]
    handle: tuple[str, ...]
    product_id: tuple[str, ...]
    product_url: tuple[str, ...] = ()


JUDGEME = _Columns(
    source=ReviewSource.JUDGEME,
    identifies=("rating", "body", "reviewer email"),
    review_id=("review id", "id"),
    title=("title", "review title"),
    body=("body",),
    rating=("rating",),
    reviewed_at=("review date", "created at"),
    email=("reviewer email",),
    name=("reviewer name",),
    order=("order number", "order id", "order name"),
    handle=("product handle",),
    product_id=("product id",),
)
YOTPO = _Columns(
    source=ReviewSource.YOTPO,
    identifies=("review score", "review content"),
    review_id=("review id", "id"),
    title=("review title", "title"),
    body=("review content", "content"),
    rating=("review score", "score"),
    reviewed_at=("date", "review date", "created at"),
    email=("email", "user email", "reviewer email"),
    name=("reviewer display name", "display name", "user name", "reviewer name"),
    order=("order id", "order number"),
    handle=("product handle",),
    product_id=("product id",),
    product_url=("product url",),
)
FORMATS = (JUDGEME, YOTPO)


@dataclass(frozen=True, slots=True)
class ReviewExport:
    source: ReviewSource
    reviews: tuple[ExportedReview | ReviewProblem, ...]


def normalised_column(name: str) -> str:
    return " ".join(name.replace("_", " ").replace("-", " ").lower().split())


def read_reviews(path: Path) -> ReviewExport:
    """Every review of the export at ``path`` or the problem with its row, in file order.

    The whole file is read and its format told before anything is handed over; a file that
    is neither a Judge.me nor a Yotpo export raises InputError."""
    where = str(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as file:
            reader = csv.reader(file)
            cells = next(reader, [])
            header = [normalised_column(cell) for cell in cells]
            spelled = {name: cell.strip() for name, cell in zip(header, cells, strict=True)}
            columns = _format_of(header, where)
            reviews: list[ExportedReview | ReviewProblem] = []
            line = reader.line_num + 1
            for cells in reader:
                if any(cell.strip() for cell in cells):
                    values = dict(zip(header, cells, strict=False))
                    reviews.append(parse_row(values, columns, line, spelled))
                line = reader.line_num + 1
            return ReviewExport(columns.source, tuple(reviews))
    except OSError as error:
        raise InputError(f"cannot read the reviews file: {error.strerror}", where) from None
    except UnicodeDecodeError:
        raise InputError("the reviews file is not UTF-8 text", where) from None
    except csv.Error as error:
        raise InputError(f"not a readable CSV file: {error}", where) from None


def _format_of(header: Sequence[str], where: str) -> _Columns:
    present = set(header)
    for columns in FORMATS:
        if set(columns.identifies) <= present:
            return columns
    found = ", ".join(name for name in header if name) or "nothing"
    raise InputError(
        "not a Judge.me or Yotpo reviews export: a Judge.me export has rating, body and "
        f"reviewer_email columns, a Yotpo export Review Score and Review Content (found: {found})",
        where,
    )


@dataclass(frozen=True, slots=True)
class _Row:
    values: Mapping[str, str]  # normalised column name -> cell
    spelled: Mapping[str, str]  # normalised column name -> as the file's header spells it

    def get(self, names: Sequence[str]) -> str:
        return next((value.strip() for name in names if (value := self.values.get(name, "")).strip()), "")

    def name(self, names: Sequence[str]) -> str:
        """The column a value is read from, as the file spells it (for messages)."""
        found = next((name for name in names if name in self.values), names[0])
        return self.spelled.get(found, found)


def parse_row(
    values: Mapping[str, str], columns: _Columns, line: int, spelled: Mapping[str, str] | None = None
) -> ExportedReview | ReviewProblem:
    """One review from a row whose keys are normalised column names; ``spelled`` maps them
    to the header's own spelling, for messages."""
    row = _Row(values, spelled or {})
    try:
        rating = _rating(row.get(columns.rating), row.name(columns.rating))
        reviewed_at = _time(row.get(columns.reviewed_at), row.name(columns.reviewed_at))
        email = _limited(row.get(columns.email).lower(), _EMAIL_WIDTH, row.name(columns.email))
        order = _limited(row.get(columns.order), _ORDER_WIDTH, row.name(columns.order))
    except BadValue as error:
        return ReviewProblem(line, error.reason)
    handle = row.get(columns.handle) or _handle_from_url(row.get(columns.product_url))
    review = ExportedReview(
        source=columns.source,
        external_id="",
        rating=rating,
        title=row.get(columns.title)[:_TITLE_WIDTH],
        body=row.get(columns.body),
        reviewer_email=email,
        reviewer_name=row.get(columns.name)[:_NAME_WIDTH],
        order_reference=order,
        product_handle=handle[:_HANDLE_WIDTH],
        reviewed_at=reviewed_at,
        line=line,
    )
    given_id = row.get(columns.review_id)[:_ID_WIDTH]
    identity = given_id or _content_id(review, row.get(columns.product_id), row.get(columns.reviewed_at))
    return replace(review, external_id=identity)


def _content_id(review: ExportedReview, product_id: str, date_text: str) -> str:
    """A stable id for a review whose export gives none: a SHA-256 of the fields that tell
    one review from another (an edited review gets a new id)."""
    fields = (
        review.source.value,
        review.reviewer_email,
        review.reviewer_name,
        review.product_handle,
        product_id,
        str(review.rating),
        review.title,
        review.body,
        date_text,
    )
    return hashlib.sha256("\x1f".join(fields).encode("utf-8")).hexdigest()


def _rating(value: str, column: str) -> int:
    try:  # "5", or "5.0" as some exports write it
        number = read_amount(value, column, digits=1, places=4)
    except BadValue:
        number = None
    if number is None or number != number.to_integral_value() or not MIN_RATING <= number <= MAX_RATING:
        shown = repr(value) if value else "missing"
        raise BadValue(f"{column} {shown} is not a whole number of stars from {MIN_RATING} to {MAX_RATING}")
    return int(number)


def _time(value: str, column: str) -> datetime | None:
    if not value:
        return None
    moment = _parsed_time(value)
    if moment is None:
        raise BadValue(f"{column} {value!r} is not a date like 2026-11-24 or 2026-11-24 10:00:00 UTC")
    # a time without a zone is read as UTC: both apps export UTC times
    return in_window(moment if moment.utcoffset() is not None else moment.replace(tzinfo=UTC), column)


def _parsed_time(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        pass
    for pattern in _DATE_FORMATS:
        try:
            parsed = datetime.strptime(value, pattern)  # noqa: DTZ007 (a zone is added by the caller)
        except ValueError:
            continue
        return parsed.replace(tzinfo=UTC) if pattern.endswith("%Z") else parsed
    return None


def _limited(value: str, width: int, column: str) -> str:
    if len(value) > width:
        raise BadValue(f"{column} is longer than {width} characters")
    return value


def _handle_from_url(url: str) -> str:
    found = _PRODUCT_PATH.search(urlsplit(url).path) if url else None
    return found.group(1) if found else ""
