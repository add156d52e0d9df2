"""Links the desk puts in mail: the satisfaction survey's signed rating links and the case
links of notification mails, on the web desk's public address (AFTERSALES_PUBLIC_URL).

A rating link carries the random token of its ``case_ratings`` row, signed with a key derived
from the web desk's secret (itsdangerous, its own salt: a session cookie's signature is no
rating link's, and the other way round). A forged or altered link fails the signature before
the database is asked; a genuine one still rates once, until it expires (the row says).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote

from itsdangerous import BadSignature, URLSafeSerializer

from aftersales.domain.satisfaction import Rating

_SALT = "aftersales.satisfaction-rating"


@dataclass(frozen=True, slots=True)
class SignedLinks:
    """``base``: the desk's public address without a trailing slash; "" when unknown (then
    no rating links are made: a link by path alone would not work from a customer's mail)."""

    secret: str = field(repr=False)
    base: str = ""

    @property
    def can_link(self) -> bool:
        return bool(self.base)

    def _signer(self) -> URLSafeSerializer:
        return URLSafeSerializer(self.secret, salt=_SALT)

    def sign(self, token: str) -> str:
        signed: str = self._signer().dumps(token)
        return signed

    def token_from(self, signed: str) -> str | None:
        """The token a link carries; None when the signature fails (forged, altered, cut)."""
        try:
            token = self._signer().loads(signed)
        except BadSignature:
            return None
        return token if isinstance(token, str) else None

    def rating_url(self, token: str, rating: Rating) -> str:
        return f"{self.base}/rate/{quote(self.sign(token), safe='')}?rating={rating.value}"

    def case_url(self, case_id: int) -> str:
        return f"{self.base}/cases/{case_id}"
