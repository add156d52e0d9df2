"""Signals: the facts a message carries, each with the span of text it came from.

Order numbers, tracking numbers (with carrier), e-mail addresses, money amounts, dates,
photo mentions and image attachments, catalogue SKUs, and the five flags (angry,
asks_refund, mentions_photo, threatens_dispute, asks_human).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from aftersales.domain.text import NormalisedText
from aftersales.domain.tracking import CourierFormat, find_tracking_numbers

FLAG_NAMES: tuple[str, ...] = (
    "angry",
    "asks_refund",
    "mentions_photo",
    "threatens_dispute",
    "asks_human",
)


@dataclass(frozen=True, slots=True)
class Signal:
    kind: str  # order_number, tracking_number, email, money, date, photo, attachment_image, sku, flag
    value: str  # the normalised value (order number digits, amount, carrier:number, flag name ...)
    start: int  # span in the original text; -1 for signals that come from outside the text
    end: int
    detail: str = ""  # carrier name, currency, attachment file name ...

    def quote(self, text: str) -> str:
        if self.start >= 0:
            return text[self.start : self.end]
        return f"{self.value} ({self.detail})" if self.detail else self.value


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content_type: str
    size: int = 0


@dataclass(frozen=True, slots=True)
class CatalogueItem:
    sku: str
    title: str = ""
    variant: str = ""


_ORDER_NUMBER = re.compile(
    r"(?:\border(?:\s*(?:no\.?|nr\.?|num(?:ber)?|id|ref(?:erence)?))?\s*[:#]?\s*#?\s*"
    r"|#\s?)(?P<number>[A-Z]{0,4}-?\d{3,12})\b"
    # not the first group of a phone number ("order 415-555-0134", "415.555.0134")
    r"(?![-. ]\d{3,4}[-. ]\d{3,4}\b)",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
# "1,234.50", "1.234,50", "45.90", "12,50", "45": thousands groups of three and one or two
# decimals, with either mark; never the tail or the head of a longer number.
_AMOUNT = (
    r"(?<![\d.,])(?:\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d{1,3}(?:\.\d{3})+(?:,\d{1,2})?"
    r"|\d+(?:[.,]\d{1,2})?)(?![.,]?\d)"
)
_MONEY = re.compile(
    rf"(?P<symbol>[$€£¥]|\b(?:usd|eur|gbp|cad|aud)\b)\s?(?P<amount>{_AMOUNT})"
    rf"|\b(?P<amount2>{_AMOUNT})\s?"
    r"(?P<code>[€£¥]|\b(?:usd|eur|gbp|cad|aud|dollars?|bucks|euros?|pounds?)\b)",
    re.IGNORECASE,
)
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_DATE = re.compile(
    rf"\b\d{{4}}-\d{{2}}-\d{{2}}\b|\b\d{{1,2}}/\d{{1,2}}(?:/\d{{2,4}})?\b"
    rf"|\b{_MONTH}\.?\s\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s\d{{4}})?\b"
    rf"|\b\d{{1,2}}(?:st|nd|rd|th)?\s(?:of\s)?{_MONTH}\b(?:\s\d{{4}})?"
    r"|\b(?:yesterday|today|tomorrow|last (?:week|month|monday|tuesday|wednesday|thursday|friday"
    r"|saturday|sunday))\b|\b(?:\d+|a|one|two|three|four|five|six|seven|ten) (?:days?|weeks?|months?)"
    r" (?:ago|now|late)\b",
    re.IGNORECASE,
)
_CURRENCY_WORDS: Mapping[str, str] = {
    "$": "USD",
    "€": "EUR",
    "£": "GBP",
    "¥": "JPY",
    "usd": "USD",
    "eur": "EUR",
    "gbp": "GBP",
    "cad": "CAD",
    "aud": "AUD",
    "dollar": "USD",
    "dollars": "USD",
    "bucks": "USD",
    "euro": "EUR",
    "euros": "EUR",
    "pound": "GBP",
    "pounds": "GBP",
}
# Shouting is a tone signal that the normalised text no longer shows.
_SHOUTING = re.compile(r"!{2,}|\?!|\b[A-Z]{4,}\b(?:\W+\b[A-Z]{2,}\b){2,}")
# "Hey!! I'd love to feature your candles 💕": exclamations among warm emoji are excitement
_WARM_EMOJI = re.compile(
    "[\u2764\u263a\U0001f495\U0001f496\U0001f60a\U0001f60d\U0001f970\U0001f64f\U0001f600\U0001f601\U0001f917\u2728\U0001f389\U0001f44d]"
)
# One shouted word ("still NOTHING", "AGAIN", "This is NOT what I ordered") is anger too,
# unless it is a name written in capitals: carriers, codes, the usual acronyms.
_SHOUTED_WORD = re.compile(
    r"(?<![\w@#/.-])(?:[A-Z]{4,}|NOT|WHY|NOW|YOU|DID|AND|ONE|TWO|TEN|HOW)(?![\w/-]|\.\w)"
)
# capitals quoted from a statement or a label ("'NORTHBOUND COFFEE £12.00'") are not shouted
_QUOTED = re.compile(r"(?<!\w)['‘\"“][^'’\"”\n]{1,80}['’\"”](?!\w)")
# A buyer who threatens a dispute or the law is unhappy, whatever words carry it: the flags
# that raise another with them.
IMPLIED_FLAGS: Mapping[str, str] = {"threatens_dispute": "angry"}
_CAPITAL_NAMES = frozenset(
    [
        "USPS",
        "FEDEX",
        "ASAP",
        "HTTP",
        "HTTPS",
        "EVRI",
        "YODEL",
        "HERMES",
        "AMAZON",
        "PRIME",
        "IKEA",
        "NASA",
        "LOL",
        "LMAO",
        "OMG",
        "IMHO",
        "FYI",
        "COVID",
        "SMS",
        "PDF",
        "HTML",
        "JSON",
        "NYC",
        "USB",
        "HDMI",
        "LED",
        "LCD",
        "OLED",
        "RMA",
        "PAYPAL",
        "VISA",
        "AMEX",
        "NIKE",
        "ADIDAS",
        "DPD",
        "GLS",
        "TNT",
        "ROYAL",
        "MAIL",
        "POST",
        "UK",
        "USA",
        "EU",
        "CEO",
        "HBO",
        "ESPN",
        "BBC",
        "CNN",
        "AT&T",
        "XBOX",
        "SONY",
        "WIFI",
        "GPS",
        "SALE",
        "FREE",
        "BOGO",
        "DEAL",
        "DEALS",
        "INFO",
        "GDPR",
        "CCPA",
        "HMRC",
        "UPS",
        "DHL",
    ]
)
# The eye-roll and its kin (upside-down face, clapping): "really loving the fast shipping 🙄".
# A curt word standing as a sentence ("...cracked clean in two. Brilliant.", "Ordered on the
# 11th. Nothing."): sarcasm or exasperation. A word of praise counts so only in a message that
# tells of a fault; "Nothing.", "Again.", "Typical." count anywhere.
_CURT_SENTENCE = r"(?:^|(?<=[.!?…])[ \t]+|\n)(?:{})[ \t]*\.{{1,3}}(?=\s|$)"
_CURT_PRAISE = re.compile(
    _CURT_SENTENCE.format(
        "lovely|brilliant|great|perfect|fantastic|marvell?ous|wonderful|super|terrific|splendid|"
        "charming|cheers for that|thanks for that|really helpful|very helpful|great feature|"
        "good times|nice one|awesome|amazing|incredible|really on brand|cool|impressive"
    ),
    re.IGNORECASE,
)
_CURT_EXASPERATED = re.compile(
    _CURT_SENTENCE.format(
        "nothing|again|seriously|shocking|typical|classic|honestly|just saying|wow|unbelievable|"
        "they weren't|it wasn't|it didn't|they didn't|i'm not|still nothing|gross|not ideal"
    ),
    re.IGNORECASE,
)
_FAULT_TOLD = re.compile(
    r"\b(?:not|never|no|\w+n't|still|again|wrong|missing|empty|broken|crack\w*|late|instead|"
    r"apparently|chip\w*|leak\w*|smash\w*|died|dead|fee|plastic)\b",
    re.IGNORECASE,
)
# Exclamations among thanks and delight are excitement ("Thank you!!", "10/10 mugs!!")
_WARM_WORDS = re.compile(
    r"\b(?:thank you|thanks|love|loved|lovely|gorgeous|amazing|beautiful|happy|excited|yay|omg|"
    r"haha|lol|xx|birthday|congrat\w*)\b",
    re.IGNORECASE,
)
_SARCASM_EMOJI = re.compile(
    "[\U0001f44f\U0001f644\U0001f643\U0001f612\U0001f621\U0001f620\U0001f624\U0001f92c\U0001f47f]"
)
_IMAGE_TYPES = ("image/", "video/")


def order_numbers(text: str) -> list[Signal]:
    return [
        Signal("order_number", m.group("number").lstrip("#").upper(), m.start(), m.end())
        for m in _ORDER_NUMBER.finditer(text)
        if "#" in m.group() or not _looks_like_year(m.group("number"))
    ]


def _looks_like_year(number: str) -> bool:
    """A bare "order 2026" may be a year; "order #2026" is not (Shopify numbers orders from #1001)."""
    return len(number) == 4 and number.startswith(("19", "20"))


def emails(text: str) -> list[Signal]:
    return [Signal("email", m.group().lower(), m.start(), m.end()) for m in _EMAIL.finditer(text)]


def money(text: str) -> list[Signal]:
    found: list[Signal] = []
    for match in _MONEY.finditer(text):
        raw_amount = match.group("amount") or match.group("amount2") or ""
        currency = _CURRENCY_WORDS.get((match.group("symbol") or match.group("code")).lower(), "")
        amount = _decimal(raw_amount)
        if amount is not None:
            found.append(Signal("money", str(amount), match.start(), match.end(), currency))
    return found


def _decimal(raw: str) -> Decimal | None:
    """The last mark followed by one or two digits is the decimal mark; the others group thousands."""
    mark = max(raw.rfind(","), raw.rfind("."))
    if mark >= 0 and len(raw) - mark - 1 <= 2:
        raw = raw[:mark].replace(",", "").replace(".", "") + "." + raw[mark + 1 :]
    else:
        raw = raw.replace(",", "").replace(".", "")
    try:
        return Decimal(raw)
    except InvalidOperation:
        return None


def dates(text: str) -> list[Signal]:
    return [Signal("date", m.group().lower(), m.start(), m.end()) for m in _DATE.finditer(text)]


def tracking_numbers(text: str, formats: Sequence[CourierFormat]) -> list[Signal]:
    return [
        Signal("tracking_number", m.number, m.start, m.end, m.carrier)
        for m in find_tracking_numbers(text, formats)
    ]


def image_attachments(attachments: Iterable[Attachment]) -> list[Signal]:
    return [
        Signal("attachment_image", a.filename, -1, -1, a.content_type)
        for a in attachments
        if a.content_type.lower().startswith(_IMAGE_TYPES)
    ]


def catalogue_mentions(normalised: NormalisedText, catalogue: Sequence[CatalogueItem]) -> list[Signal]:
    """SKUs written as codes ("TMB-20-BLK") or as product titles ("20oz tumbler black")."""
    found: list[Signal] = []
    lowered = normalised.original.lower()
    for item in catalogue:
        for needle in _catalogue_needles(item):
            position = lowered.find(needle)
            if position >= 0:
                found.append(Signal("sku", item.sku, position, position + len(needle), item.title))
                break
    return found


def _catalogue_needles(item: CatalogueItem) -> list[str]:
    needles = [item.sku.lower()]
    if item.title:
        title = item.title.lower()
        needles.append(f"{title} {item.variant.lower()}".strip() if item.variant else title)
    return [n for n in needles if len(n) >= 4]


@dataclass(frozen=True, slots=True)
class FlagPatterns:
    """The compiled patterns behind each flag (from the router's cue data), and the wording
    that reads like a flag but is not: a dispute ruled out, closed, or with another shop."""

    patterns: Mapping[str, tuple[re.Pattern[str], ...]]
    vetoes: Mapping[str, tuple[re.Pattern[str], ...]] = field(default_factory=dict)
    # each flag's patterns as one alternation: one scan says whether any of them matches (most
    # messages raise no flag), before the patterns are tried in order for the one to quote
    any_of: Mapping[str, re.Pattern[str]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        joined = {
            name: re.compile("|".join(f"(?:{p.pattern})" for p in pats))
            for name, pats in self.patterns.items()
            if pats
        }
        object.__setattr__(self, "any_of", joined)


def flags(normalised: NormalisedText, patterns: FlagPatterns) -> list[Signal]:
    found: list[Signal] = []
    for name in FLAG_NAMES:
        any_of = patterns.any_of.get(name)
        if any_of is None or not any_of.search(normalised.text):
            continue
        if any(veto.search(normalised.text) for veto in patterns.vetoes.get(name, ())):
            continue
        for pattern in patterns.patterns.get(name, ()):
            match = pattern.search(normalised.text)
            if match:
                start, end = normalised.original_span(match.start(), match.end())
                found.append(Signal("flag", name, start, end))
                break
    if not any(s.value == "angry" for s in found):
        shout = _shouting(normalised.original)
        if shout:
            found.append(Signal("flag", "angry", shout.start(), shout.end()))
    raised = {s.value for s in found}
    for flag, implied in IMPLIED_FLAGS.items():
        if flag in raised and implied not in raised:
            cause = next(s for s in found if s.value == flag)
            found.append(Signal("flag", implied, cause.start, cause.end))
    return found


def _shouting(text: str) -> re.Match[str] | None:
    """Exclamations (among no warm emoji), a run of capitals, one shouted word that is no name
    and not quoted, or an eye-roll."""
    shouted = _SHOUTING.search(text)
    if shouted and shouted.group().startswith("!") and (_WARM_EMOJI.search(text) or _WARM_WORDS.search(text)):
        shouted = None
    found = shouted or _SARCASM_EMOJI.search(text) or _curt(text)
    if found:
        return found
    quoted = [m.span() for m in _QUOTED.finditer(text)]
    word = next(
        (
            m
            for m in _SHOUTED_WORD.finditer(text)
            if m.group() not in _CAPITAL_NAMES and not any(a <= m.start() < b for a, b in quoted)
        ),
        None,
    )
    if word is None:
        return None
    # all in capitals is an old phone or a habit, not one shouted word
    letters = sum(map(str.isalpha, text))
    return None if sum(map(str.isupper, text)) > 0.6 * letters else word


def _curt(text: str) -> re.Match[str] | None:
    praise = _CURT_PRAISE.search(text)
    return _CURT_EXASPERATED.search(text) or (praise if praise and _FAULT_TOLD.search(text) else None)


def photo_mentions(found_flags: Sequence[Signal]) -> list[Signal]:
    return [Signal("photo", "mentioned", s.start, s.end) for s in found_flags if s.value == "mentions_photo"]
