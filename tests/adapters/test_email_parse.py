"""E-mail bytes → InboundMessage: the .eml fixtures, screening, dedupe keys, and hostile bytes."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from email import policy
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mailparser_reply.parser import EmailMessage as ReplyText  # type: ignore[import-untyped]

from aftersales.adapters.mail.parse import (
    ParsedMessage,
    decode_bytes,
    html_to_text,
    parse_email,
    plain_mailbox,
    reply_patterns,
)
from aftersales.adapters.mail.screen import case_hint_of
from aftersales.domain.messages import AutoKind, Channel, ParseProblem

FIXTURES = Path(__file__).parent / "email" / "fixtures"
RECEIVED = datetime(2024, 7, 1, 12, 0, tzinfo=UTC)
OWN = ("Support@Northwind.example",)
CEST = timezone(timedelta(hours=2))


def _parse(data: bytes, received_at: datetime = RECEIVED) -> ParsedMessage:
    result = parse_email(data, source="test", received_at=received_at, own_addresses=OWN)
    assert not isinstance(result, ParseProblem), result
    return result


def _fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


# ----------------------------------------------------------------------------- the fixtures


@dataclass(frozen=True)
class Case:
    fixture: str
    body_start: str
    absent: tuple[str, ...] = ()  # must not be in the body (quotes, signatures, hidden HTML)
    present: tuple[str, ...] = ()  # decoded words that must be in the subject or body
    auto_kind: AutoKind | None = None
    attachments: tuple[str, ...] = ()  # content types, in order
    sent_at: datetime = RECEIVED  # RECEIVED: the Date header is missing or broken


CASES = [
    Case(
        "gmail_quote.eml",
        'Hi,\n\nthe tracking page still says "label created"',
        absent=("QUOTED-ONLY-MARKER", "wrote:"),
        sent_at=datetime(2024, 6, 4, 9, 14, 51, tzinfo=CEST),
    ),
    Case(
        "outlook_quote.eml",
        "The label you sent does not scan at the post office. Could you send a new one, please?",
        absent=("QUOTED-ONLY-MARKER", "Sent: Friday"),
        sent_at=datetime(2024, 6, 10, 14, 3, 27, tzinfo=UTC),
    ),
    Case(
        "german_quote.eml",
        "Hallo,\n\nder Becher ist leider mit einem Sprung angekommen.",
        absent=("QUOTED-ONLY-MARKER", "schrieb"),
        present=("Jürgen Müller",),
        sent_at=datetime(2024, 6, 13, 8, 45, 10, tzinfo=CEST),
    ),
    Case(
        "signature.eml",
        "Hello,\n\nplease cancel order 1077, I ordered the wrong size:\n- 1x Tumbler 20 oz, blue\n- 1x Lid",
        absent=("SIGNATURE-ONLY-MARKER", "+1 555 0100"),
        sent_at=datetime(2024, 6, 14, 18, 1, tzinfo=timezone(timedelta(hours=-7))),
    ),
    Case(
        "html_only.eml",
        "Hello,\n\nthe lid of my tumbler arrived cracked & leaks.\nOrder #1082.",
        absent=("SCRIPT-MARKER", "HEAD-TITLE-MARKER", "<p>", "color: red"),
        sent_at=datetime(2024, 6, 15, 10, 12, 44, tzinfo=timezone(timedelta(hours=9))),
    ),
    Case(
        "latin1_subject.eml",
        "Guten Tag,\n\nich möchte die Größe meiner Bestellung ändern",
        present=("Bestellung über Größe", "Renée Krämer"),
        sent_at=datetime(2024, 6, 17, 9, 0, tzinfo=CEST),
    ),
    Case(
        "undeclared_8bit.eml",
        "Hello, I paid 49,90 € twice for order 1090. Café owner here",
        sent_at=datetime(2024, 6, 18, 12, 30, tzinfo=CEST),
    ),
    Case(
        "wrong_charset.eml",
        "Hallo, ich habe Grün bestellt und Weiß bekommen. Größe stimmt.",
        absent=("Ã",),
        sent_at=datetime(2024, 6, 19, 15, 45, tzinfo=CEST),
    ),
    Case(
        "unknown_8bit.eml",
        "Olá, o pedido 1101 não chegou. Obrigada!",
        absent=("\ufffd",),
        sent_at=datetime(2024, 6, 20, 11, 0, tzinfo=timezone(timedelta(hours=-3))),
    ),
    Case(
        "out_of_office.eml",
        "I am out of the office until 1 July",
        auto_kind=AutoKind.AUTO_REPLY,
        sent_at=datetime(2024, 6, 21, 7, 0, 2, tzinfo=CEST),
    ),
    Case(
        "mailing_list.eml",
        "Five compostable mailers compared.",
        auto_kind=AutoKind.MAILING_LIST,
        sent_at=datetime(2024, 6, 22, 6, 0, tzinfo=UTC),
    ),
    Case(
        "delivery_status.eml",
        "I'm sorry to have to inform you that your message could not",
        auto_kind=AutoKind.DELIVERY_REPORT,
        sent_at=datetime(2024, 6, 23, 10, 0, 5, tzinfo=CEST),
    ),
    Case(
        "attachments.eml",
        "The tumbler from order 1130 arrived broken, see the photos.",
        attachments=("image/png", "image/jpeg", "application/pdf"),
        sent_at=datetime(2024, 6, 24, 19, 20, tzinfo=timezone(timedelta(hours=1))),
    ),
    Case(
        "missing_message_id.eml",
        "Can you engrave a name on the 30 oz tumbler?",
        sent_at=datetime(2024, 6, 25, 8, 0, tzinfo=timezone(timedelta(hours=-4))),
    ),
    Case("broken_date.eml", "Order 1144 has not arrived."),
    Case(
        "case_tag.eml",
        "Still nothing. Please send a replacement.",
        sent_at=datetime(2024, 6, 26, 13, 37, tzinfo=CEST),
    ),
]


def test_every_fixture_is_in_the_table() -> None:
    assert sorted(case.fixture for case in CASES) == sorted(p.name for p in FIXTURES.glob("*.eml"))


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.fixture.removesuffix(".eml"))
def test_fixture(case: Case) -> None:
    # given
    data = _fixture(case.fixture)

    # when
    message, attachments = _parse(data)

    # then
    assert message.channel is Channel.EMAIL
    assert message.body.startswith(case.body_start), message.body
    for text in case.absent:
        assert text not in message.body
    for text in case.present:
        assert text in f"{message.subject}\n{message.from_name}\n{message.body}"
    assert message.auto_kind is case.auto_kind
    assert tuple(meta.content_type for meta in message.attachments) == case.attachments
    assert [meta for meta, _ in attachments] == list(message.attachments)
    assert message.sent_at == case.sent_at
    assert message.sent_at.utcoffset() is not None
    assert message.dedupe_key.startswith(message.message_id + "|")


def test_full_body_keeps_the_quote_the_body_drops() -> None:
    message, _ = _parse(_fixture("gmail_quote.eml"))

    assert "QUOTED-ONLY-MARKER" in message.full_body
    assert "QUOTED-ONLY-MARKER" not in message.body
    assert message.html.startswith('<div dir="ltr">Hi,<br><br>')


def test_headers_become_fields() -> None:
    message, _ = _parse(_fixture("case_tag.eml"))

    assert message.message_id == "case-tag-42@mail.example.com"
    assert message.in_reply_to == "case-42-reply-3@northwind.example"
    assert message.references == ("case-42-opened@northwind.example", "case-42-reply-3@northwind.example")
    assert (message.from_name, message.from_address) == ("Anna Berg", "anna.berg@example.com")
    assert message.to_addresses == ("support@northwind.example",)
    assert message.case_hint == "42"
    assert [name for name, _ in message.raw_headers] == [
        "From", "To", "Subject", "Date", "Message-ID", "In-Reply-To", "References",
    ]  # fmt: skip
    assert dict(message.raw_headers)["References"] == (
        "<case-42-opened@northwind.example> <case-42-reply-3@northwind.example>"
    )


def test_recipients_are_to_and_cc_lower_cased() -> None:
    message, _ = _parse(_fixture("outlook_quote.eml"))

    assert message.from_name == "Miller, Tom"
    assert message.to_addresses == ("support@northwind.example", "jane.miller@contoso.test")


def test_attachment_bytes_match_their_metadata() -> None:
    _, attachments = _parse(_fixture("attachments.eml"))

    assert [(meta.filename, meta.size) for meta, _ in attachments] == [
        ("part-2.png", 64),  # an inline image without a name gets one
        ("IMG_0001.jpg", 78),
        ("receipt.pdf", 48),  # "../../receipt.pdf": the path is dropped
    ]
    for meta, content in attachments:
        assert meta.sha256 == hashlib.sha256(content).hexdigest()
        assert meta.size == len(content)
    assert attachments[2][1].startswith(b"%PDF-1.4")


def test_a_missing_message_id_is_generated_from_the_bytes() -> None:
    data = _fixture("missing_message_id.eml")

    first, _ = _parse(data)
    again, _ = _parse(data, received_at=RECEIVED + timedelta(days=3))

    assert first.message_id == f"{hashlib.sha256(data).hexdigest()[:32]}@aftersales.invalid"
    assert again.message_id == first.message_id


def test_mail_from_our_own_address_is_screened() -> None:
    data = _fixture("signature.eml").replace(
        b"From: Priya Shah <priya@example.com>", b"From: support@northwind.example"
    )

    message, _ = _parse(data)

    assert message.auto_kind is AutoKind.OWN_MAIL


# ----------------------------------------------------------------------------- dedupe keys


def test_same_message_id_with_another_body_gets_another_key() -> None:
    data = _fixture("case_tag.eml")
    reused = data.replace(b"Still nothing.", b"It arrived, thanks.")

    first, _ = _parse(data)
    second, _ = _parse(reused)

    assert first.message_id == second.message_id
    assert first.dedupe_key != second.dedupe_key


def test_identical_bytes_get_identical_keys_whenever_received() -> None:
    for fixture in ("case_tag.eml", "broken_date.eml", "missing_message_id.eml"):
        data = _fixture(fixture)

        first, _ = _parse(data)
        later, _ = _parse(data, received_at=RECEIVED + timedelta(hours=5))

        assert first.dedupe_key == later.dedupe_key, fixture


# ----------------------------------------------------------------------------- screening


def _headers_only(headers: str, sender: str = "someone@example.com") -> bytes:
    return f"From: {sender}\nSubject: Hello\nMessage-ID: <h@example.com>\n{headers}\n\nText\n".encode()


SCREENING = [
    pytest.param("", "someone@example.com", None, id="plain_mail"),
    pytest.param("Auto-Submitted: no", "someone@example.com", None, id="auto_submitted_no"),
    pytest.param(
        "Auto-Submitted: auto-generated", "shop@example.com", AutoKind.AUTO_REPLY, id="auto_generated"
    ),
    pytest.param("X-Autorespond: on", "someone@example.com", AutoKind.AUTO_REPLY, id="x_autorespond"),
    pytest.param("Precedence: junk", "someone@example.com", AutoKind.AUTO_REPLY, id="precedence_junk"),
    pytest.param("Precedence: auto_reply", "someone@example.com", AutoKind.AUTO_REPLY, id="precedence_auto"),
    pytest.param("Precedence: bulk", "news@example.com", AutoKind.MAILING_LIST, id="precedence_bulk"),
    pytest.param(
        "List-Unsubscribe: <mailto:leave@example.com>",
        "buyer@example.com",
        None,
        id="unsubscribe_alone_is_a_relayed_customer_mail",
    ),
    pytest.param("", "postmaster@example.com", AutoKind.DELIVERY_REPORT, id="postmaster"),
    pytest.param("", "MAILER-DAEMON", AutoKind.DELIVERY_REPORT, id="bare_mailer_daemon"),
    pytest.param(
        "Content-Type: multipart/report; report-type=disposition-notification; boundary=x",
        "someone@example.com",
        AutoKind.AUTO_REPLY,
        id="read_receipt",
    ),
    pytest.param(
        "Auto-Submitted: auto-replied", "SUPPORT@northwind.example", AutoKind.OWN_MAIL, id="own_first"
    ),
]


@pytest.mark.parametrize(("headers", "sender", "expected"), SCREENING)
def test_screening(headers: str, sender: str, expected: AutoKind | None) -> None:
    message, _ = _parse(_headers_only(headers, sender))

    assert message.auto_kind is expected


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        pytest.param("Re: parcel [case 42]", "42", id="case_tag"),
        pytest.param("Re: parcel [#42]", "42", id="hash_tag"),
        pytest.param("AW: [Case #7] Paket", "7", id="case_hash_tag"),
        pytest.param("Order #42 is late", "", id="no_tag"),
        pytest.param("[case forty-two]", "", id="not_a_number"),
    ],
)
def test_case_hint(subject: str, expected: str) -> None:
    assert case_hint_of(subject) == expected


# ----------------------------------------------------------------------------- text


@pytest.mark.parametrize(
    ("payload", "declared", "expected"),
    [
        pytest.param("Größe".encode(), "utf-8", "Größe", id="declared_right"),
        pytest.param("Größe".encode(), "iso-8859-1", "Größe", id="utf8_declared_latin1"),
        pytest.param("Größe".encode("latin-1"), "utf-8", "Größe", id="latin1_declared_utf8"),
        pytest.param("Größe".encode("latin-1"), None, "Größe", id="undeclared"),
        pytest.param("Größe".encode(), "x-unknown", "Größe", id="unknown_charset"),
        pytest.param("Größe".encode(), "base64", "Größe", id="not_a_text_codec"),
        pytest.param("Привет".encode("koi8-r"), "koi8-r", "Привет", id="other_charset_declared"),
        pytest.param(b"\x81\x8d\x8f", "utf-8", "\x81\x8d\x8f", id="latin1_last_resort"),
    ],
)
def test_decode_bytes(payload: bytes, declared: str | None, expected: str) -> None:
    assert decode_bytes(payload, declared) == expected


def test_html_to_text_never_runs_or_keeps_markup() -> None:
    html = '<p>One&nbsp;two</p><script>alert("x")</script><ul><li>a</li><li>b</li></ul>x<br/>y<img src="z">'

    assert html_to_text(html) == "One two\n\na\n\nb\n\nx\ny"


def test_a_long_line_does_not_stall_reply_stripping() -> None:
    # mail-parser-reply's header patterns are quadratic in line length: 40 kB took 45 s unguarded.
    line = "On " + "and then " * 20_000
    data = f"From: a@example.com\nSubject: long\n\n{line}\n".encode()

    started = time.perf_counter()
    message, _ = _parse(data)

    assert time.perf_counter() - started < 2
    assert message.body == line.strip()


_HTML_MAIL = "From: a@example.com\nSubject: html\nContent-Type: text/html\n\n"


# Each of these took from 6 s to minutes before its guard; the limit is generous for slow machines.
@pytest.mark.parametrize(
    "build",
    [
        pytest.param(lambda: _HTML_MAIL + "<!--<!--x" * 30_000, id="html_unclosed_comments"),
        pytest.param(lambda: _HTML_MAIL + "<a " * 30_000, id="html_unclosed_tags"),
        pytest.param(lambda: _HTML_MAIL + "<![" * 30_000, id="html_marked_sections"),
        pytest.param(
            lambda: (
                "From: a@example.com\nSubject: "
                + " ".join(["=?utf-8?q?Gr=C3=B6=C3=9Fe?="] * 20_000)
                + "\n\nx\n"
            ),
            id="subject_of_encoded_words",
        ),
        pytest.param(
            lambda: (
                "From: a@example.com\nReferences: "
                + " ".join(f"<r{n}@example.com>" for n in range(50_000))
                + "\n\nx\n"
            ),
            id="many_references",
        ),
    ],
)
def test_hostile_mail_is_read_in_time(build: Callable[[], str]) -> None:
    data = build().encode()

    started = time.perf_counter()
    result = parse_email(data, source="hostile", received_at=RECEIVED)

    assert time.perf_counter() - started < 2
    assert not isinstance(result, ParseProblem), result
    assert len(result[0].references) <= 100


# ----------------------------------------------------------------------------- never raises


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        pytest.param(b"", "empty message", id="empty"),
        pytest.param(b"\x00\x01\x02 garbage \xff\xfe", "not an e-mail", id="garbage"),
        pytest.param(b"just some words\nand lines\n", "not an e-mail", id="plain_text"),
    ],
)
def test_non_mail_is_a_problem(data: bytes, reason: str) -> None:
    result = parse_email(data, source="inbox.mbox#3", received_at=RECEIVED)

    assert isinstance(result, ParseProblem)
    assert result.source == "inbox.mbox#3"
    assert result.reason.startswith(reason)


def _check_never_raises(data: bytes) -> None:
    result = parse_email(data, source="fuzz", received_at=RECEIVED, own_addresses=OWN)
    if isinstance(result, ParseProblem):
        assert result.reason
        return
    message, attachments = result
    assert message.sent_at.utcoffset() is not None
    # Everything must be storable as UTF-8 text.
    for text in (message.body, message.full_body, message.subject, message.from_name, message.html):
        text.encode("utf-8")
    assert len(attachments) == len(message.attachments)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="<>!-[]/?'\"=ab \n&;#", max_size=300))
def test_html_to_text_never_raises(html: str) -> None:
    assert isinstance(html_to_text(html), str)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2_000))
def test_never_raises_on_arbitrary_bytes(data: bytes) -> None:
    _check_never_raises(data)


_FIXTURE_BYTES = [path.read_bytes() for path in sorted(FIXTURES.glob("*.eml"))]
_NASTY = [b"\x00", b"\xff", b"\n", b"\r", b"=?utf-8?q?", b"?=", b"<", b">", b":", b";", b'"', b"--", b"\\", b"=\n"]  # fmt: skip


@st.composite
def _mutated_fixtures(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(_FIXTURE_BYTES)))
    for _ in range(draw(st.integers(1, 12))):
        at = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = draw(st.sampled_from(_NASTY) | st.binary(min_size=1, max_size=4))
        if action == "insert":
            data[at:at] = piece
        elif action == "delete":
            del data[at : at + draw(st.integers(1, 40))]
        else:
            data[at : at + len(piece)] = piece
    return bytes(data)


@settings(max_examples=300, deadline=None)
@given(_mutated_fixtures())
def test_never_raises_on_mutated_fixtures(data: bytes) -> None:
    _check_never_raises(data)


# ----------------------------------------------------------------------------- plain mailboxes

_ADDRESS_PIECES = ["a", "Z", "0", "ana", "Silva", ".", "..", " ", "  ", "@", "<", ">", ",", '"', "(", ")"]
_ATOM_CHARACTERS = "aZ09!#$%&'*+/^_`{|}~-"
_ADDRESS_PIECES += ["=?utf-8?q?Ana?=", *"=?'-+_~!#é\t\\:;[]"]


@st.composite
def _address_values(draw: st.DrawFn) -> str:
    """Header values near the plain "Name <local@domain>" shape, and many that only look like it."""

    def word() -> str:
        if draw(st.integers(0, 3)):  # mostly a plain atom, so the plain shape is met often
            return draw(st.text(alphabet=_ATOM_CHARACTERS, min_size=1, max_size=6))
        return "".join(draw(st.lists(st.sampled_from(_ADDRESS_PIECES), min_size=1, max_size=4)))

    name = " ".join(word() for _ in range(draw(st.integers(0, 3))))
    address = f"{word()}@{word()}.{word()}" if draw(st.booleans()) else word()
    shape = draw(st.sampled_from(["{name} <{address}>", "<{address}>", "{address}", "{name}<{address}>"]))
    return shape.format(name=name, address=address)


@settings(max_examples=1_000, deadline=None)
@given(_address_values())
def test_a_plain_mailbox_reads_as_the_header_registry_reads_it(value: str) -> None:
    plain = plain_mailbox(value)
    if plain is None:
        return
    addresses = policy.default.header_factory("from", value).addresses  # the standard registry
    assert [(str(a.display_name), str(a.addr_spec)) for a in addresses] == [plain]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Ana Silva <ana.silva@example.com>", ("Ana Silva", "ana.silva@example.com")),
        ("<Ana@Example.com>", ("", "Ana@Example.com")),
        ("ana@example.com", ("", "ana@example.com")),
        ("=?utf-8?q?Ana?= <ana@example.com>", None),  # an encoded word: the registry decodes it
        ('"Silva, Ana" <ana@example.com>', None),
        ("Ana <ana@example.com>, Ben <ben@example.com>", None),
        ("A. Silva <ana@example.com>", None),
    ],
)
def test_plain_mailbox(value: str, expected: tuple[str, str] | None) -> None:
    assert plain_mailbox(value) == expected


def test_the_reply_patterns_made_once_are_those_mail_parser_reply_makes_for_each_message() -> None:
    languages = ["en", "de", "fr", "es", "it", "nl"]
    fresh = ReplyText(text="Hi\n\nOn Monday, Ana wrote:\n> x", languages=languages, keep_hyphen_lists=True)
    made = {
        "_header_regex": fresh.HEADER_REGEX,
        "_disclaimers_regex": fresh.DISCLAIMERS_REGEX,
        "_signature_regex": fresh.SIGNATURE_REGEX,
    }
    assert {name: (p.pattern, p.flags) for name, p in reply_patterns().items()} == {
        name: (p.pattern, p.flags) for name, p in made.items()
    }
