"""schemathesis against a served demo calendar: every answer must be one the document states.

The server is a real `diplocal serve` process over a fresh SQLite store holding the demo log
and a write token. schemathesis generates valid and invalid requests from
`/api/openapi.json` (derandomized, so CI sees the same cases every run) and checks each
answer: no server error, a documented status code, content type, body schema and headers.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import Case, GenerationMode, HookContext
from schemathesis.checks import not_a_server_error
from schemathesis.errors import FailureGroup
from schemathesis.openapi.checks import UndefinedStatusCode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from support.servers import free_port, terminate, wait_until_healthy

from events import Token, open_store, tokens_of
from events.schema import SUMMIT_ID_PATTERN
from web.auth import token_hash
from web.demo import load_demo
from web.openapi import document

pytestmark = pytest.mark.slow

TOKEN = "write-token-for-schemathesis"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
# per operation; the whole run stays well under a minute (set more to search deeper by hand)
MAX_EXAMPLES = int(os.environ.get("DIPLOCAL_SCHEMATHESIS_EXAMPLES", "40"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]

schema = schemathesis.openapi.from_dict(copy.deepcopy(document()))
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
    max_examples=MAX_EXAMPLES,
    deterministic=True,
    database="none",
)

# Appends build on each other only within one summit: send well-formed ones to a few summits
# (two from the demo, one new) so that sequences of events meet, as an editor's would.
SUMMITS = ("kr-jp-2025-08-tokyo", "kr-us-2025-08-washington", "schemathesis-summit")


@schema.hook("map_path_parameters")
def _few_summits(
    context: HookContext, path_parameters: dict[str, Any] | None
) -> dict[str, Any] | None:
    summit_id = (path_parameters or {}).get("summit_id")
    if context.operation is None or context.operation.method.upper() != "POST":
        return path_parameters
    if not isinstance(summit_id, str) or not re.fullmatch(SUMMIT_ID_PATTERN, summit_id):
        return path_parameters
    chosen = SUMMITS[zlib.crc32(summit_id.encode()) % len(SUMMITS)]
    return {**(path_parameters or {}), "summit_id": chosen}


@schema.hook("map_headers")
def _versions_only(context: HookContext, headers: dict[str, Any] | None) -> dict[str, Any] | None:
    """Keep If-Match only when it names a version: arbitrary text would end nearly every append
    at 412 before the rules are reached (412 for a stale version is still sent)."""
    if not headers or re.fullmatch(r'"?[0-9]{1,3}"?', str(headers.get("If-Match", "1"))):
        return headers
    return {name: value for name, value in headers.items() if name != "If-Match"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`diplocal serve` on a fresh SQLite store with the demo log and a write token."""
    folder = tmp_path_factory.mktemp("schemathesis")
    db = folder / "demo.sqlite3"
    store = open_store(str(db))
    try:
        tokens_of(store).add(Token("desk", token_hash(TOKEN), True, "2025-08-01T00:00:00Z"))
        assert load_demo(store) > 0
    finally:
        store.close()
    port = free_port()
    log = folder / "server.log"
    env = {k: v for k, v in os.environ.items() if k not in ("DIPLOCAL_BASE_URL", "DIPLOCAL_DEMO")}
    env["DIPLOCAL_DB"] = str(db)
    diplocal = str(Path(sys.executable).parent / "diplocal")
    command = [diplocal, "serve", "--port", str(port), "--workers", "1", "--no-access-log"]
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, process, log.read_text)
        yield url
    finally:
        terminate(process)


def test_the_served_document_is_the_one_tested(server: str) -> None:
    with urllib.request.urlopen(server + "/api/openapi.json", timeout=10) as response:
        served = json.load(response)
    assert served == json.loads(json.dumps(document()))


@schema.parametrize()
@settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_every_answer_is_documented(case: Case, server: str) -> None:
    case.call_and_validate(base_url=server, headers=AUTH, checks=CHECKS)


def test_an_undocumented_answer_fails_the_checks(server: str) -> None:
    """The checks are live: drop the 422 from /api/events and a bad `after` must fail them."""
    wrong = copy.deepcopy(document())
    del wrong["paths"]["/api/events"]["get"]["responses"]["422"]
    operation = schemathesis.openapi.from_dict(wrong)["/api/events"]["GET"]
    case = operation.Case(query={"after": "not-a-number"})
    with pytest.raises(FailureGroup) as failed:
        case.call_and_validate(base_url=server, headers=AUTH, checks=CHECKS)
    assert [type(f) for f in failed.value.exceptions] == [UndefinedStatusCode]
