"""Document analysis: the text of an uploaded file, one of the organization's files, or a synced Drive
file (plain text or PDF), summarised by the AI with its key dates, amounts and the tasks it asks for.

The text is read defensively: a file past the read limit is cut (and the report says so), binary or
undecodable content and password-protected or damaged PDFs are refused with a message, and only
the first ``ai.document_max_chars`` characters go to the AI."""

from __future__ import annotations

import io
from dataclasses import dataclass

from pydantic import BaseModel, Field, field_validator

from webapp.ai import services as ai
from webapp.ai.models import AiReport
from webapp.ai.projects import ProposedTask
from webapp.audit import record
from webapp.core.errors import DomainError
from webapp.extensions import db
from webapp.settings import define, get

define("ai.document_max_mb", int, 10, "Largest document read for AI analysis, in MB", minimum=1, maximum=200)
define(
    "ai.document_max_chars",
    int,
    20_000,
    "Characters of a document sent to the AI (the rest is left out, with a note)",
    minimum=1000,
    maximum=500_000,
)

MIB = 1024 * 1024


class UnreadableDocument(DomainError):
    code = "unreadable_document"


@dataclass
class DocumentText:
    name: str
    text: str
    notes: list[str]
    source: str  # upload, file, drive
    source_id: int | None = None


class KeyDate(BaseModel):
    date: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    what: str = Field(default="", max_length=500)


class Amount(BaseModel):
    amount: str = Field(min_length=1, max_length=80)
    what: str = Field(default="", max_length=500)


class DocumentAnswer(BaseModel):
    summary: str = Field(min_length=1, max_length=5000)
    key_dates: list[KeyDate] = Field(default_factory=list, max_length=50)
    amounts: list[Amount] = Field(default_factory=list, max_length=50)
    tasks: list[ProposedTask] = Field(default_factory=list, max_length=50)

    @field_validator("key_dates", "amounts", "tasks", mode="before")
    @classmethod
    def _none_is_empty(cls, value):
        return [] if value is None else value


def _decode_text(data: bytes) -> str:
    """Text in UTF-8 (with or without BOM) or UTF-16 with a BOM; anything else is refused."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    elif b"\x00" not in data[:8192]:
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            # a cut in the middle of a character at the read limit is not the file's fault
            if error.start >= len(data) - 4:
                return data[: error.start].decode("utf-8-sig")
    raise UnreadableDocument(
        "This file is not text Tessera can read (binary, or an encoding other than UTF-8/UTF-16). "
        "Upload a plain-text file or a PDF."
    )


def _pdf_text(data: bytes, limit: int) -> tuple[str, list[str]]:
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PyPdfError

    notes: list[str] = []
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise UnreadableDocument("This PDF is password-protected. Remove the password and upload it again.")
        pages, parts, length = len(reader.pages), [], 0
        for number, page in enumerate(reader.pages, 1):
            text = page.extract_text() or ""
            parts.append(text)
            length += len(text)
            if length >= limit and number < pages:
                notes.append(f"Only the first {number} of {pages} pages were read.")
                break
    except UnreadableDocument:
        raise
    except FileNotDecryptedError:
        raise UnreadableDocument("This PDF is password-protected. Remove the password and upload it again.") from None
    except (PyPdfError, ValueError, KeyError, TypeError, IndexError, AttributeError, RecursionError):
        raise UnreadableDocument("This PDF is damaged or not a PDF Tessera can read.") from None
    text = "\n".join(parts).strip()
    if not text:
        raise UnreadableDocument("This PDF has no text to read (a scanned image?).")
    return text, notes


def read_document(name: str, stream) -> DocumentText:
    """The text of ``stream`` (a file-like object), read up to the limit."""
    max_bytes = get("ai.document_max_mb") * MIB
    data = stream.read(max_bytes + 1)
    notes: list[str] = []
    if not data:
        raise UnreadableDocument("The file is empty.")
    cut = len(data) > max_bytes
    data = data[:max_bytes]
    limit = get("ai.document_max_chars")
    if data.startswith(b"%PDF"):
        if cut:
            raise UnreadableDocument(
                f"This PDF is larger than {get('ai.document_max_mb')} MB; split it or upload a smaller one."
            )
        text, notes = _pdf_text(data, limit)
    else:
        text = _decode_text(data)
        if cut:
            notes.append(f"The file is larger than {get('ai.document_max_mb')} MB; only the start was read.")
    text = text.replace("\x00", "")
    if not text.strip():
        raise UnreadableDocument("The file has no text in it.")
    if len(text) > limit:
        notes.append(f"The document is long: only its first {limit:,} characters (of {len(text):,}) were analysed.")
        text = text[:limit]
    return DocumentText(name=(name or "document")[:255], text=text, notes=notes, source="upload")


def read_file_upload(upload) -> DocumentText:
    from webapp.storage import StorageError, storage

    if not upload.downloadable:
        raise UnreadableDocument("That file is not ready (still scanning, failed or deleted).")
    try:
        with storage().open(upload.storage_key) as stream:
            document = read_document(upload.original_name, stream)
    except StorageError:
        raise UnreadableDocument("That file cannot be read from storage right now.") from None
    document.source, document.source_id = "file", upload.id
    return document


def read_drive_file(drive_file) -> DocumentText:
    from webapp.integrations.services import drive_file_content

    if drive_file.is_folder:
        raise UnreadableDocument("That is a folder; choose a file.")
    data = drive_file_content(drive_file, max_bytes=get("ai.document_max_mb") * MIB + 1)
    document = read_document(drive_file.file_name, io.BytesIO(data))
    document.source, document.source_id = "drive", drive_file.id
    return document


def analyse_document(org, actor, document: DocumentText) -> AiReport:
    answer = ai.ask(
        org,
        actor,
        "DOCUMENT_ANALYSIS",
        "document_summary",
        {"file_name": document.name, "text": document.text},
        operation="document_analysis",
        json_mode=True,
    )
    result = ai.parsed(answer, DocumentAnswer)
    answer.charge()
    report = AiReport(
        organization_id=org.id,
        created_by_id=actor.id,
        kind=AiReport.DOCUMENT,
        title=document.name,
        figures={"characters": len(document.text), "notes": document.notes},
        narrative=result.summary,
        details={
            "source": document.source,
            "source_id": document.source_id,
            "key_dates": [d.model_dump() for d in result.key_dates],
            "amounts": [a.model_dump() for a in result.amounts],
            "tasks": [t.model_dump() for t in result.tasks],
        },
        usage_log_id=answer.usage_log_id,
        credits_used=answer.credits,
    )
    db.session.add(report)
    db.session.flush()
    record(actor, "ai.document_analysed", report, {"file": document.name, "source": document.source}, org=org)
    return report
