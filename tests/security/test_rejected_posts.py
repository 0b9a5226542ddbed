"""What a rejected agent post leaves behind: its SHA-256, size and error always (audit trail); the body itself
only up to ``GATEWAY_REJECTED_POST_KEEP_BYTES``."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from gateway.config import load_settings
from gateway.intake import archive
from gateway.models import AuditEvent
from tests.ingest.conftest import agent  # noqa: F401  (fixture)
from tests.ingest.conftest import counts  # noqa: F401  (fixture)
from tests.ingest.test_api import batch
from tests.ingest.test_api import record
from tests.ingest.test_api import signer  # noqa: F401  (fixture)

KEEP = 2048


@pytest.fixture
def small_keep(overrides: dict[str, Any]) -> None:
    overrides["rejected_post_keep_bytes"] = KEEP


def _rejections(ctx: Any) -> list[AuditEvent]:
    ctx.session.commit()
    query = select(AuditEvent).where(AuditEvent.action == "settlement_batch.reject")
    return list(ctx.session.exec(query).all())


def _archived(ctx: Any) -> list[Path]:
    return sorted(archive.archive_root(ctx).glob("*/*" + archive.SUFFIX))


def test_the_default_keeps_rejected_bodies_up_to_64_kib():
    assert (
        load_settings(environ={}, overrides={"instance_dir": "/nonexistent"}).rejected_post_keep_bytes
        == 65536
    )


def test_a_small_rejected_post_is_archived_and_audited(small_keep, ctx, signer, counts):  # noqa: F811
    body = json.dumps(batch("b-1", record(amount=1))).encode()
    assert len(body) <= KEEP
    response = signer.request("POST", "/api/v1/settlements", body)
    assert response.status_code == 422
    (event,) = _rejections(ctx)
    sha = hashlib.sha256(body).hexdigest()
    assert event.detail["sha256"] == sha and event.detail["size"] == len(body)
    assert event.detail["archived"] is True
    assert event.detail["error"]["errors"] == [
        {"index": 0, "field": "amount", "message": "1 differs from the barcode amount 10000"}
    ]
    assert archive.has_original(ctx, sha)
    assert b"".join(archive.read_original(ctx, sha)) == body
    assert counts()["settlement_records"] == 0


def test_a_large_rejected_post_keeps_only_hash_size_and_error(small_keep, ctx, signer, counts):  # noqa: F811
    records = [record(record_id=f"r-{i}", amount=1) for i in range(40)]
    body = json.dumps(batch("b-1", *records)).encode()
    assert len(body) > KEEP
    response = signer.request("POST", "/api/v1/settlements", body)
    assert response.status_code == 422
    assert len(response.get_json()["error"]["details"]["errors"]) == 40  # the client still learns everything
    (event,) = _rejections(ctx)
    sha = hashlib.sha256(body).hexdigest()
    assert (event.detail["sha256"], event.detail["size"], event.detail["archived"]) == (sha, len(body), False)
    assert event.detail["error"]["problems"] == 40
    assert len(event.detail["error"]["errors"]) == 20
    assert not archive.has_original(ctx, sha)
    assert _archived(ctx) == []


@pytest.mark.parametrize("size", [100, KEEP * 3])
def test_a_body_that_is_not_json_is_a_rejected_post_too(small_keep, ctx, signer, size):  # noqa: F811
    body = b"{" + b"x" * (size - 1)
    response = signer.request("POST", "/api/v1/settlements", body)
    assert response.status_code == 422
    (event,) = _rejections(ctx)
    assert event.detail["size"] == size
    assert event.detail["archived"] is (size <= KEEP)
    assert event.detail["error"]["field"] == "body"
    assert archive.has_original(ctx, hashlib.sha256(body).hexdigest()) is (size <= KEEP)


def test_an_accepted_post_is_archived_whatever_its_size(small_keep, ctx, signer):  # noqa: F811
    records = [record(record_id=f"r-{i}") for i in range(40)]
    body = json.dumps(batch("b-1", *records)).encode()
    assert len(body) > KEEP
    response = signer.request("POST", "/api/v1/settlements", body)
    assert response.status_code == 201, response.get_json()
    assert archive.has_original(ctx, hashlib.sha256(body).hexdigest())
    assert _rejections(ctx) == []
