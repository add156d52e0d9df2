"""Product import throughput: a Shopify "Export products" CSV into an empty SQLite desk, twice.

    .venv/bin/python benchmarks/bench_products_import.py [--products 2500] [--variants 4] [--seed 7]

The export is generated in a temporary folder with the classic 38-column header (the
`Variant Inventory Qty` column included): N products of V variants each (colour × size), one
extra image row per product, inventory tracked on most variants. Timed: `aftersales import
products FILE --json` as a new process (start-up included) into an empty SQLite file in a
temporary data folder, then the same command again on the same file, when every variant is
unchanged.
"""

from __future__ import annotations

import argparse
import random
import tempfile
from pathlib import Path

from common import timed_import, write_csv

_HEADER_TEXT = (
    "Handle,Title,Body (HTML),Vendor,Type,Tags,Published,Option1 Name,Option1 Value,Option2 Name,"
    "Option2 Value,Option3 Name,Option3 Value,Variant SKU,Variant Grams,Variant Inventory Tracker,"
    "Variant Inventory Qty,Variant Inventory Policy,Variant Fulfillment Service,Variant Price,"
    "Variant Compare At Price,Variant Requires Shipping,Variant Taxable,Variant Barcode,Image Src,"
    "Image Position,Image Alt Text,Gift Card,SEO Title,SEO Description,"
    "Google Shopping / Google Product Category,Google Shopping / Gender,Google Shopping / MPN,"
    "Variant Image,Variant Weight Unit,Variant Tax Code,Cost per item,Status"
)
HEADER = _HEADER_TEXT.split(",")
COLOURS = ["Black", "White", "Sage", "Navy", "Coral", "Sand"]
SIZES = ["12oz", "20oz", "30oz", "40oz"]
KINDS = ["Tumbler", "Bottle", "Mug", "Flask", "Cup"]


def product_rows(number: int, variants: int, rng: random.Random) -> list[dict[str, str]]:
    """The rows of one product: its variants (the first with the product's columns), then
    one image row."""
    kind = rng.choice(KINDS)
    handle = f"{kind.lower()}-{number}"
    combos = [(colour, size) for size in SIZES for colour in COLOURS][:variants]
    rows = []
    for index, (colour, size) in enumerate(combos):
        row = {
            "Handle": handle,
            "Option1 Value": colour,
            "Option2 Value": size,
            "Variant SKU": f"{kind[:3].upper()}-{number}-{colour[:3].upper()}-{size}",
            "Variant Grams": "400",
            "Variant Inventory Tracker": "shopify" if rng.random() < 0.9 else "",
            "Variant Inventory Qty": str(rng.randrange(0, 200)),
            "Variant Inventory Policy": "deny",
            "Variant Fulfillment Service": "manual",
            "Variant Price": f"{rng.randrange(12, 60)}.00",
            "Variant Requires Shipping": "TRUE",
            "Variant Taxable": "TRUE",
            "Variant Barcode": f"{rng.randrange(10**12, 10**13)}",
            "Variant Weight Unit": "g",
        }
        if index == 0:
            row |= {
                "Title": f"Steel {kind} No. {number}",
                "Body (HTML)": f"<p>A steel {kind.lower()} that keeps drinks cold.</p>",
                "Vendor": "Northwind",
                "Type": kind,
                "Published": "TRUE",
                "Option1 Name": "Color",
                "Option2 Name": "Size",
                "Image Src": f"https://cdn.example.com/{handle}-1.jpg",
                "Image Position": "1",
                "Gift Card": "FALSE",
                "Status": "active",
            }
        rows.append(row)
    image = {"Handle": handle, "Image Src": f"https://cdn.example.com/{handle}-2.jpg", "Image Position": "2"}
    return [*rows, image]


def write_export(path: Path, products: int, variants: int, seed: int) -> int:
    """Write the export; the number of rows written."""
    rng = random.Random(seed)
    return write_csv(path, HEADER, (product_rows(number, variants, rng) for number in range(products)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=2_500)
    parser.add_argument("--variants", type=int, default=4, help="variants per product (1 to 24)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    variants = args.products * args.variants
    with tempfile.TemporaryDirectory(prefix="aftersales-products-") as folder:
        path = Path(folder) / "products_export.csv"
        rows = write_export(path, args.products, args.variants, args.seed)
        size = path.stat().st_size / 1e6
        print(
            f"export: {args.products:,} products × {args.variants} variants = {variants:,} variants, "
            f"{rows:,} rows, {size:.1f} MB ({path.name})"
        )
        print(f"command: aftersales import products {path.name} --json  (AFTERSALES_DATA_DIR: empty SQLite)")
        data_dir = str(Path(folder) / "data")
        for label in ("first run, empty database", "second run, same file"):
            wall, summary = timed_import("products", path, data_dir)
            counts = {key: summary[key] for key in ("new", "updated", "unchanged", "failed")}
            print(f"  {label}: {wall:.2f} s wall, {variants / wall:,.0f} variants/s, {counts}")


if __name__ == "__main__":
    main()
