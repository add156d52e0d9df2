"""E-mail bytes → InboundMessage: MIME structure, charsets, quoted replies and attachments.

Built on the standard library ``email`` package (``policy.default``). ``parse_email`` never raises for
any bytes: input that cannot be read as mail becomes a ``ParseProblem`` with the reason, so one bad
message never stops an import. Nothing here stores anything; the caller keeps the attachment bytes.
"""

from __future__ import annotations

import codecs
import functools
import hashlib
import re
from collections.abc import Collection, Iterable
from datetime import datetime
from email import policy
from email.headerregistry import BaseHeader, HeaderRegistry
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses
from html import unescape
from html.parser import HTMLParser
from typing import Any, TypeAlias

from mailparser_reply.parser import EmailMessage as ReplyText  # type: ignore[import-untyped]

from aftersales.adapters.mail.mime_scan import Lifted, lift_large_bodies, mime_part_count
from aftersales.adapters.mail.screen import auto_kind_of, case_hint_of, leaf_parts
from aftersales.domain.messages import AttachmentMeta, Channel, InboundMessage, ParseProblem
from aftersales.domain.values import BadValue, id_or_none, mail_date_or_none

ParsedMessage: TypeAlias = tuple[InboundMessage, list[tuple[AttachmentMeta, bytes]]]

# Without one of these the bytes are not mail: the parser accepts anything and calls it a body.
_MAIL_HEADERS = ("from", "to", "subject", "date", "message-id")
_KEPT_HEADERS = frozenset(
    {
        "message-id",
        "in-reply-to",
        "references",
        "from",
        "to",
        "subject",
        "date",
        "auto-submitted",
        "list-id",
        "list-unsubscribe",
        "list-post",
        "precedence",
        "return-path",
    }
)
# Single-byte charsets decode any bytes, so a wrong declaration never fails; valid non-ASCII UTF-8 is
# almost never an accident, so it is tried first when one of these is declared.
_SINGLE_BYTE = frozenset({"ascii", "iso8859-1", "iso8859-15", "cp1252"})
# Codecs that are not mail charsets: slow on hostile input, or able to forge characters.
_REFUSED_CODECS = frozenset({"punycode", "idna", "unicode-escape", "raw-unicode-escape"})
_SURROGATE = re.compile("[\ud800-\udfff]")
_LINE_BREAK = re.compile(r"\r\n?|\n")
_ANGLE_ID = re.compile(r"<([^<>\s]+)>")
_ANY_TAG = re.compile(r"<[^<>]*>")
_DANGLING_LT = re.compile(r"<(?=[^<>]*(?:<|$))")
_MARKED_SECTION = re.compile(r"<!\[[^<>]*>")
# The shape nearly every From and To takes: plain words and a plain address in angle brackets
# ("Ana Silva <ana.silva@example.com>"), the bracketed address alone, or the bare address. The
# header registry reads such a value back as exactly those words and that address, but its
# RFC 5322 parser cost a tenth of a bulk-intake worker's time, and a From is new for nearly
# every sender, so no cache helps. Anything else (quotes, comments, encoded words, groups,
# lists, folded or 8-bit text) still goes to the registry. Atoms here leave out "=" and "?",
# which could start an encoded word the registry would decode.
_PLAIN_ATOM = r"[A-Za-z0-9!#$%&'*+/^_`{|}~-]+"
_PLAIN_ADDRESS = rf"{_PLAIN_ATOM}(?:\.{_PLAIN_ATOM})*@{_PLAIN_ATOM}(?:\.{_PLAIN_ATOM})*"
_PLAIN_MAILBOX = re.compile(
    rf"(?:(?P<name>{_PLAIN_ATOM}(?: {_PLAIN_ATOM})*) )?<(?P<angled>{_PLAIN_ADDRESS})>|(?P<bare>{_PLAIN_ADDRESS})"
)

_REPLY_LANGUAGES = ("en", "de", "fr", "es", "it", "nl")
# mail-parser-reply's header patterns take time quadratic in a line's length (a 40 kB line starting
# with "On " took 45 s), so it only ever sees lines of at most _LINE_CAP characters from the first
# _SCAN_CAP characters. Longer lines are split with a private-use mark that is removed afterwards.
_LINE_CAP = 300
_SCAN_CAP = 32_000
_SPLIT_MARK = "\ue000"


class _OneClassPerName(HeaderRegistry):
    """The standard header registry, but it makes each header name's class once: the standard
    one makes a new class for every header it parses, which cost as much as parsing a short
    header. Those classes keep nothing of their own, so one per name serves every header."""

    def __init__(self) -> None:
        super().__init__()
        self._classes: dict[str, type[BaseHeader]] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        key = name.lower()
        made = self._classes.get(key)
        if made is None:
            made = self._classes[key] = super().__getitem__(key)
        return made


_REGISTRY = _OneClassPerName()
_CACHED_HEADER_LIMIT = 998  # the longest line RFC 5322 allows; longer values are rare, not worth keeping
# The header parser is superlinear (a 1 MB subject of encoded words took 42 s); no header a person
# writes is longer than this, so longer ones are cut before parsing.
_HEADER_CAP = 4_000
_REFERENCES_KEPT = 100  # the thread root and the most recent ids are the ones threading uses
# the widest values the messages table takes (see adapters/db/schema.py); an address longer
# than RFC 5321 allows is no address at all
_ID_WIDTH, _ADDRESS_WIDTH, _NAME_WIDTH, _SUBJECT_WIDTH = 998, 320, 200, 998
# No person's mail has this many MIME parts, and parsing costs time in their number (50,000
# tiny parts took 42 s): a message with more is quarantined before it is parsed.
MAX_MIME_PARTS = 500
# A message keeps its first MAX_ATTACHMENTS attachments; the rest are dropped with a note in
# its text, so the message itself still reaches the desk.
MAX_ATTACHMENTS = 50


@functools.lru_cache(maxsize=512)
def _cached_header(name: str, value: str) -> Any:
    return _REGISTRY(name, value)


def _header_object(name: str, value: str) -> Any:
    """The policy's header factory. MIME helpers (get_body, get_content_type, get_filename) parse a
    header again on every call, which was 70 % of the time; header objects are never changed after
    they are made, so equal headers can share one."""
    if len(value) <= _CACHED_HEADER_LIMIT:
        return _cached_header(name, value)
    return _REGISTRY(name, value[:_HEADER_CAP])


_POLICY = policy.default.clone(header_factory=_header_object)


def parse_email(
    data: bytes, *, source: str, received_at: datetime, own_addresses: Collection[str] = ()
) -> ParsedMessage | ParseProblem:
    """One message from its raw bytes, with each attachment's bytes; or why it cannot be read.

    ``received_at`` (aware) stands in for a missing or broken Date header; ``own_addresses`` are the
    store's addresses, whose mail is screened out as OWN_MAIL.
    """
    if received_at.utcoffset() is None:
        raise ValueError("received_at must be timezone-aware")
    if not data.strip():
        return ParseProblem(source, "empty message")
    parts = mime_part_count(data)
    if parts > MAX_MIME_PARTS:
        return ParseProblem(source, f"message has {parts:,} MIME parts, over the cap of {MAX_MIME_PARTS}")
    try:
        lifted = lift_large_bodies(data)  # large attachments are decoded apart (mime_scan)
        msg = BytesParser(policy=_POLICY).parsebytes(lifted.data)
        if not any(name in msg for name in _MAIL_HEADERS):
            return ParseProblem(source, "not an e-mail: no From, To, Subject, Date or Message-ID header")
        return _parsed(msg, data, received_at, own_addresses, lifted)
    except BadValue as problem:
        return ParseProblem(source, str(problem))
    except Exception as error:
        # The stdlib parser has raised IndexError, HeaderParseError and RecursionError on hostile
        # input over the years; whatever it raises, this message is quarantined, not the import.
        return ParseProblem(source, f"cannot read the message: {type(error).__name__}: {error}")


def dedupe_key(message_id: str, from_address: str, date_text: str, body: str) -> str:
    """Message-ID plus a short hash of sender, date and body: carriers reuse Message-IDs.

    ``date_text`` is the sent time as ISO text, or "" when the message has none, so the same bytes
    give the same key whenever they are received.
    """
    digest = hashlib.sha256("\x1f".join((from_address, date_text, body)).encode("utf-8"))
    return f"{message_id}|{digest.hexdigest()[:16]}"


def generated_message_id(data: bytes) -> str:
    """A stable stand-in Message-ID for input without one (``.invalid`` is reserved: never real)."""
    return f"{hashlib.sha256(data).hexdigest()[:32]}@aftersales.invalid"


def new_text(text: str) -> str:
    """What the sender just wrote: quoted replies and signatures cut; the whole text if nothing is left."""
    whole = text.strip()
    head = text[:_SCAN_CAP]
    reply = ReplyText(
        text=_split_long_lines(head),
        languages=list(_REPLY_LANGUAGES),
        keep_hyphen_lists=True,
        **reply_patterns(),
    ).read()
    if not reply.replies:
        return whole
    first = reply.replies[0]
    body = str(first.body).replace(_SPLIT_MARK + "\n", "").replace(_SPLIT_MARK, "").strip()
    cut = len(reply.replies) > 1 or bool(first.signatures) or bool(first.disclaimers)
    if not body or (len(head) < len(text) and not cut):
        return whole
    return body


@functools.cache
def reply_patterns() -> dict[str, re.Pattern[str]]:
    """mail-parser-reply's three patterns for ``_REPLY_LANGUAGES``, made as it makes them.

    It joins and looks them up anew for every message it reads (a third of its time), unless
    they are given to it through these fields, so they are made once and given to each message.
    """
    sample = ReplyText(text="", languages=list(_REPLY_LANGUAGES), keep_hyphen_lists=True)
    return {
        "_header_regex": sample.HEADER_REGEX,
        "_disclaimers_regex": sample.DISCLAIMERS_REGEX,
        "_signature_regex": sample.SIGNATURE_REGEX,
    }


def html_to_text(html: str) -> str:
    """Readable text from an HTML body: tags dropped, blocks on their own lines; nothing is run."""
    parser = _TextOnly()
    try:
        parser.feed(_tame_html(html))
        parser.close()
        text = "".join(parser.chunks)
    except AssertionError:
        # _markupbase still asserts on some malformed declarations; plain tag removal is enough then.
        text = unescape(_ANY_TAG.sub(" ", html))
    lines = (line.strip() for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _tame_html(html: str) -> str:
    """HTML html.parser gets through in linear time.

    On Python 3.11.7 it is quadratic on unclosed comments, tags and marked sections (288 kB of
    "<!--<!--x" took 54 s). So comments go first (an unclosed one hides the rest, as in browsers),
    every "<" with no ">" before the next "<" becomes text, and <![...]> sections are dropped.
    """
    kept: list[str] = []
    at = 0
    while (start := html.find("<!--", at)) >= 0:
        kept.append(html[at:start])
        end = html.find("-->", start + 4)
        at = len(html) if end < 0 else end + 3
    kept.append(html[at:])
    return _MARKED_SECTION.sub("", _DANGLING_LT.sub("&lt;", "".join(kept)))


def clean_text(text: str) -> str:
    """Text safe to store: raw 8-bit bytes the parser kept as surrogates decoded, NUL removed.

    PostgreSQL refuses NUL in text, and lone surrogates cannot be encoded as UTF-8 at all.
    """
    if _SURROGATE.search(text):
        try:
            text = decode_bytes(text.encode("utf-8", "surrogateescape"), None)
        except UnicodeEncodeError:
            text = text.encode("utf-8", "replace").decode("utf-8")
    return text.replace("\x00", "")


def decode_bytes(payload: bytes, declared: str | None) -> str:
    """Text from bytes in a declared, missing, unknown or wrong charset (stack notes, pitfall 12).

    ``get_content()`` decodes with errors="replace", so a wrong charset would silently become U+FFFD;
    instead each candidate is tried strictly, and latin-1, which maps every byte, ends the chain.
    """
    for encoding in _candidate_charsets(declared):
        try:
            return payload.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
    return payload.decode("latin-1")


def _candidate_charsets(declared: str | None) -> tuple[str, ...]:
    try:
        name = codecs.lookup(declared).name if declared else ""
    except (LookupError, ValueError):
        name = ""
    if not name or name in _REFUSED_CODECS:
        return ("utf-8", "cp1252")
    if name in _SINGLE_BYTE:
        return ("utf-8", name, "cp1252")
    return (name, "utf-8", "cp1252")


def _parsed(
    msg: EmailMessage,
    data: bytes,
    received_at: datetime,
    own_addresses: Collection[str],
    lifted: Lifted | None = None,
) -> ParsedMessage:
    text_part, html_part = _body_parts(msg)
    html = _text_of(html_part)
    plain = _text_of(text_part)
    full_body = plain if plain.strip() else html_to_text(html)
    body = new_text(full_body)
    from_name, sender = _sender(msg)
    from_address = sender if "@" in sender and len(sender) <= _ADDRESS_WIDTH else ""
    message_id = next(iter(_ids(msg, "message-id")), "") or generated_message_id(data)
    sent = _date(msg)
    subject = _header_text(msg, "subject")[:_SUBJECT_WIDTH]
    attachments, attached = _attachments(
        msg, body_parts=(text_part, html_part), lifted=lifted or Lifted(data)
    )
    if attached > len(attachments):
        note = (
            f"\n\n[aftersales kept the first {len(attachments)} of {attached} attachments; "
            "the rest were not stored]"
        )
        body, full_body = body + note, full_body + note
    message = InboundMessage(
        message_id=message_id,
        dedupe_key=dedupe_key(message_id, from_address, sent.isoformat() if sent else "", body),
        channel=Channel.EMAIL,
        from_address=from_address,
        from_name=from_name[:_NAME_WIDTH],
        to_addresses=_recipients(msg),
        subject=subject,
        sent_at=sent or received_at,
        body=body,
        full_body=full_body,
        html=html,
        in_reply_to=next(iter(_ids(msg, "in-reply-to")), ""),
        references=_references(msg),
        attachments=tuple(meta for meta, _ in attachments),
        auto_kind=auto_kind_of(msg, sender=sender, own_addresses=own_addresses),
        case_hint=_case_hint(subject),
        raw_headers=_raw_headers(msg),
    )
    return message, attachments


# ----------------------------------------------------------------------------- headers


def _raw_header(msg: EmailMessage, name: str) -> str | None:
    """The first ``name`` header as received (unfolded, 8-bit bytes decoded), or None."""
    for key, value in msg.raw_items():
        if key.lower() == name:
            return _unfold(value)
    return None


def _unfold(value: object) -> str:
    return _LINE_BREAK.sub("", clean_text(str(value))).strip()


def _header_text(msg: EmailMessage, name: str) -> str:
    """A header's value with RFC 2047 words decoded ("=?iso-8859-1?q?Gr=F6=DFe?=" → "Größe")."""
    raw = _raw_header(msg, name)
    if raw is None:
        return ""
    try:
        return clean_text(str(_POLICY.header_factory(name, raw)))
    except Exception:
        # Same defence as in parse_email, but here one odd header keeps the rest of the message.
        return raw


def _addresses(msg: EmailMessage, name: str) -> list[tuple[str, str]]:
    """(display name, lower-cased address) pairs of an address header."""
    raw = _raw_header(msg, name)
    if raw is None:
        return []
    if len(raw) > _HEADER_CAP:
        raw = raw[:_HEADER_CAP].rsplit(",", 1)[0]  # whole addresses only
    plain = plain_mailbox(raw)
    if plain is not None:
        return [(plain[0], plain[1].lower())]
    try:
        header = _POLICY.header_factory(name, raw)
        pairs = [(str(a.display_name), str(a.addr_spec)) for a in header.addresses]
    except Exception:
        pairs = getaddresses([raw])
    return [(clean_text(shown).strip(), clean_text(address).strip().lower()) for shown, address in pairs]


def plain_mailbox(value: str) -> tuple[str, str] | None:
    """(display name, address) of an address header holding one plain mailbox, as the header
    registry reads it; None for any other value (see ``_PLAIN_MAILBOX``)."""
    found = _PLAIN_MAILBOX.fullmatch(value)
    if found is None:
        return None
    return found.group("name") or "", found.group("angled") or found.group("bare")


def _sender(msg: EmailMessage) -> tuple[str, str]:
    found = _addresses(msg, "from")
    return found[0] if found else ("", "")


def _recipients(msg: EmailMessage) -> tuple[str, ...]:
    """To and Cc: a customer who copies the desk in still writes to it."""
    seen = [address for header in ("to", "cc") for _, address in _addresses(msg, header)]
    return tuple(dict.fromkeys(address for address in seen if "@" in address))


def _ids(msg: EmailMessage, name: str) -> list[str]:
    """Message ids without angle brackets; bare ids too, since some mailers omit the brackets.

    Read from the raw value: ids hold no encoded words, and a regex stays fast on any length.
    """
    value = _raw_header(msg, name) or ""
    found = _ANGLE_ID.findall(value)
    ids = found if found else [token.strip("<>") for token in value.split() if token.strip("<>")]
    return [found_id[:_ID_WIDTH] for found_id in ids]


def _case_hint(subject: str) -> str:
    """The "[case N]" tag's number when it can be a case (1 to MAX_ID), else "": a tag of 20
    digits names no case, and the mail is still taken in."""
    number = id_or_none(case_hint_of(subject))
    return str(number) if number is not None else ""


def _references(msg: EmailMessage) -> tuple[str, ...]:
    found = _ids(msg, "references")
    if len(found) > _REFERENCES_KEPT:
        found = [found[0], *found[1 - _REFERENCES_KEPT :]]
    return tuple(found)


def _date(msg: EmailMessage) -> datetime | None:
    """The Date header as an aware datetime; None when missing, unreadable or without an offset
    (the mail counts from when it was received). Out of range (year 9999) raises BadValue: the
    mail is quarantined with that reason."""
    raw = _raw_header(msg, "date")
    return mail_date_or_none(raw) if raw else None


def _raw_headers(msg: EmailMessage) -> tuple[tuple[str, str], ...]:
    return tuple(
        (name, _unfold(value)[:_HEADER_CAP])
        for name, value in msg.raw_items()
        if name.lower() in _KEPT_HEADERS
    )


# ----------------------------------------------------------------------------- body and attachments


def _body_parts(msg: EmailMessage) -> tuple[EmailMessage | None, EmailMessage | None]:
    plain = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    return (
        plain if isinstance(plain, EmailMessage) else None,
        html if isinstance(html, EmailMessage) else None,
    )


def _text_of(part: EmailMessage | None) -> str:
    if part is None:
        return ""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    text = decode_bytes(payload, part.get_content_charset())
    return clean_text(_LINE_BREAK.sub("\n", text))


def _attachments(
    msg: EmailMessage, *, body_parts: Iterable[EmailMessage | None], lifted: Lifted
) -> tuple[list[tuple[AttachmentMeta, bytes]], int]:
    """Every part that is not the body and has a filename, is marked attachment, or is an image:
    the first MAX_ATTACHMENTS of them with their bytes, and how many there are in all."""
    skipped = {id(part) for part in body_parts if part is not None}
    found: list[tuple[AttachmentMeta, bytes]] = []
    attached = 0
    for number, part in enumerate(leaf_parts(msg), start=1):
        if id(part) in skipped or not _is_attachment(part):
            continue
        attached += 1
        if attached <= MAX_ATTACHMENTS:
            content = lifted.content_of(part)
            content = _part_bytes(part) if content is None else content
            found.append((_meta(part, content, number), content))
    return found, attached


def _is_attachment(part: EmailMessage) -> bool:
    return (
        bool(part.get_filename())
        or part.get_content_disposition() == "attachment"
        or part.get_content_maintype() == "image"
    )


def _part_bytes(part: EmailMessage) -> bytes:
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes):
        return payload
    # An attached message (message/rfc822) is a list of parsed messages: keep them as a mail program
    # would save them. compat32 writes the headers back as received instead of refolding them.
    inner = part.get_payload()
    if not isinstance(inner, list):
        return b""
    try:
        return b"".join(item.as_bytes(policy=policy.compat32) for item in inner if isinstance(item, Message))
    except Exception:
        return b""


def _meta(part: EmailMessage, content: bytes, number: int) -> AttachmentMeta:
    filename = _safe_filename(part.get_filename() or "")
    return AttachmentMeta(
        filename=filename or _safe_filename(f"part-{number}.{part.get_content_subtype()}"),
        content_type=part.get_content_type(),
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
    )


def _safe_filename(name: str) -> str:
    """The last path component, without control characters: names are shown and used to store files."""
    base = clean_text(name).replace("\\", "/").rsplit("/", 1)[-1]
    base = re.sub(r"[\x00-\x1f\x7f]", "", base).strip()
    return "" if base in {".", ".."} else base[:255]


def _split_long_lines(text: str) -> str:
    return "\n".join(_split_line(line) if len(line) > _LINE_CAP else line for line in text.split("\n"))


def _split_line(line: str) -> str:
    chunks: list[str] = []
    while len(line) > _LINE_CAP:
        # Cut after a space, so no word is split and the mark does not end up between spaces.
        cut = line.rfind(" ", 0, _LINE_CAP) + 1 or _LINE_CAP
        chunks.append(line[:cut])
        line = line[cut:]
    chunks.append(line)
    return (_SPLIT_MARK + "\n").join(chunks)


class _TextOnly(HTMLParser):
    """Collects the text of an HTML document; script, style and title content are dropped."""

    _HIDDEN = frozenset({"script", "style", "title", "template"})
    _BLOCKS = frozenset(
        {"br", "p", "div", "li", "tr", "table", "ul", "ol", "blockquote", "hr", "pre", "section"}
        | {"article", "header", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "dt", "dd"}
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._HIDDEN:
            self._hidden += 1
        elif tag in self._BLOCKS:
            self.chunks.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # <br/> and friends: one break, and a self-closed <script/> hides nothing.
        if tag in self._BLOCKS:
            self.chunks.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in self._BLOCKS:
            self.chunks.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            # HTML collapses whitespace (non-breaking spaces included) into one space.
            self.chunks.append(re.sub(r"\s+", " ", data))
