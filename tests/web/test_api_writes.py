"""POST /api/summits/<id>/events: every success and error status, in the contract's order."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient

from events import EventStore

PROBLEM = "application/problem+json"


def head(store: EventStore) -> int:
    found = store.head()
    return 0 if found is None else found.position


def problem(response: Any, status: int) -> dict[str, Any]:
    """Assert an RFC 9457 problem with this status and return its body."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body: dict[str, Any] = response.get_json(force=True)
    assert body["status"] == status
    assert {"type", "title", "detail", "instance"} <= set(body)
    assert body["instance"] == response.request.path
    return body


def fields(body: dict[str, Any]) -> list[str]:
    return [e["field"] for e in body["errors"]]


def test_an_announce_is_recorded_with_201(post: Any, store: EventStore, helpers: Any) -> None:
    response = post("kr-jp-2025-tokyo", "SummitAnnounced", helpers.announce_data())
    assert response.status_code == 201
    record = response.get_json()
    assert record["position"] == 1 and record["version"] == 1
    assert record["summit_id"] == "kr-jp-2025-tokyo"
    assert record["recorded_by"] == "desk"
    assert response.headers["ETag"] == '"1"'
    assert head(store) == 1
    assert next(store.read(limit=1)).hash == record["hash"]


def test_the_same_event_id_appends_once_and_replays_the_first_result(
    seeded: Any, store: EventStore
) -> None:
    first = seeded("kr-jp-2025-tokyo", "SummitConfirmed", {}, event_id="confirm-1")
    before = head(store)
    again = seeded("kr-jp-2025-tokyo", "SummitConfirmed", {}, event_id="confirm-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json() == first.get_json()
    assert head(store) == before


def test_a_replay_wins_over_a_now_stale_if_match(seeded: Any, store: EventStore) -> None:
    first = seeded(
        "kr-jp-2025-tokyo", "SummitConfirmed", {}, event_id="c-2", headers={"If-Match": '"1"'}
    )
    again = seeded(
        "kr-jp-2025-tokyo", "SummitConfirmed", {}, event_id="c-2", headers={"If-Match": '"1"'}
    )
    assert (first.status_code, again.status_code) == (201, 200)


def test_an_event_id_reused_for_other_content_is_a_conflict(seeded: Any, store: EventStore) -> None:
    seeded("kr-jp-2025-tokyo", "SummitConfirmed", {}, event_id="same-id")
    before = head(store)
    body = problem(seeded("kr-jp-2025-tokyo", "SummitPostponed", {}, event_id="same-id"), 409)
    assert "same-id" in body["detail"]
    assert head(store) == before


@pytest.mark.parametrize(
    ("authorization", "status"),
    [(None, 401), ("Bearer not-a-token", 401), ("Basic abc", 401), ("Bearer ", 401)],
)
def test_no_or_bad_token_is_401(
    client: FlaskClient, store: EventStore, helpers: Any, authorization: str | None, status: int
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = client.post(
        "/api/summits/kr-jp-2025-tokyo/events",
        json={"type": "SummitAnnounced", "data": helpers.announce_data()},
        headers=headers,
    )
    problem(response, status)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert head(store) == 0


def test_a_read_only_token_is_403(post: Any, store: EventStore, helpers: Any) -> None:
    response = post(
        "kr-jp-2025-tokyo", "SummitAnnounced", helpers.announce_data(), token=helpers.READ_TOKEN
    )
    problem(response, 403)
    assert head(store) == 0


def _raw(client: FlaskClient, body: bytes, content_type: str, token: str | None) -> Any:
    headers = {"Content-Type": content_type}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return client.post("/api/summits/kr-jp-2025-tokyo/events", data=body, headers=headers)


def test_a_body_over_one_mib_is_413(client: FlaskClient, store: EventStore, helpers: Any) -> None:
    data = helpers.announce_data(description="x" * (1 << 20))
    body = json.dumps({"type": "SummitAnnounced", "data": data}).encode()
    problem(_raw(client, body, "application/json", helpers.WRITE_TOKEN), 413)
    # 401 comes before 413
    problem(_raw(client, body, "application/json", None), 401)
    assert head(store) == 0


def test_a_body_that_is_not_json_is_415(
    client: FlaskClient, store: EventStore, helpers: Any
) -> None:
    problem(
        _raw(
            client,
            b"type=SummitAnnounced",
            "application/x-www-form-urlencoded",
            helpers.WRITE_TOKEN,
        ),
        415,
    )
    problem(_raw(client, b"{}", "text/plain", helpers.WRITE_TOKEN), 415)
    assert head(store) == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"data": {}}', "type"),
        (b'{"type": "SummitExploded", "data": {}}', "type"),
        (b'{"type": "SummitConfirmed"}', "data"),
        (b'{"type": "SummitConfirmed", "data": [], "extra": 1}', "data"),
        (b'{"type": "SummitConfirmed", "data": {}, "event_id": "has spaces"}', "event_id"),
        (b'{"type": ', "body"),
        (b"[1, 2]", "body"),
    ],
)
def test_a_malformed_envelope_is_422_naming_the_field(
    client: FlaskClient, store: EventStore, helpers: Any, body: bytes, field: str
) -> None:
    found = problem(_raw(client, body, "application/json", helpers.WRITE_TOKEN), 422)
    assert field in fields(found)
    assert head(store) == 0


def test_an_event_for_an_unknown_summit_is_404(post: Any, store: EventStore) -> None:
    problem(post("no-such-summit", "SummitConfirmed", {}), 404)
    # 404 comes before 422 for the event data
    problem(post("no-such-summit", "SummitPostponed", {"reason": 5}), 404)
    assert head(store) == 0


def test_a_stale_if_match_is_412_and_a_current_one_appends(seeded: Any, store: EventStore) -> None:
    before = head(store)
    stale = seeded("kr-jp-2025-tokyo", "SummitConfirmed", {}, headers={"If-Match": '"7"'})
    assert problem(stale, 412)
    assert stale.headers["ETag"] == '"1"'
    # 412 comes before 422 for the event data
    problem(
        seeded("kr-jp-2025-tokyo", "SummitPostponed", {"reason": 5}, headers={"If-Match": '"7"'}),
        412,
    )
    assert head(store) == before
    ok = seeded("kr-jp-2025-tokyo", "SummitConfirmed", {}, headers={"If-Match": '"1"'})
    assert ok.status_code == 201 and ok.get_json()["version"] == 2


def test_invalid_event_data_is_422_naming_the_field(
    post: Any, store: EventStore, helpers: Any
) -> None:
    data = helpers.announce_data()
    data["participants"][1]["country"] = "XX"
    body = problem(post("kr-jp-2025-tokyo", "SummitAnnounced", data), 422)
    assert "data.participants.1.country" in fields(body)
    body = problem(
        post("kr-jp-2025-tokyo", "SummitAnnounced", helpers.announce_data(colour="red")), 422
    )
    assert "data.colour" in fields(body)
    assert head(store) == 0


def test_a_bad_summit_id_is_422(post: Any, store: EventStore, helpers: Any) -> None:
    body = problem(post("X", "SummitAnnounced", helpers.announce_data()), 422)
    assert fields(body) == ["summit_id"]
    assert head(store) == 0


def test_a_local_time_in_a_dst_gap_is_422(post: Any, store: EventStore, helpers: Any) -> None:
    data = helpers.announce_data(
        location={"city": "New York", "country": "US", "timezone": "America/New_York"},
        schedule={"start": "2026-03-08T02:30"},
    )
    body = problem(post("us-un-2026-new-york", "SummitAnnounced", data), 422)
    assert any(f.startswith("data.schedule") for f in fields(body))
    assert head(store) == 0


def test_a_broken_rule_is_409(seeded: Any, store: EventStore, helpers: Any) -> None:
    before = head(store)
    problem(seeded("fr-de-2025-paris", "SummitConfirmed", {}), 409)  # already confirmed
    problem(seeded("kr-jp-2025-tokyo", "SummitAnnounced", helpers.announce_data()), 409)
    assert head(store) == before


def test_a_retracted_summit_takes_no_more_events(seeded: Any, store: EventStore) -> None:
    assert (
        seeded("kr-jp-2025-tokyo", "EntryRetracted", {"reason": "never planned"}).status_code == 201
    )
    before = head(store)
    problem(seeded("kr-jp-2025-tokyo", "SummitConfirmed", {}), 409)
    assert head(store) == before


def test_if_match_star_needs_an_existing_summit(post: Any, store: EventStore, helpers: Any) -> None:
    problem(
        post(
            "kr-jp-2025-tokyo",
            "SummitAnnounced",
            helpers.announce_data(),
            headers={"If-Match": "*"},
        ),
        412,
    )
    assert head(store) == 0
    assert post("kr-jp-2025-tokyo", "SummitAnnounced", helpers.announce_data()).status_code == 201
    assert (
        post("kr-jp-2025-tokyo", "SummitConfirmed", {}, headers={"If-Match": "*"}).status_code
        == 201
    )


def test_problem_titles_are_the_status_phrases(post: Any) -> None:
    body = problem(post("no-such-summit", "SummitConfirmed", {}, token=None), 401)
    assert (body["type"], body["title"]) == ("about:blank", "Unauthorized")
