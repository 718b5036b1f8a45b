"""The request models of the API: they validate requests and generate the OpenAPI schemas."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from events.schema import EVENT_TYPES

EventTypeName = Literal[EVENT_TYPES]  # type: ignore[valid-type]

EventId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")]


class EventSubmission(BaseModel):
    """The body of `POST /api/summits/<id>/events`; `data` is checked against `type`'s model."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: EventTypeName = Field(description="The event type (CONTRACT section 3).")
    data: dict[str, Any] = Field(description="The event's data, as the type's schema says.")
    event_id: EventId | None = Field(
        default=None,
        description="Client-chosen id (e.g. a UUID); sending it again appends nothing "
        "and returns the first result.",
    )


class FieldError(BaseModel):
    """One invalid field of a request."""

    field: str
    message: str


class ProblemDetails(BaseModel):
    """An RFC 9457 problem; `errors` lists the invalid fields of a 422."""

    type: str
    title: str
    status: int
    detail: str
    instance: str
    errors: list[FieldError] | None = None
