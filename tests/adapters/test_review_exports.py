"""Judge.me and Yotpo review exports: the format is told from the header, columns are read by
name, bad rows are reported with their line and the others kept, anything else is refused."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aftersales.adapters.files.product_review_exports import JUDGEME, YOTPO, parse_row, read_reviews
from aftersales.domain.errors import InputError
from aftersales.domain.product_reviews import ExportedReview, ReviewProblem, ReviewSource

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "reviews"


def _reviews(name: str) -> tuple[ReviewSource, list[ExportedReview], list[ReviewProblem]]:
    export = read_reviews(FIXTURES / name)
    reviews = [r for r in export.reviews if isinstance(r, ExportedReview)]
    problems = [r for r in export.reviews if isinstance(r, ReviewProblem)]
    return export.source, reviews, problems


def test_a_judgeme_export_is_read_by_column_name() -> None:
    source, reviews, problems = _reviews("judgeme.csv")

    assert source is ReviewSource.JUDGEME
    first = reviews[0]
    assert (first.rating, first.title, first.reviewer_email, first.reviewer_name) == (
        1,
        "Broke in a week",
        "ana@example.com",
        "Ana Lima",
    )
    assert first.body == "The lid cracked after a week.\nNot what I paid for."
    assert (first.product_handle, first.order_reference, first.line) == ("steel-tumbler", "", 2)
    assert first.reviewed_at == datetime(2026, 11, 20, 14, tzinfo=UTC)
    assert len(first.external_id) == 64  # Judge.me gives no review id: a hash of the row
    # the multi-line body moves the next rows' line numbers on
    assert [r.line for r in reviews] == [2, 4, 6]
    assert problems == [ReviewProblem(5, "rating 'six' is not a whole number of stars from 1 to 5")]


def test_a_yotpo_export_is_read_by_column_name() -> None:
    source, reviews, problems = _reviews("yotpo.csv")

    assert source is ReviewSource.YOTPO
    assert [(r.external_id, r.rating, r.order_reference, r.product_handle) for r in reviews] == [
        ("9001", 2, "#1043", "steel-tumbler"),
        ("9002", 4, "1044", "steel-tumbler"),
        ("9004", 1, "5550001", "gift-set"),
    ]
    assert reviews[0].reviewed_at == datetime(2026, 11, 22, 9, tzinfo=UTC)
    assert (reviews[0].reviewer_name, reviews[2].reviewer_email) == ("Ana L.", "")
    assert problems == [
        ReviewProblem(4, "Date 'last week' is not a date like 2026-11-24 or 2026-11-24 10:00:00 UTC")
    ]


@pytest.mark.parametrize(
    ("header", "row", "expected"),
    [
        pytest.param(
            "review_id,review_title,review_content,review_score,date,email,display_name",
            "r1,Bad,Broken,1,11/24/2026,x@example.com,X",
            (ReviewSource.YOTPO, "r1", 1, datetime(2026, 11, 24, tzinfo=UTC)),
            id="yotpo_snake_case_and_us_dates",
        ),
        pytest.param(
            "Rating,Body,Reviewer Email,Title",
            "4.0,Fine,x@example.com,",
            (ReviewSource.JUDGEME, None, 4, None),
            id="judgeme_reordered_with_optional_columns_missing",
        ),
    ],
)
def test_header_spelling_and_order_do_not_matter(
    tmp_path: Path, header: str, row: str, expected: tuple[object, ...]
) -> None:
    path = tmp_path / "export.csv"
    path.write_text(f"\ufeff{header}\n{row}\n", encoding="utf-8")

    export = read_reviews(path)

    (review,) = export.reviews
    assert isinstance(review, ExportedReview)
    source, external_id, rating, reviewed_at = expected
    assert (export.source, review.rating, review.reviewed_at) == (source, rating, reviewed_at)
    assert external_id is None or review.external_id == external_id


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(
            "Name,Email\n1,a@example.com\n", "not a Judge.me or Yotpo reviews export", id="other_csv"
        ),
        pytest.param("", "found: nothing", id="empty"),
    ],
)
def test_a_file_that_is_neither_format_is_refused(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "customers.csv"
    path.write_text(content, encoding="utf-8")

    with pytest.raises(InputError, match=expected) as raised:
        read_reviews(path)

    assert raised.value.where == str(path)


def test_a_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "reviews.csv"
    path.write_bytes(b"title,body,rating,reviewer_email\nCaf\xe9,ok,5,a@example.com\n")

    with pytest.raises(InputError, match="not UTF-8"):
        read_reviews(path)


def test_the_same_row_gives_the_same_id_and_another_row_another() -> None:
    row = {"rating": "2", "body": "Cracked", "reviewer email": "a@example.com"}

    first, again = parse_row(row, JUDGEME, 2), parse_row(row, JUDGEME, 9)
    other = parse_row(row | {"body": "Cracked lid"}, JUDGEME, 2)

    assert isinstance(first, ExportedReview)
    assert isinstance(again, ExportedReview)
    assert isinstance(other, ExportedReview)
    assert first.external_id == again.external_id != other.external_id


_COLUMNS = st.sampled_from(
    [
        "rating",
        "review score",
        "review date",
        "date",
        "reviewer email",
        "email",
        "order id",
        "product url",
        "title",
    ]
)


@given(st.dictionaries(_COLUMNS, st.text(max_size=40)), st.sampled_from([JUDGEME, YOTPO]))
def test_any_row_gives_a_review_or_a_problem(values: dict[str, str], columns: object) -> None:
    assert columns is JUDGEME or columns is YOTPO
    parsed = parse_row(values, columns, 7)

    assert isinstance(parsed, ExportedReview | ReviewProblem)
    if isinstance(parsed, ExportedReview):
        assert 1 <= parsed.rating <= 5
        assert parsed.reviewed_at is None or parsed.reviewed_at.tzinfo is not None
