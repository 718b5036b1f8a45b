"""RFC 9457 problem details: every error of the app answers `application/problem+json`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, current_app, request
from werkzeug.exceptions import HTTPException, InternalServerError

from events import LogUnavailable

PROBLEM_TYPE = "about:blank"
MEDIA_TYPE = "application/problem+json"


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
    # RFC 9457 section 4.2.1: with type about:blank, the title is the status's reason phrase.
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE,
        "title": _phrase(status, title),
        "status": status,
        "detail": detail,
        "instance": instance,
    }
    if status == 422 or errors:
        body["errors"] = [{"field": field, "message": message} for field, message in errors]
    return body


def _phrase(status: int, fallback: str) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return fallback


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


def _unavailable(error: LogUnavailable) -> Response:
    """The database is out of reach or refuses writes: nothing was changed; try again soon."""
    current_app.logger.error("%s", error)
    detail = "the event log's database is unavailable; nothing was changed, try again shortly"
    return problem_response(
        Problem(503, "Service Unavailable", detail, headers={"Retry-After": "5"})
    )


def _unexpected(error: Exception) -> Response:
    if isinstance(error, HTTPException):
        return _http_error(error)
    current_app.logger.exception("unexpected error", exc_info=error)
    return _http_error(InternalServerError())


def register(app: Flask) -> None:
    """Answer every HTTP error and any unexpected exception with problem+json."""
    app.register_error_handler(Problem, problem_response)
    app.register_error_handler(LogUnavailable, _unavailable)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
