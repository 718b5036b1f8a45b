"""RFC 9457 problem details: every error of the app answers `application/problem+json`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from flask import Flask, Response, current_app, request
from werkzeug.exceptions import HTTPException, InternalServerError

PROBLEM_TYPE = "about:blank"
MEDIA_TYPE = "application/problem+json"

# Problem `type` URIs for the errors the API itself defines (relative to the app).
TYPES = {
    401: "/problems/unauthorized",
    403: "/problems/read-only-token",
    404: "/problems/not-found",
    409: "/problems/conflict",
    410: "/problems/retracted",
    412: "/problems/stale-version",
    413: "/problems/body-too-large",
    415: "/problems/not-json",
    422: "/problems/invalid",
}


class Problem(Exception):
    """An error a view raises; rendered as problem+json with the given status."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        *,
        errors: Sequence[tuple[str, str]] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail
        self.errors = list(errors)
        self.headers = headers or {}


def invalid(field: str, message: str, *, title: str = "Invalid request") -> Problem:
    """A 422 naming one field or parameter."""
    return Problem(422, title, f"{field}: {message}", errors=[(field, message)])


def problem_body(
    status: int, title: str, detail: str, instance: str, errors: Sequence[tuple[str, str]] = ()
) -> dict[str, Any]:
    """The JSON object of a problem."""
    body: dict[str, Any] = {
        "type": TYPES.get(status, PROBLEM_TYPE),
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
    }
    if status == 422 or errors:
        body["errors"] = [{"field": field, "message": message} for field, message in errors]
    return body


def problem_response(problem: Problem) -> Response:
    """Render a Problem for the current request."""
    body = problem_body(problem.status, problem.title, problem.detail, request.path, problem.errors)
    response = Response(json.dumps(body, ensure_ascii=False), problem.status, mimetype=MEDIA_TYPE)
    for name, value in problem.headers.items():
        response.headers[name] = value
    return response


def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    title = error.name if error.code else "Internal Server Error"
    detail = error.description or title
    response = problem_response(Problem(status, title, detail))
    if error.code == 405:
        for name, value in error.get_headers():
            if name.lower() == "allow":
                response.headers["Allow"] = value
    return response


def _unexpected(error: Exception) -> Response:
    if isinstance(error, HTTPException):
        return _http_error(error)
    current_app.logger.exception("unexpected error", exc_info=error)
    return _http_error(InternalServerError())


def register(app: Flask) -> None:
    """Answer every HTTP error and any unexpected exception with problem+json."""
    app.register_error_handler(Problem, problem_response)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
