"""The words that make a reply's sentence a promise, a request or the end of the case.

Per language (English, French, German, Spanish), as regex fragments matched without case:

* ``PROMISE``: the sentence commits us (or tells the customer what they will get) to
  something in the future: "we will", "I'll", "expect", "nous reviendrons", "vous
  recevrez", "wir melden uns", "Sie erhalten", "le escribiremos", "recibirá". A date in a
  sentence without these words is a fact ("the last scan was on Monday 30 November").
* ``REQUEST``: the sentence asks the customer for something ("please send the photos by
  Friday"): its date is their deadline, not our promise.
* ``CLOSING``: the reply resolves the case ("I have refunded you in full, nothing else is
  needed", "your replacement has shipped, this case is now closed"): it needs no
  next-update time.

French and Spanish futures are read from their endings (-erons, -rez, -remos, -rá), with
the few irregular forms listed; German says the future in the present tense, so its
commitments are listed as phrases.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache

__all__ = ["CLOSING", "PROMISE", "REQUEST", "closing_pattern", "promise_pattern", "request_pattern"]

PROMISE: Mapping[str, str] = {
    "en": (
        r"\b(?:will|shall|won't|going\s+to|expect|next\s+update|get\s+back\s+to\s+you|update\s+you"
        r"|keep\s+you\s+(?:posted|updated)|hear\s+(?:back\s+)?from\s+(?:us|me))\b|['’]ll\b"
    ),
    "fr": (
        r"\b\w+(?:erons|irons|rrons|drons|vrons|erai|irai|rrai|drai|vrai|erez|irez|rrez|drez|vrez)\b"
        r"|\b(?:aurons|aurez|aurai|aura|serons|serez|serai|sera|ferons|ferez|ferai|fera|pourra|devra"
        r"|vais|allons|prochaine\s+mise\s+à\s+jour|prochain\s+point)\b"
    ),
    "de": (
        r"\b(?:werden|werde|wird|wirst|melden\s+uns|melde\s+mich|schreiben\s+Ihnen|schreibe\s+Ihnen"
        r"|antworten\s+Ihnen|erhalten\s+Sie|Sie\s+erhalten|bekommen\s+Sie|Sie\s+bekommen|hören\s+Sie"
        r"|Sie\s+hören|informieren\s+Sie|geben\s+Ihnen|nächstes\s+Update|nächste\s+Rückmeldung)\b"
    ),
    "es": (
        r"\b\w+(?:aremos|eremos|iremos|arán|erán|irán|ará|erá|irá|aré|eré|iré)\b"
        r"|\b(?:tendrá|tendremos|podrá|podremos|haremos|diremos|sabrá|sabremos|vamos\s+a|va\s+a"
        r"|próxima\s+actualización)\b"
    ),
}

REQUEST: Mapping[str, str] = {
    "en": r"\b(?:please|could\s+you|can\s+you|would\s+you|kindly)\b",
    "fr": r"\b(?:s['’]il\s+vous\s+pla[iî]t|pourriez[\s-]vous|merci\s+de|veuillez)\b",
    "de": r"\b(?:bitte|könnten\s+Sie|können\s+Sie)\b",
    "es": r"\b(?:por\s+favor|podría|puede\s+usted|le\s+ruego)\b",
}

_CASE_EN = r"(?:this|the|your)\s+(?:case|ticket|request|matter|issue)"
CLOSING: Mapping[str, str] = {
    "en": (
        r"\bnothing\s+(?:else|more|further)\s+(?:is\s+)?(?:needed|required|to\s+do)\b"
        r"|\bno\s+(?:further|other)\s+action\s+(?:is\s+)?(?:needed|required)\b"
        r"|\byou\s+(?:do\s+not|don['’]t)\s+need\s+to\s+do\s+anything\b"
        rf"|\b{_CASE_EN}\s+is\s+(?:now\s+)?(?:closed|resolved|complete)\b"
        r"|\b(?:we|I)\s*(?:have|['’]ve)\s+(?:now\s+|already\s+)?(?:refunded|reshipped"
        r"|issued\s+(?:a|the|your)\s+(?:full\s+)?refund|sent\s+(?:you\s+)?(?:a|the|your)\s+replacement)\b"
        r"|\b(?:refund|replacement)\s+(?:has|have)\s+(?:now\s+)?(?:been\s+)?(?:issued|processed|shipped|sent)\b"
        rf"|\b(?:we\s+are|I\s+am|I['’]m|we['’]re)\s+(?:now\s+)?closing\s+{_CASE_EN}\b"
    ),
    "fr": (
        r"\b(?:nous\s+vous\s+avons|je\s+vous\s+ai)\s+(?:intégralement\s+|entièrement\s+)?rembours"
        r"|\bremboursement\s+(?:a\s+été|est)\s+(?:effectué|émis|traité)"
        r"|\b(?:dossier|demande|cas)\s+est\s+(?:désormais\s+|maintenant\s+)?(?:clos|clôturée?|résolue?|fermée?)\b"
        r"|\brien\s+d['’]autre\s+(?:n['’]est\s+nécessaire|à\s+faire)"
        r"|\baucune\s+autre\s+action\s+n['’]est\s+nécessaire"
        r"|\bvous\s+n['’]avez\s+rien\s+(?:d['’]autre\s+)?à\s+faire"
        r"|\bremplacement\s+a\s+été\s+expédié"
    ),
    "de": (
        r"\b(?:wir\s+haben|ich\s+habe)\s+Ihnen\s+(?:\w+\s+){0,4}(?:erstattet|zurückerstattet|gutgeschrieben)"
        r"|\bErstattung\s+(?:wurde|ist)\s+(?:bereits\s+)?(?:veranlasst|ausgeführt|durchgeführt|erfolgt)"
        r"|\b(?:Fall|Vorgang|Anliegen)\s+ist\s+(?:jetzt\s+|nun\s+|damit\s+)?(?:abgeschlossen|erledigt|gelöst|geschlossen)"
        r"|\bnichts\s+(?:weiter|mehr)\s+(?:nötig|erforderlich|zu\s+tun)"
        r"|\bSie\s+müssen\s+nichts\s+(?:weiter|mehr)\s+tun"
        r"|\bErsatz\w*\s+(?:wurde|ist)\s+(?:bereits\s+)?(?:versandt|verschickt|unterwegs)"
    ),
    "es": (
        r"\b(?:le|te)?\s*hemos\s+(?:reembolsado|devuelto\s+el\s+importe)"
        r"|\breembolso\s+(?:ha\s+sido|fue)\s+(?:emitido|procesado|realizado)"
        r"|\b(?:caso|pedido|solicitud|incidencia)\s+(?:está|queda)\s+(?:ya\s+)?(?:cerrad[oa]|resuelt[oa])"
        r"|\bno\s+(?:hace\s+falta|es\s+necesario)\s+(?:hacer\s+)?nada\s+más"
        r"|\b(?:reemplazo|sustituto)\s+(?:ha\s+sido|fue)\s+enviado"
    ),
}


def _pattern(table: Mapping[str, str], languages: Iterable[str]) -> re.Pattern[str]:
    chosen = [table[code] for code in languages if code in table] or list(table.values())
    return re.compile("|".join(f"(?:{fragment})" for fragment in chosen), re.IGNORECASE)


@lru_cache(maxsize=32)
def promise_pattern(languages: tuple[str, ...]) -> re.Pattern[str]:
    return _pattern(PROMISE, languages)


@lru_cache(maxsize=32)
def request_pattern(languages: tuple[str, ...]) -> re.Pattern[str]:
    return _pattern(REQUEST, languages)


@lru_cache(maxsize=32)
def closing_pattern(languages: tuple[str, ...]) -> re.Pattern[str]:
    return _pattern(CLOSING, languages)
