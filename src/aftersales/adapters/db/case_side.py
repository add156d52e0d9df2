"""What a case page shows beside the conversation: the case's files (the ``attachments``
table, migration 0015) and the customer's other cases.

``SqlCaseRepository`` exposes these as methods, in its unit of work; they live here to keep
that module's size in check.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, RowMapping, bindparam, insert, select

from aftersales.adapters.db import schema as t
from aftersales.domain.attachments import CaseFile
from aftersales.domain.messages import AttachmentMeta, Direction
from aftersales.domain.order_side import OtherCase

_SHA256 = re.compile(r"[0-9a-f]{64}")
_A, _M = t.attachments, t.messages
_FILES = select(_A, _M.c.direction).outerjoin(_M, _M.c.id == _A.c.message_id).order_by(_A.c.added_at, _A.c.id)
_FILES_OF = _FILES.where(_A.c.case_id == bindparam("case_id_"))
_FILE = _FILES.where(_A.c.id == bindparam("file_id"))
_ADD = insert(_A).returning(_A.c.id)
_OTHER_CASES = (
    select(
        t.cases.c.id,
        t.cases.c.subject,
        t.cases.c.route,
        t.cases.c.status,
        t.cases.c.order_number,
        t.cases.c.opened_at,
    )
    .where(t.cases.c.customer_id == bindparam("customer_id"), t.cases.c.id != bindparam("except_case"))
    .order_by(t.cases.c.opened_at.desc(), t.cases.c.id.desc())
    .limit(bindparam("limit"))
)


def add_message_files(
    db: Connection, case_id: int, message_id: int, files: Sequence[AttachmentMeta], by: str, at: datetime
) -> None:
    rows = [row | {"message_id": message_id} for row in message_file_rows(case_id, files, by, at)]
    if rows:
        db.execute(insert(_A), rows)


def message_file_rows(
    case_id: int, files: Sequence[AttachmentMeta], by: str, at: datetime
) -> list[dict[str, Any]]:
    """The ``attachments`` rows of a message's files, without the message's id."""
    return [_values(case_id, meta, by, at) for meta in files]


def add_upload(
    db: Connection, case_id: int, evidence_key: str, meta: AttachmentMeta, by: str, at: datetime
) -> int:
    values = _values(case_id, meta, by, at) | {"evidence_key": evidence_key}
    return int(db.execute(_ADD, values).scalar_one())


def files_of(db: Connection, case_id: int) -> list[CaseFile]:
    return [_file(row) for row in db.execute(_FILES_OF, {"case_id_": case_id}).mappings()]


def case_file(db: Connection, file_id: int) -> CaseFile | None:
    row = db.execute(_FILE, {"file_id": file_id}).mappings().first()
    return None if row is None else _file(row)


def file_content(attachments_dir: Path, file: CaseFile) -> bytes | None:
    """The file's bytes when a whole copy is kept (one over the size cap, or torn by a crash,
    is not); read by the hash it was stored under, never by a name anyone sent."""
    if not _SHA256.fullmatch(file.sha256):
        return None
    try:
        content = (attachments_dir / file.sha256[:2] / file.sha256).read_bytes()
    except OSError:
        return None
    return content if hashlib.sha256(content).hexdigest() == file.sha256 else None


def customer_cases(db: Connection, customer_id: int, except_case: int, limit: int) -> list[OtherCase]:
    """The customer's other cases, newest first."""
    values = {"customer_id": customer_id, "except_case": except_case, "limit": limit}
    return [OtherCase(**row) for row in db.execute(_OTHER_CASES, values).mappings()]


def _values(case_id: int, meta: AttachmentMeta, by: str, at: datetime) -> dict[str, Any]:
    return {
        "case_id": case_id,
        "message_id": None,
        "evidence_key": "",
        "filename": (meta.filename or "attachment")[:255],
        "content_type": meta.content_type[:255],
        "size": meta.size,
        "sha256": meta.sha256,
        "added_by": by[:200],
        "added_at": at,
    }


def _file(row: RowMapping) -> CaseFile:
    return CaseFile(
        id=row["id"],
        case_id=row["case_id"],
        message_id=row["message_id"],
        evidence_key=row["evidence_key"],
        filename=row["filename"],
        content_type=row["content_type"],
        size=row["size"],
        sha256=row["sha256"],
        added_by=row["added_by"],
        added_at=row["added_at"],
        from_customer=row["direction"] == Direction.INBOUND.value,
    )
