"""Merchant Center feeds: TSV and RSS/Atom XML read into items, bad rows named by line or
item, and files that are not feeds (or are XML attacks) refused with where."""

from __future__ import annotations

from pathlib import Path

import pytest

from aftersales.adapters.files.merchant_feed import read_feed
from aftersales.domain.errors import InputError
from aftersales.domain.feed_audit import FeedItem, FeedProblem

TSV = (
    "g:ID\tTitle\tImage Link\tprice\tavailability\tgtin\tcolor\tshipping(country:price)\n"
    "TMB-20-BLK\t20oz tumbler\thttps://cdn.example/b.jpg\t34.00 USD\tin stock\t850012345015\tBlack\tUS:0 USD\n"
    "\n"
    "\tno id\t\t1.00 USD\t\t\t\t\n"
    "TMB-20-BLK\tagain\t\t\t\t\t\t\n"
    '"TMB-20-SLV"\t"20oz tumbler, ""silver"""\t\t34.00 USD\tin_stock\n'
)
RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:g="http://base.google.com/ns/1.0">
  <channel>
    <title>Northwind Tumblers</title>
    <item>
      <g:id>TMB-20-BLK</g:id>
      <title>20oz tumbler (plain RSS title)</title>
      <link>https://northwind.example/products/20oz-tumbler</link>
      <g:price>34.00 USD</g:price>
      <g:gtin> 850012345015 </g:gtin>
      <g:shipping><g:country>US</g:country><g:price>0 USD</g:price></g:shipping>
    </item>
    <item>
      <g:id>TMB-20-SLV</g:id>
      <title>plain</title>
      <g:title>20oz tumbler - Silver</g:title>
    </item>
    <item><title>no id</title></item>
  </channel>
</rss>
"""
ATOM = """<?xml version="1.0"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:g="http://base.google.com/ns/1.0">
  <title>Northwind</title>
  <entry>
    <g:id>MUG-12-WHT</g:id>
    <title>12oz mug</title>
    <link href="https://northwind.example/products/12oz-mug"/>
    <g:availability>out_of_stock</g:availability>
  </entry>
</feed>
"""
BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<rss><channel><item><title>&lol4;</title></item></channel></rss>
"""
XXE = """<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<rss><channel><item><title>&secret;</title></item></channel></rss>
"""


def _write(tmp_path: Path, text: str | bytes, name: str = "feed.txt") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_a_tsv_feed_is_read_by_header_name_and_bad_rows_are_named_by_line(tmp_path: Path) -> None:
    read = read_feed(_write(tmp_path, TSV))

    first, no_id, again, silver = read
    assert first == FeedItem(
        id="TMB-20-BLK",
        where="line 2",
        title="20oz tumbler",
        image_link="https://cdn.example/b.jpg",
        price="34.00 USD",
        availability="in stock",
        gtin="850012345015",
        color="Black",
    )
    assert no_id == FeedProblem("line 4", "no id: Merchant Center needs one on every item")
    assert again == FeedProblem("line 5", "id 'TMB-20-BLK' is also on line 2")
    assert isinstance(silver, FeedItem)
    assert (silver.where, silver.title, silver.gtin) == ("line 6", '20oz tumbler, "silver"', "")


def test_an_rss_feed_prefers_g_attributes_and_names_items_by_number(tmp_path: Path) -> None:
    first, second, third = read_feed(_write(tmp_path, RSS, "feed.xml"))

    assert isinstance(first, FeedItem)
    assert (first.where, first.title, first.link, first.price, first.gtin) == (
        "item 1",
        "20oz tumbler (plain RSS title)",
        "https://northwind.example/products/20oz-tumbler",
        "34.00 USD",
        "850012345015",
    )
    assert isinstance(second, FeedItem)
    assert second.title == "20oz tumbler - Silver"
    assert third == FeedProblem("item 3", "no id: Merchant Center needs one on every item")


def test_an_atom_feed_takes_the_link_from_href(tmp_path: Path) -> None:
    (entry,) = read_feed(_write(tmp_path, ATOM))

    assert entry == FeedItem(
        id="MUG-12-WHT",
        where="item 1",
        title="12oz mug",
        link="https://northwind.example/products/12oz-mug",
        availability="out_of_stock",
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (BILLION_LAUGHS, "feed.txt: refused: the feed has a DTD (<!DOCTYPE …>)"),
        (XXE, "feed.txt: refused: the feed has a DTD (<!DOCTYPE …>)"),
        ("<rss><channel><item><g:id>x</g:id></item></channel></rss>", "feed.txt:1:20: not well-formed XML: unbound prefix"),
        ("<?xml version='1.0'?>\n<rss><channel>\n<item></channel></rss>", "feed.txt:3:8: not well-formed XML: mismatched tag"),
        ("<html><body>hello</body></html>", "feed.txt: not a Merchant Center feed: the root element is <html>"),
        ("sku\tprice\nA\t1.00 USD\n", "feed.txt: not a Merchant Center feed: no id column (found: sku, price)"),
        ("  \n", "feed.txt: the feed is empty"),
        (b"id\ttitle\nA\t\xff\xfe\n", "feed.txt: the feed is not UTF-8 text"),
    ],
)  # fmt: skip
def test_a_file_that_is_not_a_usable_feed_is_refused_with_where(
    tmp_path: Path, text: str | bytes, problem: str
) -> None:
    with pytest.raises(InputError) as raised:
        read_feed(_write(tmp_path, text))

    assert str(raised.value).startswith(f"{tmp_path}/{problem}")


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read the feed"):
        read_feed(tmp_path / "nope.tsv")


def test_the_demo_feed_reads_whole() -> None:
    path = Path(__file__).resolve().parents[2] / "src" / "aftersales" / "data" / "demo_feed.tsv"

    read = read_feed(path)

    assert all(isinstance(item, FeedItem) for item in read)
    assert len(read) == 7
