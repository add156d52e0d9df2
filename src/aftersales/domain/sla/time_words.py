"""How English, French, German and Spanish replies say a day and a time.

``promises.py`` reads times with these tables. Each language lists its own spellings, with
and without accents where agents type both ("miércoles", "miercoles"); matched words are
looked up after ``fold`` (accents stripped, case folded), so every spelling of a word in the
table finds it. Adding a language is adding one ``TimeWords`` entry.

Why a table and not ``dateparser``: a reply check must tell a promise from a date quoted as
a fact, and must refuse "Friday 4 December" when 4 December is a Saturday or already past;
a general date parser silently rolls such dates forward to the next match, which is the
bug the reply check exists to catch. The words needed are few and stable.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

__all__ = ["LANGUAGES", "WORDS", "TimeWords", "alternation", "fold"]


@dataclass(frozen=True, slots=True, kw_only=True)
class TimeWords:
    """One language's words for days and times (regex-free: plain words and phrases)."""

    weekdays: tuple[tuple[str, ...], ...]  # Monday first; every spelling of each day
    months: tuple[tuple[str, ...], ...]  # January first
    today: tuple[str, ...]
    tomorrow: tuple[str, ...]
    day_after_tomorrow: tuple[str, ...] = ()
    noon: tuple[str, ...]
    midnight: tuple[str, ...]
    end_of_day: tuple[str, ...]
    within: tuple[str, ...]  # "within 2 days", "dans 2 jours"
    units: Mapping[str, str]  # word -> m(inutes), h(ours), d(ays), w(eeks), b (business days)
    business: tuple[str, ...]  # words that make a unit business time ("working", "ouvrés")
    numbers: Mapping[str, int] = field(default_factory=dict)
    # "by Friday": a deadline; "until" words are deadlines too, but a fact says them as often
    # ("the promise runs until Thursday"), so only the others mark a promise on their own
    by: tuple[str, ...]
    until: tuple[str, ...] = ()
    at_the_latest: tuple[str, ...] = ()  # said after the time: "Tuesday at the latest"
    at: tuple[str, ...]  # words between a day and its time: "at", "à", "um", "a las"
    fixed_holidays: Mapping[str, tuple[int, int]] = field(default_factory=dict)  # name -> (month, day)
    moveable_holidays: tuple[str, ...] = ()  # their date changes each year: the reply must name it


_EN_UNITS = dict.fromkeys(("minute", "minutes", "min", "mins"), "m")
_EN_UNITS |= dict.fromkeys(("hour", "hours", "hr", "hrs", "h"), "h")
_EN_UNITS |= dict.fromkeys(("day", "days"), "d") | dict.fromkeys(("week", "weeks"), "w")

ENGLISH = TimeWords(
    weekdays=(
        ("Monday",),
        ("Tuesday",),
        ("Wednesday",),
        ("Thursday",),
        ("Friday",),
        ("Saturday",),
        ("Sunday",),
    ),
    months=(
        ("January", "Jan"),
        ("February", "Feb"),
        ("March", "Mar"),
        ("April", "Apr"),
        ("May",),
        ("June", "Jun"),
        ("July", "Jul"),
        ("August", "Aug"),
        ("September", "Sept", "Sep"),
        ("October", "Oct"),
        ("November", "Nov"),
        ("December", "Dec"),
    ),
    today=("today", "tonight"),
    tomorrow=("tomorrow",),
    day_after_tomorrow=("the day after tomorrow",),
    noon=("noon", "midday"),
    midnight=("midnight",),
    end_of_day=(
        "end of day",
        "end of the day",
        "end of business day",
        "end of the business day",
        "end of the working day",
        "close of business",
        "EOD",
        "COB",
    ),
    within=("within", "in", "inside"),
    units=_EN_UNITS,
    business=("business", "working"),
    numbers={"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5}
    | {"six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10},
    by=("by", "before", "no later than", "not later than"),
    until=("until", "till"),
    at_the_latest=("at the latest",),
    at=("at", "around", "about", "on", "by", "before", "until", "till", "no later than", "the"),
    fixed_holidays={
        "Christmas Eve": (12, 24),
        "Christmas Day": (12, 25),
        "Christmas": (12, 25),
        "Boxing Day": (12, 26),
        "New Year's Eve": (12, 31),
        "New Year's Day": (1, 1),
        "New Year": (1, 1),
    },
    moveable_holidays=(
        "Easter Sunday",
        "Easter Monday",
        "Easter",
        "Good Friday",
        "Thanksgiving",
        "Black Friday",
        "Cyber Monday",
        "Memorial Day",
        "Labor Day",
        "Whit Monday",
        "Pentecost",
        "Ascension Day",
    ),
)

_FR_UNITS = dict.fromkeys(("minute", "minutes", "min"), "m") | dict.fromkeys(("heure", "heures", "h"), "h")
_FR_UNITS |= dict.fromkeys(("jour", "jours"), "d") | dict.fromkeys(("semaine", "semaines"), "w")

FRENCH = TimeWords(
    weekdays=(("lundi",), ("mardi",), ("mercredi",), ("jeudi",), ("vendredi",), ("samedi",), ("dimanche",)),
    months=(
        ("janvier",),
        ("février", "fevrier"),
        ("mars",),
        ("avril",),
        ("mai",),
        ("juin",),
        ("juillet",),
        ("août", "aout"),
        ("septembre",),
        ("octobre",),
        ("novembre",),
        ("décembre", "decembre"),
    ),
    today=("aujourd'hui", "ce soir"),
    tomorrow=("demain",),
    day_after_tomorrow=("après-demain", "apres-demain"),
    noon=("midi",),
    midnight=("minuit",),
    end_of_day=("fin de journée", "fin de la journée", "fin de journee", "fin de la journee"),
    within=("dans", "sous", "d'ici", "en moins de"),
    units=_FR_UNITS,
    business=("ouvrés", "ouvrées", "ouvrables", "ouvres", "ouvrees"),
    numbers={"un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5}
    | {"six": 6, "sept": 7, "huit": 8, "neuf": 9, "dix": 10},
    by=("d'ici le", "d'ici", "avant le", "avant", "au plus tard le", "pour le"),
    until=("jusqu'au", "jusqu'à"),
    at_the_latest=("au plus tard",),
    at=("à", "a", "le", "vers", "avant", "d'ici", "pour", "au plus tard"),
    fixed_holidays={
        "veille de Noël": (12, 24),
        "réveillon de Noël": (12, 24),
        "jour de Noël": (12, 25),
        "Noël": (12, 25),
        "Saint-Sylvestre": (12, 31),
        "réveillon du Nouvel An": (12, 31),
        "jour de l'An": (1, 1),
        "Nouvel An": (1, 1),
    },
    moveable_holidays=(
        "lundi de Pâques",
        "Pâques",
        "vendredi saint",
        "lundi de Pentecôte",
        "Pentecôte",
        "Ascension",
    ),
)

_DE_UNITS = dict.fromkeys(("Minute", "Minuten", "Min"), "m") | dict.fromkeys(
    ("Stunde", "Stunden", "Std"), "h"
)
_DE_UNITS |= dict.fromkeys(("Tag", "Tage", "Tagen"), "d") | dict.fromkeys(("Woche", "Wochen"), "w")
_DE_UNITS |= dict.fromkeys(
    ("Werktag", "Werktage", "Werktagen", "Arbeitstag", "Arbeitstage", "Arbeitstagen")
    + ("Geschäftstag", "Geschäftstage", "Geschäftstagen"),
    "b",
)

GERMAN = TimeWords(
    weekdays=(
        ("Montag",),
        ("Dienstag",),
        ("Mittwoch",),
        ("Donnerstag",),
        ("Freitag",),
        ("Samstag", "Sonnabend"),
        ("Sonntag",),
    ),
    months=(
        ("Januar", "Jänner"),
        ("Februar",),
        ("März", "Maerz"),
        ("April",),
        ("Mai",),
        ("Juni",),
        ("Juli",),
        ("August",),
        ("September",),
        ("Oktober",),
        ("November",),
        ("Dezember",),
    ),
    today=("heute",),
    tomorrow=("morgen",),
    day_after_tomorrow=("übermorgen", "uebermorgen"),
    noon=("Mittag",),
    midnight=("Mitternacht",),
    end_of_day=("Ende des Tages", "Ende des Arbeitstages", "Tagesende", "Geschäftsschluss", "Feierabend"),
    within=("in", "innerhalb von", "innerhalb", "binnen"),
    units=_DE_UNITS,
    business=(),
    numbers={"ein": 1, "eine": 1, "einem": 1, "einer": 1, "zwei": 2, "drei": 3, "vier": 4}
    | {"fünf": 5, "sechs": 6, "sieben": 7, "acht": 8, "neun": 9, "zehn": 10},
    by=("bis spätestens", "bis zum", "bis", "spätestens am", "spätestens", "vor"),
    at_the_latest=("spätestens",),
    at=("um", "gegen", "bis", "am", "den", "vor", "spätestens"),
    fixed_holidays={
        "Heiligabend": (12, 24),
        "Heiligen Abend": (12, 24),
        "ersten Weihnachtstag": (12, 25),
        "erster Weihnachtstag": (12, 25),
        "zweiten Weihnachtstag": (12, 26),
        "zweiter Weihnachtstag": (12, 26),
        "Weihnachten": (12, 25),
        "Silvester": (12, 31),
        "Neujahrstag": (1, 1),
        "Neujahr": (1, 1),
    },
    moveable_holidays=(
        "Ostersonntag",
        "Ostermontag",
        "Ostern",
        "Karfreitag",
        "Pfingstmontag",
        "Pfingsten",
        "Christi Himmelfahrt",
        "Himmelfahrt",
    ),
)

_ES_UNITS = dict.fromkeys(("minuto", "minutos"), "m") | dict.fromkeys(("hora", "horas", "h"), "h")
_ES_UNITS |= dict.fromkeys(("día", "días", "dia", "dias"), "d") | dict.fromkeys(("semana", "semanas"), "w")

SPANISH = TimeWords(
    weekdays=(
        ("lunes",),
        ("martes",),
        ("miércoles", "miercoles"),
        ("jueves",),
        ("viernes",),
        ("sábado", "sabado"),
        ("domingo",),
    ),
    months=(
        ("enero",),
        ("febrero",),
        ("marzo",),
        ("abril",),
        ("mayo",),
        ("junio",),
        ("julio",),
        ("agosto",),
        ("septiembre", "setiembre"),
        ("octubre",),
        ("noviembre",),
        ("diciembre",),
    ),
    today=("hoy", "esta tarde", "esta noche"),
    tomorrow=("mañana", "manana"),
    day_after_tomorrow=("pasado mañana", "pasado manana"),
    noon=("mediodía", "mediodia"),
    midnight=("medianoche",),
    end_of_day=("final del día", "fin del día", "final del dia", "fin del dia", "cierre del día"),
    within=("en", "dentro de", "en un plazo de", "en menos de"),
    units=_ES_UNITS,
    business=("hábiles", "habiles", "laborables"),
    numbers={"un": 1, "una": 1, "uno": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5}
    | {"seis": 6, "siete": 7, "ocho": 8, "nueve": 9, "diez": 10},
    by=("antes del", "antes de", "a más tardar el", "a mas tardar el", "no más tarde del", "para el"),
    until=("hasta el",),
    at_the_latest=("a más tardar", "a mas tardar", "como muy tarde"),
    at=("a las", "a la", "el", "antes de las", "antes de la", "hacia las", "sobre las", "de", "para las"),
    fixed_holidays={
        "Nochebuena": (12, 24),
        "día de Navidad": (12, 25),
        "Navidad": (12, 25),
        "Nochevieja": (12, 31),
        "día de Año Nuevo": (1, 1),
        "Año Nuevo": (1, 1),
        "día de Reyes": (1, 6),
    },
    moveable_holidays=("Semana Santa", "Viernes Santo", "Jueves Santo", "lunes de Pascua", "Pascua"),
)

WORDS: Mapping[str, TimeWords] = {"en": ENGLISH, "fr": FRENCH, "de": GERMAN, "es": SPANISH}
LANGUAGES = tuple(WORDS)


def fold(words: str) -> str:
    """``words`` as the tables look them up: no accents, case folded, one space, "'" apostrophes.

    NFKD also maps look-alikes (the long s, the Kelvin sign) to the letters they fold to
    under a case-insensitive regex, so a match always finds its table entry.
    """
    decomposed = unicodedata.normalize("NFKD", words.replace("’", "'"))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.casefold().replace("-", " ").split())


def alternation(words: Iterable[str]) -> str:
    """A regex matching any of ``words`` (longest first), spaces and hyphens loosely."""
    unique = sorted(set(words), key=lambda w: (-len(w), w))
    return "|".join(_loose(word) for word in unique)


def _loose(word: str) -> str:
    parts = []
    for char in word:
        if char in " -":
            parts.append(r"[\s-]+")
        elif char in "'’":
            parts.append("['’]")
        else:
            parts.append(re.escape(char))
    return "".join(parts)
