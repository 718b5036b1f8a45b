"""The OpenAPI document: valid 3.1, generated from the request models, covering every route."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate

from events.schema import EVENT_TYPES
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
    assert envelope["properties"]["type"]["enum"] == generated["properties"]["type"]["enum"]
    assert set(envelope["required"]) == set(generated["required"])
    refs = {item["$ref"].rsplit("/", 1)[1] for item in envelope["properties"]["data"]["anyOf"]}
    assert refs == set(EVENT_TYPES)
    announced = schemas["SummitAnnounced"]
    assert "type" not in announced["properties"]
    assert set(announced["required"]) >= {"title", "kind", "participants", "location", "schedule"}
    assert schemas["Location"]["properties"]["timezone"]
    body = document["paths"]["/api/summits/{summit_id}/events"]["post"]["requestBody"]
    assert body["content"]["application/json"]["schema"]["$ref"].endswith("/EventSubmission")


def test_the_paged_routes_document_their_paging(client: FlaskClient, seeded: Any) -> None:
    """`after` and `limit` (422 when bad), and the page's own fields, as the routes answer."""
    paths = client.get("/api/openapi.json").get_json()["paths"]
    for path, url in (
        ("/api/events", "/api/events"),
        ("/api/summits/{summit_id}/history", "/api/summits/kr-jp-2025-tokyo/history"),
    ):
        operation = paths[path]["get"]
        names = {p.get("name") for p in operation.get("parameters", [])}
        assert {"after", "limit"} <= names, path
        assert "422" in operation["responses"], path
        schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
        answered = client.get(url).get_json()
        assert set(answered) <= set(schema["properties"]), (path, sorted(answered))
        assert client.get(f"{url}?limit=0").status_code == 422
