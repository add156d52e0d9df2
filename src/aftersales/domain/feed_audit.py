"""The feed and catalogue audit: a Google Merchant Center feed read against the shop's
product export, item by item, into findings a person can act on.

An ad that disagrees with the shop turns into support cases: "the ad says in stock" (and
checkout says sold out), "ordered black, got white" (the feed or the variant is named
wrong), a price the customer saw in the ad and was not charged. Merchant Center also
refuses items whose GTIN has a bad check digit or a prefix it does not accept. Each rule
here names the Merchant Center diagnostic it mirrors and where the fix is written back.

Check digits are the maintained ``python-stdnum`` library's (``stdnum.ean``: GTIN-8, -12,
-13, -14); the prefixes Merchant Center refuses are its published rules (restricted
circulation 02, 04 and 2; coupons 98 and 99), checked on the 13-digit form of the number.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from urllib.parse import urlsplit

from stdnum import ean
from stdnum.exceptions import InvalidChecksum, ValidationError

from aftersales.domain.catalogue import ProductVariant
from aftersales.domain.writeback import Target


class FindingKind(StrEnum):
    GTIN_INVALID = "gtin_invalid"
    GTIN_CHECK_DIGIT = "gtin_check_digit"
    GTIN_RESTRICTED_PREFIX = "gtin_restricted_prefix"
    GTIN_COUPON_PREFIX = "gtin_coupon_prefix"
    GTIN_MISSING = "gtin_missing"
    GTIN_MISMATCH = "gtin_mismatch"
    PRICE_INVALID = "price_invalid"
    PRICE_MISMATCH = "price_mismatch"
    AVAILABILITY_INVALID = "availability_invalid"
    AVAILABILITY_MISMATCH = "availability_mismatch"
    COLOR_MISMATCH = "color_mismatch"
    SIZE_MISMATCH = "size_mismatch"
    IMAGE_MISMATCH = "image_mismatch"
    UNMATCHED_ITEM = "unmatched_item"


class Severity(StrEnum):
    ERROR = "error"  # Merchant Center refuses the item, or the ad tells the buyer something untrue
    WARNING = "warning"  # the item runs, with less reach or a dated picture


@dataclass(frozen=True, slots=True)
class Rule:
    target: Target
    severity: Severity
    diagnostic: str  # what Merchant Center shows, or what the finding means


_FEED, _ERROR, _WARNING = Target.FEED_SYNC, Severity.ERROR, Severity.WARNING
RULES: Mapping[FindingKind, Rule] = {
    FindingKind.GTIN_INVALID: Rule(_FEED, _ERROR, "Invalid value [gtin]"),
    FindingKind.GTIN_CHECK_DIGIT: Rule(_FEED, _ERROR, "Invalid value [gtin]: wrong check digit"),
    FindingKind.GTIN_RESTRICTED_PREFIX: Rule(
        _FEED, _ERROR, "Unsupported value due to restricted prefix [gtin]"
    ),
    FindingKind.GTIN_COUPON_PREFIX: Rule(_FEED, _ERROR, "Unsupported coupon value [gtin]"),
    FindingKind.GTIN_MISSING: Rule(_FEED, _WARNING, "Limited performance due to missing value [gtin]"),
    FindingKind.GTIN_MISMATCH: Rule(_FEED, _ERROR, "the feed's GTIN is not the variant's barcode"),
    FindingKind.PRICE_INVALID: Rule(_FEED, _ERROR, "Invalid value [price]"),
    FindingKind.PRICE_MISMATCH: Rule(_FEED, _ERROR, "Mismatched value (page crawl) [price]"),
    FindingKind.AVAILABILITY_INVALID: Rule(_FEED, _ERROR, "Invalid value [availability]"),
    FindingKind.AVAILABILITY_MISMATCH: Rule(_FEED, _ERROR, "Mismatched value (page crawl) [availability]"),
    FindingKind.COLOR_MISMATCH: Rule(Target.SKU_NAMING, _ERROR, "the feed's color is not the variant's"),
    FindingKind.SIZE_MISMATCH: Rule(Target.PRODUCT_PAGE, _ERROR, "the feed's size is not the variant's"),
    FindingKind.IMAGE_MISMATCH: Rule(Target.VARIANT_IMAGES, _WARNING, "the ad shows another image"),
    FindingKind.UNMATCHED_ITEM: Rule(_FEED, _WARNING, "the feed advertises an item the shop does not list"),
}

# who owns a write-back target (a policy lead role): the demo policy gives marketing
# "product pages, feed and SKU data"
OWNER_ROLES: Mapping[Target, str] = {
    Target.FEED_SYNC: "marketing",
    Target.SKU_NAMING: "marketing",
    Target.PRODUCT_PAGE: "marketing",
    Target.VARIANT_IMAGES: "marketing",
}

# GTIN prefixes Merchant Center refuses, on the 13-digit form (a UPC-A gains a leading 0)
RESTRICTED_PREFIXES = ("02", "04", "2")
COUPON_PREFIXES = ("98", "99")


class Availability(StrEnum):
    IN_STOCK = "in_stock"
    OUT_OF_STOCK = "out_of_stock"
    PREORDER = "preorder"
    BACKORDER = "backorder"


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedItem:
    """One item of a feed, its attributes as written (parsed by the audit, so a bad value is a
    finding about that item, not a failed file)."""

    id: str
    where: str  # "line 12" of a TSV feed, "item 3" of an XML one
    title: str = ""
    link: str = ""
    image_link: str = ""
    price: str = ""
    sale_price: str = ""
    availability: str = ""
    gtin: str = ""
    mpn: str = ""
    brand: str = ""
    identifier_exists: str = ""
    color: str = ""
    size: str = ""
    item_group_id: str = ""


@dataclass(frozen=True, slots=True)
class FeedProblem:
    """A row or element of a feed that is not an item: where, and why."""

    where: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedFinding:
    kind: FindingKind
    sku: str  # the variant's SKU; the feed id when no variant matched
    feed_id: str
    where: str
    feed_value: str
    shop_value: str

    @property
    def rule(self) -> Rule:
        return RULES[self.kind]

    @property
    def key(self) -> str:
        """The write-back task's key: the same defect on the same SKU is the same task."""
        return f"feed|{self.kind.value}|{self.sku}"


@dataclass(frozen=True, slots=True)
class Price:
    amount: Decimal
    currency: str  # ISO 4217


class InvalidValue(ValueError):
    """A feed value that cannot be read; the message says why."""


_PRICE = re.compile(
    r"\s*(?:(?P<before>[A-Za-z]{3})\s*)?"
    r"(?P<amount>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"\s*(?P<after>[A-Za-z]{3})?\s*"
)
_SPACES = re.compile(r"\s+")
_COLOR_OPTIONS = frozenset({"color", "colour"})
_SIZE_OPTIONS = frozenset({"size"})
_NO = frozenset({"no", "false", "n", "0"})
# phrases that tie a pre-purchase message to a feed's availability ("the ad says in stock")
STOCK_PHRASES = ("in stock", "ad says", "sold out", "out of stock")


def parse_price(text: str) -> Price:
    """A feed price: "12.00 USD" (the specification's form), also "USD 12.00" and "1,299.00 USD"."""
    match = _PRICE.fullmatch(text)
    if match is None:
        raise InvalidValue(f"{text!r} is not a price like 12.00 USD")
    before, after = match["before"], match["after"]
    if bool(before) == bool(after):
        raise InvalidValue(f"{text!r} needs one ISO 4217 currency code, like 12.00 USD")
    return Price(Decimal(match["amount"].replace(",", "")), (before or after).upper())


def normalise_availability(text: str) -> Availability | None:
    """in_stock, out_of_stock, preorder, backorder; the older "in stock" and "pre-order" too.
    None for anything else."""
    value = _SPACES.sub("_", text.strip().casefold()).replace("-", "_")
    value = {"pre_order": "preorder", "back_order": "backorder"}.get(value, value)
    try:
        return Availability(value)
    except ValueError:
        return None


def gtin_defect(value: str) -> FindingKind | None:
    """What Merchant Center refuses about a GTIN, or None when it takes it."""
    if not value.isascii() or not value.isdigit():
        return FindingKind.GTIN_INVALID  # spaces, dashes and letters are refused, not repaired
    try:
        ean.validate(value)
    except InvalidChecksum:
        return FindingKind.GTIN_CHECK_DIGIT
    except ValidationError:
        return FindingKind.GTIN_INVALID  # not 8, 12, 13 or 14 digits
    thirteen = value.zfill(14)[1:]  # a GTIN-14's indicator digit is not part of the prefix
    if thirteen.startswith(COUPON_PREFIXES):
        return FindingKind.GTIN_COUPON_PREFIX
    if thirteen.startswith(RESTRICTED_PREFIXES):
        return FindingKind.GTIN_RESTRICTED_PREFIX
    return None


def same_gtin(first: str, second: str) -> bool:
    """The same number written as GTIN-12, -13 or -14 (leading zeros aside)."""
    return bool(first) and first.isdigit() and first.zfill(14) == second.strip().zfill(14)


class Catalogue:
    """The shop's variants, found the ways a feed names them: by SKU (the item's id or mpn),
    by GTIN, then by item group (the product's handle) and colour/size."""

    def __init__(self, variants: Iterable[ProductVariant]) -> None:
        self.by_sku: dict[str, ProductVariant] = {}
        self.by_gtin: dict[str, ProductVariant] = {}
        self.by_handle: dict[str, list[ProductVariant]] = {}
        for variant in variants:
            if variant.sku:
                self.by_sku.setdefault(variant.sku.casefold(), variant)
            if variant.gtin.isdigit():
                self.by_gtin.setdefault(variant.gtin.zfill(14), variant)
            self.by_handle.setdefault(variant.handle.casefold(), []).append(variant)

    def match(self, item: FeedItem) -> ProductVariant | None:
        for name in (item.id, item.mpn):
            if name and (variant := self.by_sku.get(name.casefold())):
                return variant
        if item.gtin.isdigit() and (variant := self.by_gtin.get(item.gtin.zfill(14))):
            return variant
        group = self.by_handle.get(item.item_group_id.casefold(), []) if item.item_group_id else []
        for variant in group:
            if _same_words(item.color, _option(variant, _COLOR_OPTIONS)) and _same_words(
                item.size, _option(variant, _SIZE_OPTIONS)
            ):
                return variant
        return None


def audit(items: Iterable[FeedItem], catalogue: Catalogue, currency: str = "") -> list[FeedFinding]:
    """Every finding, item by item in feed order. ``currency``: the store's, when known."""
    findings: list[FeedFinding] = []
    for item in items:
        variant = catalogue.match(item)
        findings.extend(_gtin_findings(item, variant))
        findings.extend(_price_findings(item, variant, currency))
        findings.extend(_availability_findings(item, variant))
        if variant is None:
            findings.append(_finding(FindingKind.UNMATCHED_ITEM, item, None, item.id, ""))
            continue
        findings.extend(_option_findings(item, variant))
        findings.extend(_image_findings(item, variant))
    return findings


def _finding(
    kind: FindingKind, item: FeedItem, variant: ProductVariant | None, feed_value: str, shop_value: str
) -> FeedFinding:
    sku = variant.sku if variant is not None and variant.sku else item.id
    return FeedFinding(
        kind=kind, sku=sku, feed_id=item.id, where=item.where, feed_value=feed_value, shop_value=shop_value
    )


def _gtin_findings(item: FeedItem, variant: ProductVariant | None) -> list[FeedFinding]:
    barcode = variant.gtin if variant is not None else ""
    if not item.gtin:
        if item.identifier_exists.strip().casefold() in _NO:
            return []  # the brand assigns no GTIN: nothing is missing
        return [_finding(FindingKind.GTIN_MISSING, item, variant, "", barcode)]
    if (defect := gtin_defect(item.gtin)) is not None:
        return [_finding(defect, item, variant, item.gtin, barcode)]
    if barcode and not same_gtin(item.gtin, barcode):
        return [_finding(FindingKind.GTIN_MISMATCH, item, variant, item.gtin, barcode)]
    return []


def _price_findings(item: FeedItem, variant: ProductVariant | None, currency: str) -> list[FeedFinding]:
    """The price a buyer sees in the ad (the sale price when there is one) against the shop's."""
    shown = item.sale_price or item.price
    shop = "" if variant is None or variant.price is None else f"{variant.price} {currency}".strip()
    try:
        price = parse_price(shown)
    except InvalidValue:
        return [_finding(FindingKind.PRICE_INVALID, item, variant, shown, shop)]
    if variant is None or variant.price is None:
        return []
    if price.amount != variant.price or (currency and price.currency != currency.upper()):
        return [_finding(FindingKind.PRICE_MISMATCH, item, variant, shown, shop)]
    return []


def _availability_findings(item: FeedItem, variant: ProductVariant | None) -> list[FeedFinding]:
    state = normalise_availability(item.availability)
    if state is None:
        return [_finding(FindingKind.AVAILABILITY_INVALID, item, variant, item.availability, "")]
    if variant is None:
        return []
    has_stock = variant.status in ("", "active") and (variant.inventory is None or variant.inventory > 0)
    ad_in_stock = state is Availability.IN_STOCK and not has_stock  # "the ad says in stock"
    # a lost sale; an untracked variant is always for sale, so only a counted one can be
    ad_sold_out = state is Availability.OUT_OF_STOCK and has_stock and variant.inventory is not None
    if ad_in_stock or ad_sold_out:
        return [
            _finding(FindingKind.AVAILABILITY_MISMATCH, item, variant, item.availability, _stock(variant))
        ]
    return []


def _stock(variant: ProductVariant) -> str:
    if variant.status not in ("", "active"):
        return f"status {variant.status}"
    return f"inventory {variant.inventory}" if variant.inventory is not None else "not tracked"


def _option_findings(item: FeedItem, variant: ProductVariant) -> list[FeedFinding]:
    findings = []
    for kind, feed_value, names in (
        (FindingKind.COLOR_MISMATCH, item.color, _COLOR_OPTIONS),
        (FindingKind.SIZE_MISMATCH, item.size, _SIZE_OPTIONS),
    ):
        shop_value = _option(variant, names)
        if feed_value and shop_value and not _same_words(feed_value, shop_value):
            findings.append(_finding(kind, item, variant, feed_value, shop_value))
    return findings


def _image_findings(item: FeedItem, variant: ProductVariant) -> list[FeedFinding]:
    if variant.image_link and not _same_link(item.image_link, variant.image_link):
        return [_finding(FindingKind.IMAGE_MISMATCH, item, variant, item.image_link, variant.image_link)]
    return []


def _option(variant: ProductVariant, names: frozenset[str]) -> str:
    return next((value for name, value in variant.options if name.strip().casefold() in names), "")


def _same_words(first: str, second: str) -> bool:
    def words(text: str) -> str:
        return _SPACES.sub(" ", text.replace("/", " / ")).strip().casefold()

    return words(first) == words(second)


def _same_link(first: str, second: str) -> bool:
    """The same image: host and path alike (a CDN's ?v= version and http/https aside)."""

    def place(link: str) -> tuple[str, str]:
        parts = urlsplit(link.strip())
        return parts.netloc.casefold(), parts.path

    return bool(first.strip()) and place(first) == place(second)


# ---------------------------------------------------------------------------- linking cases


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseRef:
    """A case as the audit links it: enough to name it in a report."""

    id: int
    route: str
    subject: str
    is_open: bool


@dataclass(frozen=True, slots=True)
class CaseLink:
    case: CaseRef
    why: str  # "same SKU", "wrong item on this SKU", "says in stock"


def mentions(variant: ProductVariant | None, sku: str) -> tuple[str, ...]:
    """How a customer may name the item in a message: its SKU, or its title and variant
    ("20oz tumbler red"), lower-cased; too short to be telling is left out."""
    needles = [sku.casefold()]
    if variant is not None and variant.title:
        needles.append(f"{variant.title} {variant.variant_key}".strip().casefold())
    return tuple(needle for needle in needles if len(needle) >= 4)


def links_for(
    finding: FeedFinding, on_sku: Sequence[CaseRef], saying_stock: Sequence[CaseRef] = ()
) -> tuple[CaseLink, ...]:
    """The cases a finding explains. A colour or size finding explains the wrong-item cases on
    its SKU; an availability finding, the cases on its SKU and the messages that name the item
    and say "in stock" or "sold out"; any other finding, every case on its SKU."""
    if finding.kind in (FindingKind.COLOR_MISMATCH, FindingKind.SIZE_MISMATCH):
        return tuple(
            CaseLink(case, "wrong item on this SKU") for case in on_sku if case.route == "wrong_item"
        )
    links = {case.id: CaseLink(case, "same SKU") for case in on_sku}
    if finding.kind is FindingKind.AVAILABILITY_MISMATCH:
        for case in saying_stock:
            links.setdefault(case.id, CaseLink(case, "says in stock"))
    return tuple(links[case_id] for case_id in sorted(links))
