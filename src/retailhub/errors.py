"""Domain errors carry their HTTP status; each API family renders them in its own shape."""

from __future__ import annotations


class DomainError(Exception):
    status: int = 400
    code: str = "ERROR_INVALID_PARAMETER"

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        field: str | None = None,
    ):
        super().__init__(message)
        self.message = message
        # The request field at fault, where there is one (shown by the loyalty API).
        self.field = field
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code


class NotFound(DomainError):
    status = 404
    code = "ERROR_UNABLE_TO_LOCATE_RESOURCE"


class Unauthorized(DomainError):
    status = 401
    code = "ERROR_UNAUTHORIZED"


class Forbidden(DomainError):
    status = 403
    code = "ERROR_UNAUTHORIZED"


class Conflict(DomainError):
    status = 409
    code = "ERROR_CONFLICT"
