"""GET endpoints of the API, their parameters, and problem+json for the whole app's errors."""

from __future__ import annotations

from datetime import timedelta, timezone
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from events import EventStore, Recorded

PROBLEM = "application/problem+json"


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body: dict[str, Any] = response.get_json(force=True)
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def at(store: EventStore, position: int) -> Recorded:
    """The record at a log position."""
    return next(store.read(after=position - 1, limit=1))


def ids(payload: dict[str, Any]) -> set[str]:
    return {s["summit_id"] for s in payload["summits"]}


def test_summits_lists_the_calendar_with_its_position(seeded: Any, client: FlaskClient) -> None:
    payload = client.get("/api/summits").get_json()
    assert payload["position"] == 2
    assert ids(payload) == {"kr-jp-2025-tokyo", "fr-de-2025-paris"}
    tokyo = next(s for s in payload["summits"] if s["summit_id"] == "kr-jp-2025-tokyo")
    assert tokyo["start_utc"].startswith("2025-08-23T07:55")  # 16:55 in Tokyo (UTC+9)
    assert tokyo["status"] == "tentative" and tokyo["version"] == 1


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("country=KR", {"kr-jp-2025-tokyo"}),
        ("country=fr", {"fr-de-2025-paris"}),
        ("country=KR&country=DE", {"kr-jp-2025-tokyo", "fr-de-2025-paris"}),
        ("country=US", set()),
        ("kind=official_visit", {"fr-de-2025-paris"}),
        ("status=tentative", {"kr-jp-2025-tokyo"}),
    ],
)
def test_summits_filters(seeded: Any, client: FlaskClient, query: str, expected: set[str]) -> None:
    assert ids(client.get(f"/api/summits?{query}").get_json()) == expected


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("kind=picnic", "kind"),
        ("status=retracted", "status"),
        ("country=Korea", "country"),
        ("at_position=-1", "at_position"),
        ("at_position=99", "at_position"),
        ("as_of=yesterday", "as_of"),
        ("as_of=2025-08-01T10:00:00", "as_of"),
        ("as_of=2025-08-01T10:00:00Z&at_position=1", "as_of"),
    ],
)
def test_bad_parameters_are_422_naming_them(
    seeded: Any, client: FlaskClient, query: str, parameter: str
) -> None:
    for path in ("/api/summits", "/calendar.ics"):
        body = problem(client.get(f"{path}?{query}"), 422)
        assert [e["field"] for e in body["errors"]] == [parameter]


def test_summits_as_of_and_at_position(seeded: Any, client: FlaskClient, store: EventStore) -> None:
    first = at(store, 1)
    assert ids(client.get("/api/summits?at_position=1").get_json()) == {first.summit_id}
    as_of = client.get(f"/api/summits?as_of={first.recorded_at}").get_json()
    assert as_of["position"] == 1 and ids(as_of) == {first.summit_id}
    empty = client.get("/api/summits?as_of=2000-01-01T00:00:00%2B09:00").get_json()
    assert empty == {"position": 0, "summits": []}


def test_one_summit_carries_its_version_as_etag(seeded: Any, client: FlaskClient) -> None:
    seeded("kr-jp-2025-tokyo", "SummitConfirmed", {})
    response = client.get("/api/summits/kr-jp-2025-tokyo")
    assert response.status_code == 200
    assert response.headers["ETag"] == '"2"'
    assert response.get_json()["status"] == "confirmed"
    earlier = client.get("/api/summits/kr-jp-2025-tokyo?at_position=2").get_json()
    assert earlier["status"] == "tentative"
    problem(client.get("/api/summits/no-such-summit"), 404)
    problem(client.get("/api/summits/kr-jp-2025-tokyo?at_position=0"), 404)


def test_a_retracted_summit_is_gone_but_keeps_its_history(seeded: Any, client: FlaskClient) -> None:
    seeded("kr-jp-2025-tokyo", "EntryRetracted", {"reason": "it was a rumour"})
    problem(client.get("/api/summits/kr-jp-2025-tokyo"), 410)
    assert client.get("/api/summits/kr-jp-2025-tokyo?at_position=1").status_code == 200
    history = client.get("/api/summits/kr-jp-2025-tokyo/history").get_json()
    assert [e["type"] for e in history["events"]] == ["SummitAnnounced", "EntryRetracted"]
    assert "kr-jp-2025-tokyo" not in ids(client.get("/api/summits").get_json())
    problem(client.get("/api/summits/no-such-summit/history"), 404)


def test_a_summits_history_is_paged_by_log_position(seeded: Any, client: FlaskClient) -> None:
    for text in ("one", "two", "three"):
        seeded("kr-jp-2025-tokyo", "SummitNoted", {"note": text})
    url = "/api/summits/kr-jp-2025-tokyo/history"
    whole = client.get(url).get_json()
    positions = [e["position"] for e in whole["events"]]
    assert positions == [1, 3, 4, 5]  # position 2 is the Paris announcement
    assert [e["version"] for e in whole["events"]] == [1, 2, 3, 4]
    assert whole["next_after"] is None
    first = client.get(f"{url}?limit=2").get_json()
    assert [e["position"] for e in first["events"]] == [1, 3]
    assert first["limit"] == 2 and first["next_after"] == 3
    rest = client.get(f"{url}?after={first['next_after']}&limit=2").get_json()
    assert [e["position"] for e in rest["events"]] == [4, 5]
    assert rest["next_after"] is None
    assert client.get(f"{url}?after=5").get_json()["events"] == []
    for query in ("after=x", "limit=0", "after=-1", "limit=%C2%B2"):
        assert [e["field"] for e in problem(client.get(f"{url}?{query}"), 422)["errors"]] == [
            query.split("=")[0]
        ]


def test_the_log_is_paged_in_position_order(seeded: Any, client: FlaskClient) -> None:
    for _ in range(3):
        seeded("kr-jp-2025-tokyo", "SummitNoted", {"note": "still on"})
    page = client.get("/api/events?after=1&limit=2").get_json()
    assert [e["position"] for e in page["events"]] == [2, 3]
    assert page["next_after"] == 3 and page["head"] == 5
    last = client.get("/api/events?after=3&limit=5000").get_json()
    assert [e["position"] for e in last["events"]] == [4, 5]
    assert last["limit"] == 1000 and last["next_after"] is None
    assert last["events"][0]["prev_hash"] == page["events"][-1]["hash"]
    problem(client.get("/api/events?after=x"), 422)
    problem(client.get("/api/events?limit=0"), 422)


def test_audit_verify_reports_an_intact_chain(
    seeded: Any, client: FlaskClient, store: EventStore
) -> None:
    report = client.get("/api/audit/verify").get_json()
    head = store.head()
    assert head is not None
    assert report["ok"] is True and report["checked"] == 2
    assert report["head"] == {"position": 2, "hash": head.hash}


def test_healthz(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json()["status"] == "ok"


def test_unknown_paths_and_methods_are_problems(client: FlaskClient) -> None:
    problem(client.get("/no/such/page"), 404)
    response = client.delete("/calendar.ics")
    problem(response, 405)
    assert "GET" in response.headers["Allow"]


def test_an_unexpected_error_is_a_500_problem(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("kaput")

    monkeypatch.setattr(app.logger, "disabled", True)  # the logger is shared by every app
    body = problem(app.test_client().get("/boom"), 500)
    assert "kaput" not in body["detail"]


def test_as_of_with_an_unencoded_plus_offset(
    seeded: Any, client: FlaskClient, store: EventStore
) -> None:
    first = at(store, 1)
    stamp = first.instant.astimezone(timezone(timedelta(hours=9)))
    raw = stamp.isoformat()  # +09:00 sent without percent-encoding arrives as a space
    assert "+" in raw
    payload = client.get(f"/api/summits?as_of={raw}").get_json()
    assert payload["position"] == 1
