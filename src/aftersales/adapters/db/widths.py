"""Text cut to its column's width where a case is written: the services hand over whole values
and need not know how wide a column is (PostgreSQL refuses a value too long; SQLite would keep
it whole)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import String, Table

from aftersales.adapters.db import schema as t


def column_widths(table: Table) -> dict[str, int]:
    """Each text column of ``table`` that has a width, by name."""
    return {
        column.name: column.type.length
        for column in table.columns
        if isinstance(column.type, String) and column.type.length is not None
    }


CASE_WIDTHS = column_widths(t.cases)


def fitted(values: Mapping[str, Any], widths: Mapping[str, int] = CASE_WIDTHS) -> dict[str, Any]:
    """``values`` with each text cut to its column's width."""
    return {
        name: value[: widths[name]] if isinstance(value, str) and name in widths else value
        for name, value in values.items()
    }
