"""A message pasted or listed as text is read as intake reads a mail: what the sender wrote,
without the earlier e-mail quoted below it."""

from __future__ import annotations

import re

# a quoted line, a reply header ("On Mon, 2 Nov 2026, Shop <a@b.c> wrote:") or an Outlook divider
_QUOTED_REPLY = re.compile(r"^[ \t]*>|^On .{5,300}wrote:[ \t]*$|^-{2,} ?Original Message", re.MULTILINE)


def sender_text(text: str) -> str:
    """The text with a quoted reply cut, as intake cuts it; the text itself when it quotes none."""
    if not _QUOTED_REPLY.search(text):
        return text
    # only a pasted thread pays for the mail parser's import (`route` starts fast without it)
    from aftersales.adapters.mail.parse import new_text

    return new_text(text) or text
