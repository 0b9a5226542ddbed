"""An ``Idempotency-Key`` left in flight by a worker that died mid-request expires (issue 9): before
``GATEWAY_IDEMPOTENCY_IN_FLIGHT_SECONDS`` the retry is 409, after it the retry takes the record over (one
retry only) and runs; a finished key still replays its first response."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import sqlalchemy as sa

from gateway.models import IdempotencyKey
from tests.ingest.test_api import Signer
from tests.ingest.test_api import batch

KEY = {"Idempotency-Key": "k-crash"}


def dead_worker_left(ctx: Any, agent_client: Signer, body: bytes, at: Any) -> None:
    """The row a worker writes before running the view, and never finishes (kill -9)."""
    ctx.session.add(
        IdempotencyKey(
            principal=f"client:{agent_client.key_id}",
            key=KEY["Idempotency-Key"],
            method="POST",
            path="/api/v1/settlements",
            body_sha256=hashlib.sha256(b"POST/api/v1/settlements" + body).hexdigest(),
            state="in_flight",
            created_at=at,
        )
    )
    ctx.session.commit()


def state(ctx: Any) -> list[tuple[str, int | None]]:
    ctx.session.commit()
    return [
        tuple(row)
        for row in ctx.session.execute(sa.text("SELECT state, status_code FROM idempotency_keys")).all()
    ]


def test_an_in_flight_key_of_a_dead_worker_expires_and_the_retry_runs(ctx, agent_client, clock, rows, app):
    limit = app.extensions["gateway"].settings.idempotency_in_flight_seconds
    assert limit == 120
    body = json.dumps(batch("b-crash")).encode()
    dead_worker_left(ctx, agent_client, body, clock())
    clock.advance(seconds=limit - 5)  # the Signer adds a second per request
    assert agent_client.request("POST", "/api/v1/settlements", body, headers=KEY).status_code == 409
    assert rows()["settlement_batches"] == 0
    clock.advance(seconds=10)
    retry = agent_client.request("POST", "/api/v1/settlements", body, headers=KEY)
    assert retry.status_code == 201, retry.get_json()
    assert retry.get_json()["new_records"] == 1
    assert state(ctx) == [("done", 201)]
    # A finished key replays its first response, however old.
    clock.advance(days=2)
    again = agent_client.request("POST", "/api/v1/settlements", body, headers=KEY)
    assert (again.status_code, again.get_json()) == (201, retry.get_json())
    assert rows()["settlement_batches"] == 1


def test_an_expired_key_with_another_body_is_still_422(ctx, agent_client, clock):
    body = json.dumps(batch("b-crash")).encode()
    dead_worker_left(ctx, agent_client, body, clock())
    clock.advance(minutes=10)
    other = json.dumps(batch("b-other")).encode()
    assert agent_client.request("POST", "/api/v1/settlements", other, headers=KEY).status_code == 422
    assert state(ctx) == [("in_flight", None)]


def test_only_one_retry_takes_an_expired_key_over(ctx, agent_client, clock, rows, monkeypatch):
    """While the retry that took the key over runs, a second retry with the same key is 409."""
    from gateway.intake import posts

    body = json.dumps(batch("b-crash")).encode()
    dead_worker_left(ctx, agent_client, body, clock())
    clock.advance(minutes=10)
    ingest_post = posts.ingest_post
    during: list[int] = []

    def ingest_while_another_retry_arrives(*args: Any, **kw: Any) -> Any:
        if not during:  # once: a second run that got through must not recurse
            during.append(0)
            during[0] = agent_client.request("POST", "/api/v1/settlements", body, headers=KEY).status_code
        return ingest_post(*args, **kw)

    monkeypatch.setattr(posts, "ingest_post", ingest_while_another_retry_arrives)
    first = agent_client.request("POST", "/api/v1/settlements", body, headers=KEY)
    assert first.status_code == 201, first.get_json()
    assert during == [409]
    assert rows()["settlement_batches"] == 1
    assert state(ctx) == [("done", 201)]
