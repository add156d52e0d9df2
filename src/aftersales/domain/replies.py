"""First replies and reply checks.

A reply must state the next step and a time the store can keep (``reply_promise``: ahead,
inside opening hours, a real date) unless it closes the case, stay calm (no defensive or
blaming wording), promise no refund or reship before the stop line clears, and be more
than a tracking link. The checks are pure functions the desk reuses for every agent reply.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from aftersales.domain.reply_promise import read_promise
from aftersales.domain.routes import Route
from aftersales.domain.sla.calendar import BusinessCalendar

_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
DEFENSIVE_WORDING: Mapping[str, str] = {
    r"not (?:our|my) (?:fault|problem|responsibility)": "Own the next step instead of the blame: 'Here is what we will do.'",
    r"(?:we are|we're) not responsible": "Say what you will do, not what you are not responsible for.",
    r"you (?:should|must|need to) have": "Do not tell the buyer what they should have done; say what happens next.",
    r"you failed to|your fault|you didn't read": "Drop the blame; restate the condition once, kindly.",
    r"as (?:stated|mentioned|written|explained) (?:in|on) (?:our|the) (?:policy|website|terms)": "Explain the rule in one plain sentence instead of pointing at the policy.",
    r"(?:per|according to) our policy|read (?:our|the) policy": "Explain the rule in one plain sentence instead of pointing at the policy.",
    r"calm down|as i (?:already )?said|as already (?:said|stated)": "Acknowledge the frustration instead: 'I understand this is frustrating.'",
    r"there is nothing (?:we|i) can do|that's not possible|that is not possible": "Offer the nearest thing you can do, with its time.",
    r"(?:blame|it's|it is) the (?:carrier|courier|post office)'?s? (?:fault)?": "The buyer bought from you: say what you are doing with the carrier.",
}
_DEFENSIVE = [(re.compile(rf"\b{p}", re.IGNORECASE), fix) for p, fix in DEFENSIVE_WORDING.items()]
PREMATURE_PROMISE = re.compile(
    r"\b(?:we|i)(?:'ll| will| have| are going to| shall|'ve)\s+(?:now |immediately |also |happily |gladly |already )?"
    r"(?:refund|reship|re-ship|replace|refunded|reshipped|replaced|send (?:you )?(?:a |the )?(?:new|replacement|another)"
    r"|issue (?:a |the |your )?(?:full )?refund|issued (?:a |the |your )?(?:full )?refund|give you (?:a |your )?(?:full )?refund)"
    r"|\b(?:refund|replacement|reship)\w* (?:has been|is being|was|have been|is) (?:issued|processed|sent|approved|shipped|on its way)",
    re.IGNORECASE,
)
_URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_GREETING_OR_SIGNOFF = re.compile(
    r"^(?:hi|hello|hey|dear|thanks|thank you|best|regards|kind regards|cheers)\b.*$|^.*\bsupport$",
    re.IGNORECASE | re.MULTILINE,
)


@dataclass(frozen=True, slots=True)
class ReplyProblem:
    # no_next_step_time, past_time, closed_time, impossible_date, impossible_time,
    # weekday_mismatch, moveable_holiday, defensive_wording, premature_promise, tracking_link_only
    check: str
    sentence: str  # the sentence at fault ("" when the whole reply is at fault)
    fix: str


@dataclass(frozen=True, slots=True)
class ReplyCheck:
    problems: tuple[ReplyProblem, ...]
    promised_at: datetime | None = None  # the next update the reply promises, in the store's zone
    closing: bool = False  # the reply resolves the case, so it owes no next update

    @property
    def ok(self) -> bool:
        return not self.problems


NO_NEXT_STEP_TIME = ReplyProblem(
    "no_next_step_time",
    "",
    "Add a sentence with the next step and its time, e.g. 'We will update you by Tuesday 12:00.'",
)


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if s.strip()]


def check_reply(  # noqa: PLR0913  (keyword-only: every call names each field)
    draft: str,
    *,
    now: datetime,
    calendar: BusinessCalendar,
    stop_line_clear: bool,
    stop_line: str = "",
    languages: Iterable[str] = (),
) -> ReplyCheck:
    """Every check of a reply, and the next-update time it promises (``reply_promise``):
    the one reading behind the composer, the API and the reply that is sent.

    ``languages`` (ISO 639-1) are the ones to read the promise in; none means every one
    known. ``now`` must be timezone-aware.
    """
    parts = sentences(draft)
    promise = read_promise(draft, now, calendar, languages)
    problems = [ReplyProblem(p.check, p.sentence, p.fix) for p in promise.problems]
    if promise.at is None and not problems and not promise.closing:
        problems.append(NO_NEXT_STEP_TIME)
    problems.extend(_defensive(parts))
    # One search of the whole draft first, since most drafts promise nothing: it finds a promise
    # wherever a sentence holds one, because a sentence is a stretch of the draft cut at
    # whitespace and the pattern looks at nothing around its words but a word boundary at its
    # start, which is the same in the sentence as in the draft.
    if not stop_line_clear and PREMATURE_PROMISE.search(draft):
        problems.extend(_premature(parts, stop_line))
    if not promise.promising and _is_tracking_link_only(draft):
        problems.append(
            ReplyProblem(
                "tracking_link_only",
                draft.strip(),
                "A link alone is not an answer: add the last scan, the promise window and the next update time.",
            )
        )
    return ReplyCheck(tuple(problems), promise.at, promise.closing)


def _defensive(parts: Iterable[str]) -> list[ReplyProblem]:
    return [
        ReplyProblem("defensive_wording", sentence, fix)
        for sentence in parts
        for pattern, fix in _DEFENSIVE
        if pattern.search(sentence)
    ]


def _premature(parts: Iterable[str], stop_line: str) -> list[ReplyProblem]:
    fix = "Promise the review and its time, not the outcome, until the evidence is in."
    if stop_line:
        fix = f"{fix} Stop line: {stop_line}"
    return [ReplyProblem("premature_promise", s, fix) for s in parts if PREMATURE_PROMISE.search(s)]


def _is_tracking_link_only(draft: str) -> bool:
    if not _URL.search(draft) and "tracking" not in draft.lower():
        return False
    body = _GREETING_OR_SIGNOFF.sub("", _URL.sub("", draft))
    words = re.findall(r"[A-Za-z']+", body)
    return len(words) < 12


# {name} is a placeholder; {{ and }} are literal braces. Anything else (an unknown name,
# "{a.b}", "{0}", "{x!r}", a stray brace) stays as written, so a store's template typo shows,
# never crashes, and no value is ever looked into (no attribute or index access).
_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{(\w+)\}")


def render_reply(template: str, values: Mapping[str, str]) -> str:
    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return match.group()[0]  # "{{" -> "{", "}}" -> "}"
        return values.get(name, match.group())

    text = _PLACEHOLDER.sub(fill, template)
    lines = [re.sub(r"[ \t]{2,}", " ", line).strip() for line in text.splitlines()]
    # a placeholder left empty on a line of its own leaves one paragraph break, not two
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


@dataclass(frozen=True, slots=True)
class ReplyTemplate:
    """The first-reply template to draft from, the language it is written in, and a note to
    the agent when the customer wrote in another language the store has no template for."""

    template: str
    language: str
    note: str = ""


def template_for(
    route: Route,
    default: str,
    customer_language: str,
    store_language: str,
    templates: Mapping[str, Mapping[Route, str]],
) -> ReplyTemplate:
    """The customer's language where the store wrote this route's reply in it; otherwise the
    store's own, with a note saying the customer wrote in another language."""
    if not customer_language or customer_language == store_language:
        return ReplyTemplate(default, store_language)
    own = templates.get(customer_language, {}).get(route)
    if own:
        return ReplyTemplate(own, customer_language)
    name = LANGUAGE_NAMES.get(customer_language, customer_language)
    store = LANGUAGE_NAMES.get(store_language, store_language)
    return ReplyTemplate(
        default,
        store_language,
        f"The customer wrote in {name}; the store has no {name} reply for {route.value} "
        f"([replies.{customer_language}] in the policy), so this draft is in {store}: "
        "translate it, or answer in their language.",
    )


LANGUAGE_NAMES: Mapping[str, str] = {
    "en": "English",
    "fr": "French",
    "de": "German",
    "es": "Spanish",
    "it": "Italian",
    "nl": "Dutch",
    "pt": "Portuguese",
}


# Weekday and month names for a draft in another language (the stdlib's names follow the
# process locale, which a server does not set per customer).
_DAYS: Mapping[str, tuple[str, ...]] = {
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
    "de": ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"),
    "es": ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
    "it": ("lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato", "domenica"),
    "nl": ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"),
    "pt": (
        "segunda-feira",
        "terça-feira",
        "quarta-feira",
        "quinta-feira",
        "sexta-feira",
        "sábado",
        "domingo",
    ),
}
_MONTHS: Mapping[str, tuple[str, ...]] = {
    "fr": (
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ),
    "de": (
        "Januar",
        "Februar",
        "März",
        "April",
        "Mai",
        "Juni",
        "Juli",
        "August",
        "September",
        "Oktober",
        "November",
        "Dezember",
    ),
    "es": (
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ),
    "it": (
        "gennaio",
        "febbraio",
        "marzo",
        "aprile",
        "maggio",
        "giugno",
        "luglio",
        "agosto",
        "settembre",
        "ottobre",
        "novembre",
        "dicembre",
    ),
    "nl": (
        "januari",
        "februari",
        "maart",
        "april",
        "mei",
        "juni",
        "juli",
        "augustus",
        "september",
        "oktober",
        "november",
        "december",
    ),
    "pt": (
        "janeiro",
        "fevereiro",
        "março",
        "abril",
        "maio",
        "junho",
        "julho",
        "agosto",
        "setembro",
        "outubro",
        "novembro",
        "dezembro",
    ),
}
_DAY_MONTH: Mapping[str, str] = {"de": "{day}. {month}", "es": "{day} de {month}", "pt": "{day} de {month}"}


def format_moment(moment: datetime, language: str = "en") -> str:
    """'Monday 30 November, 13:00 EST' (or 'lundi 30 novembre, 13:00 EST'): what a buyer
    reads in a reply, in the reply's language."""
    zone = moment.tzname() or ""
    if language not in _DAYS:
        return f"{moment:%A} {moment.day} {moment:%B}, {moment:%H:%M} {zone}".strip()
    weekday, month = _DAYS[language][moment.weekday()], _MONTHS[language][moment.month - 1]
    date_text = _DAY_MONTH.get(language, "{day} {month}").format(day=moment.day, month=month)
    return f"{weekday} {date_text}, {moment:%H:%M} {zone}".strip()
