"""Order import throughput: a Shopify "Export orders" CSV into an empty SQLite desk, twice.

    .venv/bin/python benchmarks/bench_import.py [--orders 10000] [--seed 7]

The export is generated in a temporary folder with the newest 79-column header: N orders of
1 to 4 line items (about 2.5 per order, so about 25,000 rows for 10,000 orders), from about
N/3 customers, some fulfilled, cancelled or partly refunded. Timed: `aftersales import orders
FILE --json` as a new process (start-up included) into an empty SQLite file in a temporary data
folder, then the same command again on the same file, when every order is unchanged.
"""

from __future__ import annotations

import argparse
import random
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

from common import timed_import, write_csv

_HEADER_TEXT = (
    "Name,Email,Financial Status,Paid at,Fulfillment Status,Fulfilled at,Accepts Marketing,"
    "Currency,Subtotal,Shipping,Taxes,Total,Discount Code,Discount Amount,Shipping Method,"
    "Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem compare at price,"
    "Lineitem sku,Lineitem requires shipping,Lineitem taxable,Lineitem fulfillment status,"
    "Billing Name,Billing Street,Billing Address1,Billing Address2,Billing Company,"
    "Billing City,Billing Zip,Billing Province,Billing Country,Billing Phone,Shipping Name,"
    "Shipping Street,Shipping Address1,Shipping Address2,Shipping Company,Shipping City,"
    "Shipping Zip,Shipping Province,Shipping Country,Shipping Phone,Notes,Note Attributes,"
    "Cancelled at,Payment Method,Payment Reference,Refunded Amount,Vendor,"
    "Outstanding Balance,Employee,Location,Device ID,Id,Tags,Risk Level,Source,"
    "Lineitem discount,Tax 1 Name,Tax 1 Value,Tax 2 Name,Tax 2 Value,Tax 3 Name,"
    "Tax 3 Value,Tax 4 Name,Tax 4 Value,Tax 5 Name,Tax 5 Value,Phone,Receipt Number,"
    "Duties,Billing Province Name,Shipping Province Name,Payment ID,Payment Terms Name,"
    "Next Payment Due At,Payment References"
)
HEADER = _HEADER_TEXT.split(",")
PRODUCTS = [
    ("TUM-20-BLK", "Steel Tumbler 20oz - Black", "22.00"),
    ("TUM-20-WHT", "Steel Tumbler 20oz - White", "22.00"),
    ("TUM-30-BLK", "Steel Tumbler 30oz - Black", "28.00"),
    ("LID-CLR", "Slide Lid - Clear", "6.50"),
    ("STR-4", "Steel Straws (4)", "9.00"),
    ("MUG-12", "Camp Mug 12oz", "18.00"),
    ("BTL-1L", "Bottle 1L", "34.00"),
]
COUNTRIES = ["US", "US", "US", "CA", "GB", "DE", "AU"]
EST = timezone(timedelta(hours=-5))
STAMP = "%Y-%m-%d %H:%M:%S %z"


def order_rows(number: int, rng: random.Random) -> list[dict[str, str]]:
    """The rows of one order: the first carries the order-level columns."""
    customer = rng.randrange(max(1, number // 3) + 1)
    placed = datetime(2026, 1, 1, 9, tzinfo=EST) + timedelta(minutes=37 * number)
    lines = [rng.choice(PRODUCTS) for _ in range(rng.choice((1, 2, 2, 3, 3, 4)))]
    quantities = [rng.choice((1, 1, 1, 2, 3)) for _ in lines]
    total = sum(float(price) * q for (_, _, price), q in zip(lines, quantities, strict=True))
    first = {
        "Email": f"customer{customer}@example.com",
        "Financial Status": "paid",
        "Currency": "USD",
        "Total": f"{total:.2f}",
        "Created at": placed.strftime(STAMP),
        "Billing Name": f"Customer {customer}",
        "Shipping Name": f"Customer {customer}",
        "Shipping Country": rng.choice(COUNTRIES),
        "Refunded Amount": "0.00",
        "Id": str(5_000_000 + number),
    }
    roll = rng.random()
    if roll < 0.7:
        first["Fulfilled at"] = (placed + timedelta(days=1)).strftime(STAMP)
    elif roll < 0.75:
        first["Cancelled at"] = (placed + timedelta(hours=5)).strftime(STAMP)
        first["Refunded Amount"] = f"{total:.2f}"
    if 0.7 <= roll < 0.73:
        first["Refunded Amount"] = lines[0][2]
    rows = []
    for index, ((sku, name, price), quantity) in enumerate(zip(lines, quantities, strict=True)):
        row = dict(first) if index == 0 else {}
        row |= {
            "Name": f"#{1000 + number}",
            "Lineitem sku": sku,
            "Lineitem name": name,
            "Lineitem price": price,
            "Lineitem quantity": str(quantity),
        }
        rows.append(row)
    return rows


def write_export(path: Path, orders: int, seed: int) -> int:
    """Write the export; the number of rows written."""
    rng = random.Random(seed)
    return write_csv(path, HEADER, (order_rows(number, rng) for number in range(orders)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="aftersales-import-") as folder:
        path = Path(folder) / "orders_export.csv"
        rows = write_export(path, args.orders, args.seed)
        size = path.stat().st_size / 1e6
        print(f"export: {args.orders:,} orders, {rows:,} rows, {size:.1f} MB ({path.name})")
        print(f"command: aftersales import orders {path.name} --json  (AFTERSALES_DATA_DIR: empty SQLite)")
        data_dir = str(Path(folder) / "data")
        for label in ("first run, empty database", "second run, same file"):
            wall, summary = timed_import("orders", path, data_dir)
            counts = {key: summary[key] for key in ("new", "updated", "unchanged", "failed")}
            print(f"  {label}: {wall:.2f} s wall, {args.orders / wall:,.0f} orders/s, {counts}")


if __name__ == "__main__":
    main()
