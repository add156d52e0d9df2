"""Load the vendored courier format data into the domain's tracking-number formats.

The JSON files under ``aftersales/data/tracking`` are copied unchanged from the published
jkeen/tracking_number_data repository (see SOURCE.md there). That folder is data, not a
Python package, so it is reached through the ``aftersales`` package's resources.
"""

from __future__ import annotations

import functools
import json
from importlib.resources import files
from typing import Any

from aftersales.domain.tracking import CourierFormat, parse_formats


@functools.cache
def load_courier_formats() -> tuple[CourierFormat, ...]:
    """Every vendored format, couriers in file-name order so tie-breaks stay stable."""
    folder = files("aftersales") / "data" / "tracking"
    documents = sorted(
        (entry for entry in folder.iterdir() if entry.name.endswith(".json")),
        key=lambda entry: entry.name,
    )
    couriers: list[dict[str, Any]] = [json.loads(entry.read_text(encoding="utf-8")) for entry in documents]
    return parse_formats(couriers)
