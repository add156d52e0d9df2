"""Deployment settings: where the store's data lives. Read once, at start-up, by the CLI.

Per-store business rules (routes, SLA targets, leads) are not settings: they live in the
store's policy file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from aftersales.domain.errors import ConfigError

DEFAULT_SHOPIFY_API_VERSION = "2026-10"
_MAIL_PORTS = {
    "IMAP": {"ssl": 993, "starttls": 143, "none": 143},
    "SMTP": {"ssl": 465, "starttls": 587, "none": 25},
}


class MailSecurity(StrEnum):
    SSL = "ssl"  # TLS from the first byte (IMAP 993, SMTP 465)
    STARTTLS = "starttls"  # plain connection upgraded with STARTTLS (IMAP 143, SMTP 587)
    NONE = "none"  # plaintext: only for a server on loopback (tests, a local relay)


@dataclass(frozen=True, slots=True)
class MailServer:
    """An IMAP or SMTP server and the login for it. The password never appears in a repr."""

    host: str
    port: int
    user: str
    password: str = field(repr=False)
    security: MailSecurity


@dataclass(frozen=True, slots=True)
class ShopifySettings:
    """The shop's Admin API and webhook secret; secrets never appear in a repr."""

    webhook_secret: str | None = field(default=None, repr=False)
    shop: str | None = None  # e.g. "northwind.myshopify.com"
    access_token: str | None = field(default=None, repr=False)
    api_version: str = DEFAULT_SHOPIFY_API_VERSION
    admin_url: str | None = None  # the GraphQL endpoint, when not https://SHOP/admin/api/VERSION/graphql.json

    @property
    def graphql_url(self) -> str | None:
        if self.admin_url:
            return self.admin_url
        if self.shop:
            return f"https://{self.shop}/admin/api/{self.api_version}/graphql.json"
        return None


@dataclass(frozen=True, slots=True)
class LlmSettings:
    """An OpenAI-compatible chat-completions endpoint; the key never appears in a repr."""

    base_url: str  # e.g. http://127.0.0.1:11434/v1 (".../chat/completions" is added)
    model: str
    api_key: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path  # the store's data folder: policy.toml, router-model.json, the database
    policy_file: Path | None  # an explicit policy file; None: data_dir/policy.toml or the built-in
    database_url: str | None = None  # None: the SQLite file data_dir/aftersales.db
    secret_key: str | None = field(
        default=None, repr=False
    )  # signs web session cookies; None: data_dir/secret_key
    shopify: ShopifySettings = field(default_factory=ShopifySettings)
    imap: MailServer | None = None  # the support inbox polled by `aftersales mail poll`
    imap_folder: str = "INBOX"
    mail_backfill_days: int = 14  # on the first poll, fetch mail this many days back
    mail_poll_seconds: float = 60.0  # how often `aftersales serve` polls the inbox
    smtp: MailServer | None = None  # sends replies and acknowledgements
    secure_cookies: bool = False  # mark cookies Secure even when the request came over plain HTTP
    max_body_bytes: int = 1024 * 1024  # a web request's body, where its route sets no other cap
    max_upload_bytes: int = 20 * 1024 * 1024  # one evidence file uploaded on a case page
    max_message_bytes: int = 25 * 1024 * 1024  # one message taken in; a larger one is quarantined
    llm: LlmSettings | None = None  # the language-model reader's endpoint; None: local reader only
    send_lease_seconds: float = 900.0  # a mail claimed longer ago than this: its sender stopped
    worker_heartbeat_seconds: float = 10.0  # PostgreSQL workers; silent 3x this long: dead
    # the proxies whose X-Forwarded-For/-Proto the server believes ("" none: the peer is the
    # client), as uvicorn's forwarded_allow_ips: addresses or networks, comma-separated, or *
    forwarded_allow_ips: str = ""
    # the web desk's address as people reach it (https://desk.example.com): links in mail (the
    # satisfaction survey's, notifications'); None: no rating links, case links as paths only
    public_url: str | None = None

    @property
    def database(self) -> str:
        """The database URL in force: AFTERSALES_DATABASE_URL, else the embedded SQLite file."""
        return self.database_url or f"sqlite:///{self.data_dir / 'aftersales.db'}"

    @property
    def attachments_dir(self) -> Path:
        return self.data_dir / "attachments"

    @property
    def cache_dir(self) -> Path:
        """Rebuildable speed-ups (the cue index, the built-in model); safe to delete."""
        return self.data_dir / "cache"

    @property
    def model_file(self) -> Path:
        return self.data_dir / "router-model.json"

    def active_policy_file(self) -> Path | None:
        if self.policy_file is not None:
            return self.policy_file
        candidate = self.data_dir / "policy.toml"
        return candidate if candidate.is_file() else None


def default_data_dir(environ: Mapping[str, str]) -> Path:
    base = environ.get("XDG_DATA_HOME") or str(Path(environ.get("HOME", ".")) / ".local" / "share")
    return Path(base) / "aftersales"


def _number(environ: Mapping[str, str], name: str, default: float) -> float:
    raw = environ.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number") from None
    if not value > 0:
        raise ConfigError(f"{name}={raw!r} must be more than 0")
    return value


def _mail_server(environ: Mapping[str, str], kind: str) -> MailServer | None:
    """AFTERSALES_IMAP_* or AFTERSALES_SMTP_*: HOST (none: not configured), PORT, USER,
    PASSWORD and SECURITY (ssl, starttls or none)."""
    host = environ.get(f"AFTERSALES_{kind}_HOST")
    if not host:
        return None
    raw_security = (environ.get(f"AFTERSALES_{kind}_SECURITY") or "ssl").lower()
    try:
        security = MailSecurity(raw_security)
    except ValueError:
        raise ConfigError(
            f"AFTERSALES_{kind}_SECURITY={raw_security!r}: use one of ssl, starttls, none"
        ) from None
    port = _number(environ, f"AFTERSALES_{kind}_PORT", _MAIL_PORTS[kind][security.value])
    return MailServer(
        host=host,
        port=int(port),
        user=environ.get(f"AFTERSALES_{kind}_USER", ""),
        password=environ.get(f"AFTERSALES_{kind}_PASSWORD", ""),
        security=security,
    )


def _shopify(environ: Mapping[str, str]) -> ShopifySettings:
    return ShopifySettings(
        webhook_secret=environ.get("AFTERSALES_SHOPIFY_WEBHOOK_SECRET") or None,
        shop=environ.get("AFTERSALES_SHOPIFY_SHOP") or None,
        access_token=environ.get("AFTERSALES_SHOPIFY_ACCESS_TOKEN") or None,
        api_version=environ.get("AFTERSALES_SHOPIFY_API_VERSION") or DEFAULT_SHOPIFY_API_VERSION,
        admin_url=environ.get("AFTERSALES_SHOPIFY_ADMIN_URL") or None,
    )


def load_settings(environ: Mapping[str, str]) -> Settings:
    """AFTERSALES_* variables override the defaults (docs/configuration.md lists them)."""
    data_dir = (
        Path(environ["AFTERSALES_DATA_DIR"])
        if environ.get("AFTERSALES_DATA_DIR")
        else default_data_dir(environ)
    )
    policy = environ.get("AFTERSALES_POLICY")
    return Settings(
        data_dir=data_dir,
        policy_file=Path(policy) if policy else None,
        database_url=environ.get("AFTERSALES_DATABASE_URL") or None,
        secret_key=environ.get("AFTERSALES_SECRET_KEY") or None,
        shopify=_shopify(environ),
        imap=_mail_server(environ, "IMAP"),
        imap_folder=environ.get("AFTERSALES_IMAP_FOLDER") or "INBOX",
        mail_backfill_days=int(_number(environ, "AFTERSALES_MAIL_BACKFILL_DAYS", 14)),
        mail_poll_seconds=_number(environ, "AFTERSALES_MAIL_POLL_SECONDS", 60.0),
        smtp=_mail_server(environ, "SMTP"),
        secure_cookies=_flag(environ, "AFTERSALES_SECURE_COOKIES"),
        max_body_bytes=_megabytes(environ, "AFTERSALES_MAX_BODY_MB", 1),
        max_upload_bytes=_megabytes(environ, "AFTERSALES_MAX_UPLOAD_MB", 20),
        max_message_bytes=_megabytes(environ, "AFTERSALES_MAX_MESSAGE_MB", 25),
        llm=_llm(environ),
        send_lease_seconds=_number(environ, "AFTERSALES_SEND_LEASE_SECONDS", 900.0),
        worker_heartbeat_seconds=_number(environ, "AFTERSALES_WORKER_HEARTBEAT_SECONDS", 10.0),
        forwarded_allow_ips=(environ.get("AFTERSALES_FORWARDED_ALLOW_IPS") or "").strip(),
        public_url=_public_url(environ),
    )


def _public_url(environ: Mapping[str, str]) -> str | None:
    raw = (environ.get("AFTERSALES_PUBLIC_URL") or "").strip()
    if not raw:
        return None
    if not raw.startswith(("http://", "https://")) or " " in raw:
        raise ConfigError(
            f"AFTERSALES_PUBLIC_URL={raw!r}: give the web desk's address as people reach it, "
            "e.g. https://desk.example.com"
        )
    return raw.rstrip("/")


def _llm(environ: Mapping[str, str]) -> LlmSettings | None:
    """AFTERSALES_LLM_BASE_URL (none: no language-model reader), _MODEL and _API_KEY."""
    base_url = (environ.get("AFTERSALES_LLM_BASE_URL") or "").strip()
    if not base_url:
        return None
    if not base_url.startswith(("http://", "https://")):
        raise ConfigError(
            f"AFTERSALES_LLM_BASE_URL={base_url!r}: give the server's http:// or https:// address, "
            "e.g. http://127.0.0.1:11434/v1"
        )
    model = (environ.get("AFTERSALES_LLM_MODEL") or "").strip()
    if not model:
        raise ConfigError(
            "AFTERSALES_LLM_BASE_URL is set but AFTERSALES_LLM_MODEL is not: name the model to ask"
        )
    return LlmSettings(base_url.rstrip("/"), model, environ.get("AFTERSALES_LLM_API_KEY") or None)


def _flag(environ: Mapping[str, str], name: str) -> bool:
    raw = (environ.get(name) or "0").strip().lower()
    if raw not in {"0", "1", "true", "false", "yes", "no"}:
        raise ConfigError(f"{name}={raw!r}: use 1 or 0")
    return raw in {"1", "true", "yes"}


def _megabytes(environ: Mapping[str, str], name: str, default: float) -> int:
    return int(_number(environ, name, default) * 1024 * 1024)
