"""Response shapes of the import endpoints (documented in the OpenAPI description)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ResourceCreated(BaseModel):
    status: int = Field(201, description="HTTP status code.")
    resourceId: str = Field(description="The import's id: GET /data/v1/Import/{resourceId}.")


class ListrakError(BaseModel):
    status: int
    error: str
    message: str


class ImportCounts(BaseModel):
    received: int = Field(description="Records in the payload.")
    processed: int = Field(description="Records handled so far (the resume checkpoint).")
    inserted: int
    updated: int
    unchanged: int = Field(description="Valid records identical to what was stored.")
    rejected: int = Field(description="Invalid records; each has error lines.")
    duplicates: int = Field(
        description="Records superseded by a later record with the same key in the payload."
    )
    warnings: int


class ImportRead(BaseModel):
    resourceId: str
    entity: str
    source: str = Field(description="api, sftp, ftp or cli.")
    fileName: str | None
    status: str = Field(
        description="queued, running, succeeded, partially_failed, failed, or duplicate (a "
        "dropped file whose content was imported before: nothing imported from it)."
    )
    counts: ImportCounts
    message: str | None
    payloadBytes: int
    createdAt: str
    startedAt: str | None
    finishedAt: str | None


class IssueRead(BaseModel):
    severity: str = Field(description="error (record rejected) or warning (record kept).")
    index: int | None = Field(description="Position of the record in the posted array.")
    line: int | None = Field(description="Line in the file, for file imports.")
    field: str = Field(description="Path of the field, e.g. items[2].sku.")
    rule: str = Field(
        description="required, maxLength, type, format, enum, range, conflict, duplicate, "
        "unknownField."
    )
    message: str
    value: str | None = Field(description="The offending value, truncated to 200 characters.")


class ImportList(BaseModel):
    status: int = 200
    data: list[ImportRead]
    nextPageCursor: str | None


class IssueList(BaseModel):
    status: int = 200
    resourceId: str
    totalCount: int
    data: list[IssueRead]
    nextPageCursor: str | None


class ValidationCounts(BaseModel):
    received: int
    valid: int
    rejected: int
    duplicates: int
    warnings: int


class ValidationReport(BaseModel):
    status: int = 200
    validateOnly: bool = True
    entity: str
    counts: ValidationCounts
    errors: list[IssueRead]
    truncated: bool = Field(description="True when more issues exist than are listed.")
