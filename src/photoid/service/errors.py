"""One error body for every failed request: ``{"error": {"code", "message", "details"}}``.

``code`` is a short stable word a client can branch on; ``message`` says what is wrong and what
to do; ``details`` holds the specifics (e.g. the invalid fields), or null.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from photoid.errors import ImageLoadError, PhotoidError

LOG = logging.getLogger(__name__)

STATUS_CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "too_many_requests",
    500: "internal",
}


class ApiError(Exception):
    """An error the service answers on purpose, with its HTTP status."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str | None = None,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code or STATUS_CODES.get(status, "error")
        self.message = message
        self.details = details
        self.headers = headers or {}


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    """The JSON body of an error answer."""
    return {"error": {"code": code, "message": message, "details": details}}


def error_response(
    status: int, message: str, code: str | None = None, details: Any = None
) -> JSONResponse:
    """An error answer with ``status`` and the common body."""
    body = error_body(code or STATUS_CODES.get(status, "error"), message, details)
    return JSONResponse(jsonable_encoder(body), status_code=status)


async def _api_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    response = error_response(exc.status, exc.message, exc.code, exc.details)
    response.headers.update(exc.headers)
    return response


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    message = exc.detail if isinstance(exc.detail, str) else STATUS_CODES.get(exc.status_code, "")
    response = error_response(exc.status_code, message)
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


def invalid(errors: Sequence[Any]) -> ApiError:
    """The 422 error for pydantic's validation ``errors``: each field with its problem."""
    fields = [
        {"field": ".".join(str(p) for p in error["loc"]), "problem": error["msg"]}
        for error in errors
    ]
    shown = "; ".join(f"{f['field']}: {f['problem']}" for f in fields)
    return ApiError(422, f"invalid request: {shown}", "invalid", fields)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return await _api_error(request, invalid(exc.errors()))


async def _photoid_error(_request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, ImageLoadError):
        return error_response(422, str(exc), "bad_image", {"file": exc.path.name})
    return error_response(400, str(exc), "rejected")


async def _conflict(_request: Request, exc: Exception) -> JSONResponse:
    # a uniqueness clash no library check caught (two clients racing): the client can retry
    LOG.warning("integrity error answered 409: %s", exc)
    return error_response(
        409, "this clashes with a change made at the same moment; reload and try again"
    )


async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    LOG.exception("unexpected error", exc_info=exc)
    return error_response(500, "internal error; the server log has the details", "internal")


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error of ``app`` with the common body."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(PhotoidError, _photoid_error)
    app.add_exception_handler(IntegrityError, _conflict)
    app.add_exception_handler(Exception, _unexpected)
