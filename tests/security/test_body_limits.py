"""Request bodies are limited before anything reads them (issue 9): a JSON post over
``GATEWAY_MAX_POST_BYTES`` or an upload over ``GATEWAY_MAX_UPLOAD_BYTES`` is answered 413 before the body is
read, its signature verified or anything archived — with a ``Content-Length`` and without one (chunked)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from werkzeug.test import EnvironBuilder
from werkzeug.test import run_wsgi_app

from tests.ingest.conftest import add_agent
from tests.ingest.test_api import Signer
from tests.ingest.test_api import batch
from tests.ingest.test_api import settled
from tests.pages.pagetools import sign_in

MiB = 1024 * 1024


def padded(size: int) -> bytes:
    """A valid batch of one record, padded with JSON whitespace to ``size`` bytes."""
    body = json.dumps(batch("big-1")).encode()
    return body + b" " * (size - len(body))


def archived(app: Any) -> list[Path]:
    folder = Path(app.extensions["gateway"].settings.archive_dir)
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def too_large(response: Any) -> None:
    assert response.status_code == 413, response.get_data(as_text=True)[:300]
    error = response.get_json()["error"]
    assert error["code"] == "payload_too_large" and set(error) == {"code", "message", "details"}


def test_a_signed_post_over_the_limit_is_413_and_nothing_is_stored(app, agent_client: Signer, rows):
    before = settled(rows)
    response = agent_client.request("POST", "/api/v1/settlements", padded(5 * MiB))
    too_large(response)
    assert settled(rows) == before == {k: 0 for k in before}
    assert archived(app) == []


def test_a_signed_post_of_one_mebibyte_still_works(agent_client: Signer, rows):
    response = agent_client.request("POST", "/api/v1/settlements", padded(1 * MiB))
    assert response.status_code == 201, response.get_json()
    assert settled(rows)["settlement_records"] == 1


def chunked(app: Any, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    """Send ``body`` as a chunked request would arrive from a WSGI server: no Content-Length, the server
    terminates the stream (``wsgi.input_terminated``)."""
    environ = EnvironBuilder(
        path=path,
        method="POST",
        input_stream=io.BytesIO(body),
        headers=headers,
        content_type="application/json",
    ).get_environ()
    del environ["CONTENT_LENGTH"]
    environ["wsgi.input_terminated"] = True
    environ["HTTP_TRANSFER_ENCODING"] = "chunked"
    app_iter, status, _headers = run_wsgi_app(app, environ, buffered=True)
    return int(status.split()[0]), json.loads(b"".join(app_iter))


def signed_chunked(app: Any, agent_client: Signer, clock: Any, body: bytes) -> tuple[int, dict[str, Any]]:
    """``body`` posted chunked to the settlements API, signed by ``agent_client`` a second later."""
    from gateway.access import clients as client_service

    clock.advance(seconds=1)
    headers = client_service.signed_headers(
        agent_client.key_id,
        agent_client.secret,
        int(clock().timestamp()),
        body,
        method="POST",
        path="/api/v1/settlements",
    )
    return chunked(app, "/api/v1/settlements", body, headers)


def test_a_chunked_post_without_content_length_over_the_limit_is_413(app, agent_client: Signer, clock, rows):
    status, doc = signed_chunked(app, agent_client, clock, padded(5 * MiB))
    assert status == 413 and doc["error"]["code"] == "payload_too_large", doc
    assert settled(rows)["settlement_batches"] == 0
    assert archived(app) == []


def test_a_chunked_post_under_the_limit_is_read(app, agent_client: Signer, clock, rows):
    status, doc = signed_chunked(app, agent_client, clock, padded(64 * 1024))
    assert status == 201, doc
    assert settled(rows)["settlement_batches"] == 1


def test_file_uploads_have_their_own_larger_limit(app, client, ctx, make_token):
    add_agent(ctx)
    finance = make_token("finance")
    limits = app.extensions["gateway"].settings
    assert (limits.max_post_bytes, limits.max_upload_bytes) == (4 * MiB, 64 * MiB)
    # A file over the post limit reaches the adapters (and is refused there as no known format) …
    boundary = "gw-test-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.txt"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    body = head + b"x" * (5 * MiB) + tail
    response = client.post(
        "/api/v1/settlement-files",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
        headers=finance,
    )
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    # … a JSON body of the same size to a staff JSON endpoint is not read.
    too_large(
        client.post("/api/v1/claims", data=b" " * (5 * MiB), content_type="application/json", headers=finance)
    )


def declared(app: Any, path: str, length: int, body: bytes, headers: dict[str, str], content_type: str):  # type: ignore[no-untyped-def]
    """A request declaring ``Content-Length: length`` whose body (never read when refused) is ``body``."""
    environ = EnvironBuilder(
        path=path, method="POST", input_stream=io.BytesIO(body), headers=headers, content_type=content_type
    ).get_environ()
    environ["CONTENT_LENGTH"] = str(length)
    app_iter, status, response_headers = run_wsgi_app(app, environ, buffered=True)
    return int(status.split()[0]), b"".join(app_iter), response_headers


def test_an_upload_over_its_limit_is_413_for_the_api_and_a_japanese_page_for_staff(ctx, app, make_token):
    over = app.extensions["gateway"].settings.max_upload_bytes + 1
    multipart = "multipart/form-data; boundary=gw-test-boundary"
    head = b'--gw-test-boundary\r\nContent-Disposition: form-data; name="file"; filename="big.txt"\r\n\r\n'
    status, body, _ = declared(app, "/api/v1/settlement-files", over, head, make_token("finance"), multipart)
    assert status == 413 and json.loads(body)["error"]["code"] == "payload_too_large"
    staff = sign_in(app, ctx, "finance", "uploader")
    cookie = staff.get_cookie("gateway_session")
    assert cookie is not None
    for path in ("/staff/settlements/upload", "/staff/claims/import"):
        status, body, _ = declared(
            app, path, over, head, {"Cookie": f"gateway_session={cookie.value}"}, multipart
        )
        assert status == 413
        assert "ファイルが大きすぎます" in body.decode()
    # A form post to a staff page is held to the (smaller) post limit.
    post_limit = app.extensions["gateway"].settings.max_post_bytes
    status, body, _ = declared(
        app, "/staff/payments", post_limit + 1, b"a=1", {"Cookie": f"gateway_session={cookie.value}"},
        "application/x-www-form-urlencoded",
    )  # fmt: skip
    assert status == 413 and "ファイルが大きすぎます" in body.decode()
