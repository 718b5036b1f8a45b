"""The OpenAPI document: valid 3.1, generated from the request models, covering every route."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from events.schema import EVENT_TYPES, validate_event
from web.models import EventSubmission


def test_the_document_is_valid_openapi_3_1(client: FlaskClient) -> None:
    document = client.get("/api/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_every_route_of_the_app_is_documented(app: Flask, client: FlaskClient) -> None:
    paths = client.get("/api/openapi.json").get_json()["paths"]
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        assert path in paths, rule.rule
        documented = {m.upper() for m in paths[path]}
        assert set(rule.methods or ()) - {"HEAD", "OPTIONS"} <= documented, rule.rule


def test_the_request_body_schema_comes_from_the_models(client: FlaskClient) -> None:
    document: dict[str, Any] = client.get("/api/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    envelope = schemas["EventSubmission"]
    generated = EventSubmission.model_json_schema()
    assert envelope["discriminator"]["propertyName"] == "type"
    mapping = envelope["discriminator"]["mapping"]
    assert list(mapping) == generated["properties"]["type"]["enum"] == list(EVENT_TYPES)
    assert [item["$ref"] for item in envelope["oneOf"]] == list(mapping.values())
    for name, ref in mapping.items():
        one = schemas[ref.rsplit("/", 1)[1]]
        assert one["properties"]["type"]["const"] == name
        assert one["properties"]["data"]["$ref"].endswith(f"/{name}")
        assert set(one["required"]) == set(generated["required"])
        assert one["properties"]["event_id"] == generated["properties"]["event_id"]
    announced = schemas["SummitAnnounced"]
    assert "type" not in announced["properties"]
    assert set(announced["required"]) >= {"title", "kind", "participants", "location", "schedule"}
    body = document["paths"]["/api/summits/{summit_id}/events"]["post"]["requestBody"]
    assert body["content"]["application/json"]["schema"]["$ref"].endswith("/EventSubmission")


def test_the_paged_routes_document_their_paging(client: FlaskClient, seeded: Any) -> None:
    """`after` and `limit` (422 when bad), and the page's own fields, as the routes answer."""
    document = client.get("/api/openapi.json").get_json()
    paths, schemas = document["paths"], document["components"]["schemas"]
    for path, url in (
        ("/api/events", "/api/events"),
        ("/api/summits/{summit_id}/history", "/api/summits/kr-jp-2025-tokyo/history"),
    ):
        operation = paths[path]["get"]
        names = {p.get("name") for p in operation.get("parameters", [])}
        assert {"after", "limit"} <= names, path
        assert "422" in operation["responses"], path
        schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
        if "$ref" in schema:
            schema = schemas[schema["$ref"].rsplit("/", 1)[1]]
        answered = client.get(url).get_json()
        assert set(answered) <= set(schema["properties"]), (path, sorted(answered))
        assert client.get(f"{url}?limit=0").status_code == 422


def _validator(document: dict[str, Any], name: str) -> Any:
    """A JSON Schema validator for one component, resolving the document's $refs."""
    root = {**document["components"]["schemas"][name], "components": document["components"]}
    return Draft202012Validator(root)


def _data_is_valid(document: dict[str, Any], event_type: str, data: dict[str, Any]) -> bool:
    return bool(
        _validator(document, "EventSubmission").is_valid({"type": event_type, "data": data})
    )


def test_the_document_refuses_what_the_models_refuse(client: FlaskClient) -> None:
    document: dict[str, Any] = client.get("/api/openapi.json").get_json()
    announce = {
        "title": "Korea-Japan summit",
        "kind": "working_visit",
        "participants": [{"name": "Lee Jae Myung", "country": "KR"}],
        "location": {"country": "JP", "timezone": "Asia/Tokyo"},
        "schedule": {"start": "2025-08-23", "end": "2025-08-24"},
        "status": "confirmed",
    }
    cases: list[tuple[str, dict[str, Any]]] = [
        ("SummitAnnounced", announce),
        ("SummitAnnounced", {**announce, "location": {"country": "XX", "timezone": "Asia/Tokyo"}}),
        ("SummitAnnounced", {**announce, "location": {"country": "JP", "timezone": "Mars/Base"}}),
        ("SummitAnnounced", {**announce, "schedule": {"start": "2025-08", "end": "2025-08-24"}}),
        ("SummitAnnounced", {**announce, "schedule": {"start": "2025-13-01"}}),
        ("SummitAnnounced", {**announce, "schedule": {"start": "2025-08-23T24:00"}}),
        ("SummitAnnounced", {**announce, "participants": [{"name": "Nobody"}]}),
        ("SummitAnnounced", {**announce, "type": "SummitAnnounced"}),
        ("SummitRescheduled", {"reason": "no place nor time"}),
        ("SummitRescheduled", {"schedule": {"start": "2025-09-01T10:30"}}),
        ("ParticipantsChanged", {"added": [], "withdrawn": []}),
        ("DetailsAmended", {"note": "nothing amended"}),
        ("DetailsAmended", {"venue": "Akasaka Palace"}),
        ("SummitCompleted", {"documents": ["ftp://example.org/x"]}),
        ("SummitNoted", {}),
    ]
    for event_type, data in cases:
        by_models = True
        try:
            validate_event(event_type, data)
        except ValueError:
            by_models = False
        assert _data_is_valid(document, event_type, data) == by_models, (event_type, data)


def test_country_and_zone_constraints_are_the_validators_own(client: FlaskClient) -> None:
    schemas = client.get("/api/openapi.json").get_json()["components"]["schemas"]
    location = schemas["Location"]["properties"]
    assert "KR" in location["country"]["enum"] and "XX" not in location["country"]["enum"]
    assert "Asia/Tokyo" in location["timezone"]["enum"]
    for zone in location["timezone"]["enum"]:
        validate_event("SummitRescheduled", {"location": {"country": "JP", "timezone": zone}})


def test_every_operation_states_its_answers_and_their_headers(client: FlaskClient) -> None:
    paths = client.get("/api/openapi.json").get_json()["paths"]
    append = paths["/api/summits/{summit_id}/events"]["post"]["responses"]
    assert set(append) == {
        "200",
        "201",
        "401",
        "403",
        "404",
        "409",
        "412",
        "413",
        "415",
        "422",
        "503",
    }
    assert append["201"]["headers"]["Location"]["required"] is True
    for path, operations in paths.items():
        for operation in operations.values():
            responses = operation["responses"]
            if "503" in responses and path != "/healthz":
                assert responses["503"] == {"$ref": "#/components/responses/Unavailable"}
            if operation["parameters"] and path not in ("/static/{filename}",):
                assert "422" in responses or all(
                    p["in"] in ("path", "header") for p in operation["parameters"]
                ), path
    feed = paths["/calendar.ics"]["get"]["responses"]
    assert {"200", "304", "422", "503"} <= set(feed)
    assert feed["200"]["headers"]["ETag"]["required"] is True
    page = paths["/summits/{summit_id}"]["get"]["responses"]
    assert {"200", "404", "422"} <= set(page)
    assert {"200", "503"} <= set(paths["/healthz"]["get"]["responses"])
