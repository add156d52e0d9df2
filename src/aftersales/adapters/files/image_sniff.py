"""Whether a file's bytes are an image a browser may show inline: PNG, JPEG, GIF or WebP,
read from the content with Pillow (the declared type is whatever the sender wrote)."""

from __future__ import annotations

import io
import warnings

from PIL import Image

# SVG is never among them: it can carry scripts
SHOWN_INLINE = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}


def image_type(content: bytes) -> str | None:
    """The image's media type when its bytes are one of SHOWN_INLINE, else None (any other
    file, a damaged one, or one so large in pixels that it is offered for download instead)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(content), formats=list(SHOWN_INLINE)) as image:
                return SHOWN_INLINE.get(image.format or "")
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombWarning, Image.DecompressionBombError):
        return None
