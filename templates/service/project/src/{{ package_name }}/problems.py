"""Errors as RFC 9457 problem details (`application/problem+json`): one shape for every error.

Domains raise a `ProblemError` subclass (see `items/exceptions.py`); FastAPI's own errors
(404 for unknown paths, 405, 422 validation) are answered in the same shape.
"""

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from .request_context import current_request_id

PROBLEM_MEDIA_TYPE = "application/problem+json"


class ProblemError(Exception):
    """An error the client caused or should know about, answered with its HTTP status."""

    status: int = HTTPStatus.INTERNAL_SERVER_ERROR

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def problem_response(
    status: int,
    detail: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    """A problem document with `type: about:blank`, so `title` is the status phrase."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    body.update(extensions)
    body["request_id"] = current_request_id()
    return JSONResponse(
        jsonable_encoder(body), status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE
    )


def install_problem_handlers(app: FastAPI) -> None:
    """Answer domain errors and FastAPI's own errors with problem documents."""

    @app.exception_handler(ProblemError)
    async def on_problem(_: Request, exc: ProblemError) -> JSONResponse:
        return problem_response(exc.status, exc.detail)

    @app.exception_handler(HTTPException)
    async def on_http_exception(_: Request, exc: HTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else None
        return problem_response(exc.status_code, detail, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def on_validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        # Only where and why: the rejected input itself may be a secret.
        errors = [
            {"loc": list(error["loc"]), "msg": error["msg"], "type": error["type"]}
            for error in exc.errors()
        ]
        return problem_response(
            HTTPStatus.UNPROCESSABLE_ENTITY, "The request is not valid.", errors=errors
        )
