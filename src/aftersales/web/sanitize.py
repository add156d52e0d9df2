"""Customer HTML made safe to show: nh3 (the Rust ammonia sanitiser) keeps formatting tags and
drops scripts, styles, event handlers, forms and javascript: links. The case page also shows
the result inside a sandboxed iframe with a strict Content-Security-Policy, so even markup the
sanitiser let through could not run a script or load a remote resource."""

from __future__ import annotations

import nh3

_TAGS = {
    "a", "b", "blockquote", "br", "code", "div", "em", "h1", "h2", "h3", "h4", "hr", "i", "li",
    "ol", "p", "pre", "s", "small", "span", "strong", "sub", "sup", "table", "tbody", "td", "th",
    "thead", "tr", "u", "ul", "img",
}  # fmt: skip
_ATTRIBUTES = {"a": {"href", "title"}, "img": {"alt", "src"}, "td": {"colspan"}, "th": {"colspan"}}
# Remote images are tracking pixels in mail; only inline (cid:) and data: images are kept.
_SCHEMES = {"http", "https", "mailto", "cid", "data"}
# Pages load their own script and style only; customer HTML is shown in a sandboxed frame.
PAGE_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
)
# The frame's own policy: no script at all, images only from inside the message.
FRAME_CSP = "default-src 'none'; img-src cid: data:; style-src 'unsafe-inline'"


def _no_remote_images(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src" and not value.startswith(("cid:", "data:image/")):
        return None
    return value


def safe_email_html(html: str) -> str:
    """The message's HTML with everything that could run or phone home removed ("" if none)."""
    if not html.strip():
        return ""
    return nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes=_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        attribute_filter=_no_remote_images,
    )
