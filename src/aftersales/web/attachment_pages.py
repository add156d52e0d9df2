"""A case's files, by their own id, for signed-in users only: ``GET /attachments/{id}`` (a
page: signed out, the sign-in page) and ``GET /api/attachments/{id}`` (in ``api.py``: 401).

Only a number names a file (never a path or a name), so "../" or anything else is a 404. An
image whose bytes are PNG, JPEG, GIF or WebP is shown inline; anything else, whatever type it
declares, is a download of ``application/octet-stream``. Both under a Content-Security-Policy
that runs nothing and loads nothing, and ``nosniff``.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter
from fastapi.responses import Response

from aftersales.adapters.files.image_sniff import image_type
from aftersales.domain.attachments import download_name, file_id
from aftersales.services.case_side import FileNotFound, case_file
from aftersales.web.context import WebDesk
from aftersales.web.security import PageUser, Web

router = APIRouter(include_in_schema=False)
FILE_CSP = "default-src 'none'; img-src 'self'; sandbox"


@router.get("/attachments/{reference}")
def attachment(reference: str, web: Web, user: PageUser) -> Response:
    return file_response(web, reference)


def file_response(web: WebDesk, reference: str) -> Response:
    number = file_id(reference)
    if number is None:
        raise FileNotFound("no such file: a file is named by its number, e.g. /attachments/12")
    file, content = case_file(web.desk.read, number)
    shown = image_type(content)
    how = "inline" if shown else "attachment"
    headers = {
        "Content-Disposition": f"{how}; filename*=UTF-8''{quote(download_name(file.filename), safe='')}",
        "Content-Security-Policy": FILE_CSP,
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",  # a customer's file: never kept by a shared cache
    }
    return Response(content, media_type=shown or "application/octet-stream", headers=headers)
