"""The holidays package's answers, kept in the data folder's cache, are the package's answers."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest

from aftersales.adapters.business_calendar.holiday_cache import (
    country_codes,
    public_holidays,
    subdivision_codes,
)
from aftersales.adapters.business_calendar.holidays import calendar_for
from aftersales.adapters.policy.file import default_policy


def _cache_file(folder: Path) -> Path:
    [path] = folder.glob("holidays-*.json")
    return path


def test_a_cached_calendar_closes_the_days_the_package_does(tmp_path: Path) -> None:
    policy = default_policy()  # New York
    live, cached = calendar_for(policy), calendar_for(policy, tmp_path)
    again = calendar_for(policy, tmp_path)  # read back from the file
    days = [date(2025, 12, 1) + timedelta(days=n) for n in range(800)]
    closed = [day for day in days if live.is_closed_day(day)]
    assert closed  # Thanksgiving, Christmas, the observed Independence Day...
    assert [day for day in days if cached.is_closed_day(day)] == closed
    assert [day for day in days if again.is_closed_day(day)] == closed


def test_the_second_asker_reads_the_file(tmp_path: Path) -> None:
    subdivision_codes("US", tmp_path)
    public_holidays("US", "NY", 2026, tmp_path)
    path = _cache_file(tmp_path)
    data = json.loads(path.read_text(encoding="utf-8"))
    data["subdivisions"]["US"] = ["ZZ"]
    data["years"]["US/NY/2026"]["2026-03-03"] = "Founders' Day"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert subdivision_codes("US", tmp_path) == ("ZZ",)
    assert public_holidays("US", "NY", 2026, tmp_path)[date(2026, 3, 3)] == "Founders' Day"


def test_a_torn_cache_file_is_rebuilt(tmp_path: Path) -> None:
    assert "NY" in subdivision_codes("US", tmp_path)
    _cache_file(tmp_path).write_text('{"subdivisions": {"US": [', encoding="utf-8")
    assert "NY" in subdivision_codes("US", tmp_path)
    assert "US" in country_codes(tmp_path)
    assert "NY" in json.loads(_cache_file(tmp_path).read_text(encoding="utf-8"))["subdivisions"]["US"]


def test_an_unknown_country_is_still_refused_when_the_calendar_is_built(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no public holiday data"):
        calendar_for(replace(default_policy(), country="XX", subdivision=None), tmp_path)
