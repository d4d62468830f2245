"""The five Listrak import operations, and the import status routes Listrak lacks."""

import hashlib
import itertools
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any, BinaryIO

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from retailhub.auth.service import TokenInfo
from retailhub.config import Settings, get_settings
from retailhub.db import session_scope
from retailhub.deps import SessionDep, require_scope
from retailhub.errors import DomainError
from retailhub.imports import service
from retailhub.imports.entities import SPECS
from retailhub.imports.issues import Issue
from retailhub.imports.payload import MalformedBody, check_start, iter_file_records, normalize
from retailhub.imports.pipeline import Classifier
from retailhub.imports.schemas import (
    ImportList,
    ImportRead,
    IssueList,
    IssueRead,
    ListrakError,
    ResourceCreated,
    ValidationReport,
)
from retailhub.kit.timeutil import iso
from retailhub.models import ImportIssue, ImportJob

router = APIRouter(prefix="/data/v1")

SPOOL_IN_MEMORY = 1 << 20
REPORT_LIMIT = 1000

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ListrakError, "description": "BadRequest"},
    401: {"model": ListrakError, "description": "Unauthorized"},
    403: {"model": ListrakError, "description": "The token lacks the operation's scope"},
    404: {"model": ListrakError, "description": "Body over the size limit (as Listrak answers)"},
    415: {"model": ListrakError, "description": "Content-Type is not application/json"},
}


class TooLarge(DomainError):
    status = 404
    code = "ERROR_REQUEST_ENTITY_TOO_LARGE"


def _issue_read(i: Issue | ImportIssue) -> IssueRead:
    index = i.record_index if isinstance(i, ImportIssue) else i.index
    return IssueRead(
        severity=i.severity,
        index=index,
        line=i.line,
        field=i.field,
        rule=i.rule,
        message=i.message,
        value=i.value,
    )


def import_read(job: ImportJob) -> ImportRead:
    return ImportRead(
        resourceId=job.id,
        entity=job.entity,
        source=job.source,
        fileName=job.file_name,
        status=job.status,
        counts=service.counts(job),
        message=job.message,
        payloadBytes=job.payload_bytes,
        createdAt=iso(job.created_at) or "",
        startedAt=iso(job.started_at),
        finishedAt=iso(job.finished_at),
    )


@dataclass
class Body:
    lines: BinaryIO  # the records as JSON lines
    count: int
    size: int
    sha256: str


def _spool(settings: Settings) -> BinaryIO:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return tempfile.SpooledTemporaryFile(  # type: ignore[return-value]
        max_size=SPOOL_IN_MEMORY, dir=str(settings.data_dir)
    )


async def _receive_body(request: Request) -> Body:
    """Stream the body to a spool (bounded memory), then parse it into JSON lines."""
    settings = get_settings()
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise DomainError(
            "Please use a Content-Type of application/json.",
            status=415,
            code="ERROR_UNSUPPORTED_CONTENT_TYPE",
        )
    too_large = TooLarge(
        f"The request body exceeds the maximum accepted size of {settings.max_body_bytes:,} bytes."
    )
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > settings.max_body_bytes:
        raise too_large
    malformed = DomainError(
        "The request body must be a JSON array.", code="ERROR_MALFORMED_REQUEST_BODY"
    )
    raw, lines = _spool(settings), _spool(settings)
    size, digest, head = 0, hashlib.sha256(), b""
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > settings.max_body_bytes:
                raise too_large
            if len(head) < 64:
                head += chunk[:64]
                if check_start(head) is False:
                    raise malformed
            digest.update(chunk)
            raw.write(chunk)
        count = await run_in_threadpool(normalize, raw, lines)
    except MalformedBody as exc:
        lines.close()
        raise DomainError(str(exc), code="ERROR_MALFORMED_REQUEST_BODY") from None
    except BaseException:
        lines.close()
        raise
    finally:
        raw.close()
    return Body(lines=lines, count=count, size=size, sha256=digest.hexdigest())


def _validate_only(entity: str, body: Body) -> ValidationReport:
    spec = SPECS[entity]
    classifier = Classifier(spec, spill_dir=str(get_settings().data_dir))
    try:
        return _report(entity, classifier, enumerate(iter_file_records(body.lines)))
    finally:
        classifier.close()


def _report(
    entity: str, classifier: Classifier, records: Iterator[tuple[int, Any]]
) -> ValidationReport:
    received = valid = rejected = duplicates = 0
    issues: list[Issue] = []
    total_issues = 0
    while batch := list(itertools.islice(records, 5000)):
        result = classifier.classify(batch)
        received += len(batch)
        valid += len(result.valid)
        rejected += result.rejected
        duplicates += result.duplicates
        total_issues += len(result.issues)
        issues.extend(result.issues[: max(0, REPORT_LIMIT - len(issues))])
    unknown = classifier.unknown_field_issues()
    total_issues += len(unknown)
    issues.extend(unknown[: max(0, REPORT_LIMIT - len(issues))])
    warnings = sum(1 for i in issues if i.severity == "warning")
    return ValidationReport(
        entity=entity,
        counts={
            "received": received,
            "valid": valid,
            "rejected": rejected,
            "duplicates": duplicates,
            "warnings": warnings,
        },
        errors=[_issue_read(i) for i in issues],
        truncated=total_issues > len(issues),
    )


def _accept(entity: str, token: TokenInfo, body: Body) -> str:
    with session_scope(write=True) as session:
        job = service.create_import(
            session,
            tenant_id=token.tenant_id,
            entity=entity,
            source="api",
            payload_file=body.lines,
            size=body.size,
            sha256=body.sha256,
            received=body.count,
        )
        return job.id


def _make_post(entity: str, operation_id: str, summary: str) -> None:
    spec = SPECS[entity]

    async def post(
        request: Request,
        token: Annotated[TokenInfo, Depends(require_scope(spec.scope))],
        validateOnly: Annotated[
            bool, Query(description="Validate and report without storing anything.")
        ] = False,
    ) -> Any:
        body = await _receive_body(request)
        try:
            if validateOnly:
                report = await run_in_threadpool(_validate_only, entity, body)
                return JSONResponse(report.model_dump(), status_code=200)
            resource_id = await run_in_threadpool(_accept, entity, token, body)
        finally:
            body.lines.close()
        return JSONResponse({"status": 201, "resourceId": resource_id}, status_code=201)

    post.__doc__ = (
        f"{summary}. Body: a JSON array of `{entity}` records (Listrak's schema).\n\n"
        "Answers `201 {status, resourceId}` once the payload is committed to storage; the "
        "import then runs in the background: follow it at `GET /data/v1/Import/{resourceId}`. "
        "Invalid records do not fail the request: the valid ones are imported and each "
        "invalid one is listed at `GET /data/v1/Import/{resourceId}/errors`. "
        "With `validateOnly=true` nothing is stored and the answer is `200` with the report "
        "(at most 1,000 issues listed; counts are complete)."
    )
    router.add_api_route(
        f"/{entity}",
        post,
        methods=["POST"],
        status_code=201,
        operation_id=operation_id,
        summary=summary,
        tags=[entity],
        response_model=ResourceCreated,
        responses={**ERROR_RESPONSES, 200: {"model": ValidationReport}},
    )


for _entity, _op, _summary in (
    ("Customer", "Customer_PostCustomerCollection", "Start a Customer Import"),
    ("Order", "Order_PostOrderCollection", "Start an Order Import"),
    ("Product", "Product_PostProductCollection", "Start a Product Import"),
    ("RatingSummary", "RatingSummary_PostRatingSummaryCollection", "Start a Rating Summary Import"),
    ("Review", "Review_PostReviewCollection", "Start a Review Import"),
):
    _make_post(_entity, _op, _summary)


any_data_token = require_scope(*sorted({s.scope for s in SPECS.values()}))


def visible_entities(token: TokenInfo) -> list[str]:
    """The entities whose imports a token may see: those its scopes may import."""
    return [name for name, spec in SPECS.items() if spec.scope in token.scopes]


@router.get(
    "/Import", operation_id="Import_GetImportCollection", tags=["Import"], response_model=ImportList
)
def list_imports(
    session: SessionDep,
    token: Annotated[TokenInfo, Depends(any_data_token)],
    count: Annotated[int, Query(ge=1, le=1000)] = 50,
    cursor: Annotated[str | None, Query(max_length=32)] = None,
    entity: Annotated[str | None, Query()] = None,
) -> ImportList:
    """The tenant's imports, newest first. Page with `count` and the `nextPageCursor` of the
    previous page passed as `cursor`."""
    rows = service.list_imports(
        session,
        tenant_id=token.tenant_id,
        entities=visible_entities(token),
        limit=count + 1,
        before=cursor,
        entity=entity,
    )
    page = rows[:count]
    return ImportList(
        data=[import_read(r) for r in page],
        nextPageCursor=page[-1].id if len(rows) > count else None,
    )


@router.get(
    "/Import/{resourceId}",
    operation_id="Import_GetImport",
    tags=["Import"],
    response_model=ImportRead,
    responses={404: {"model": ListrakError}},
)
def get_import(
    resourceId: str,
    session: SessionDep,
    token: Annotated[TokenInfo, Depends(any_data_token)],
) -> ImportRead:
    """The state of one import: status, counts, timings."""
    return import_read(
        service.get_import(
            session,
            tenant_id=token.tenant_id,
            import_id=resourceId,
            entities=visible_entities(token),
        )
    )


@router.get(
    "/Import/{resourceId}/errors",
    operation_id="Import_GetImportErrors",
    tags=["Import"],
    response_model=IssueList,
    responses={404: {"model": ListrakError}},
)
def get_import_errors(
    resourceId: str,
    session: SessionDep,
    token: Annotated[TokenInfo, Depends(any_data_token)],
    count: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[int, Query(ge=0)] = 0,
    severity: Annotated[str | None, Query(pattern="^(error|warning)$")] = None,
) -> IssueList:
    """Every rejected record (severity `error`: index, field path, rule, message, offending
    value) and every warning, in the order they were found (batch by batch; a duplicate
    warning names an earlier record). Page with `count` and `cursor`."""
    rows, total = service.list_issues(
        session,
        tenant_id=token.tenant_id,
        entities=visible_entities(token),
        import_id=resourceId,
        severity=severity,
        after=cursor,
        limit=count + 1,
    )
    page = rows[:count]
    return IssueList(
        resourceId=resourceId,
        totalCount=total,
        data=[_issue_read(r) for r in page],
        nextPageCursor=str(page[-1].id) if len(rows) > count else None,
    )
