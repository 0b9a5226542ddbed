"""Request plumbing shared by the API, the staff pages and the payer page.

* one service :class:`~gateway.context.Context` per request (``ctx()``), closed at teardown;
* who is calling: a staff session cookie, a staff bearer token, or a signed agent client (``load_actor``);
* ``require()``: the role check of ``gateway.permissions.TABLE``, CSRF for cookie sessions, and
  ``Idempotency-Key`` handling for mutating requests.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import json
from collections.abc import Callable
from typing import Any
from typing import TypeVar

import sqlalchemy as sa
from flask import Flask
from flask import Response
from flask import current_app
from flask import flash
from flask import g
from flask import request
from flask import session
from flask_wtf.csrf import CSRFProtect

from gateway import permissions
from gateway.access import users
from gateway.context import Actor
from gateway.context import Context
from gateway.db import get_engine
from gateway.errors import Conflict
from gateway.errors import Forbidden
from gateway.errors import GatewayError
from gateway.errors import InvalidInput
from gateway.errors import Unauthorized
from gateway.models import IdempotencyKey
from gateway.models.base import table_of
from gateway.runtime import Runtime

F = TypeVar("F", bound=Callable[..., Any])
csrf = CSRFProtect()
MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})

#: Set by the settlement ingestion side: verifies ``X-Gateway-*`` signatures and returns the client actor.
ClientAuthenticator = Callable[[Context], Actor]


def runtime() -> Runtime:
    rt: Runtime = current_app.extensions["gateway"]
    return rt


def ctx() -> Context:
    """The request's service context (created on first use, closed at teardown)."""
    if "gateway_ctx" not in g:
        rt = runtime()
        cm = rt.context(current_actor() or Actor(kind="anonymous", name="anonymous"))
        g.gateway_ctx_cm = cm
        g.gateway_ctx = cm.__enter__()
    context: Context = g.gateway_ctx
    return context


def _teardown(_exc: BaseException | None) -> None:
    cm = g.pop("gateway_ctx_cm", None)
    g.pop("gateway_ctx", None)
    if cm is not None:
        cm.__exit__(None, None, None)


def init_app(app: Flask) -> None:
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    csrf.init_app(app)
    app.teardown_appcontext(_teardown)
    app.after_request(_security_headers)


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'",
    )
    # Anything but the static files may hold personal data (pages, API answers, PDFs, errors naming a
    # claim): never stored by a browser or a proxy. A weaker Cache-Control (send_file's no-cache) is replaced.
    if request.endpoint != "static" and "no-store" not in response.headers.get("Cache-Control", ""):
        response.headers["Cache-Control"] = "no-store"
    return response


# -- who is calling


def current_actor() -> Actor | None:
    """The authenticated caller, resolved once per request; raises Unauthorized for bad credentials."""
    if "gateway_actor" in g:
        actor: Actor | None = g.gateway_actor
        return actor
    g.gateway_actor = None
    g.gateway_auth = None
    g.gateway_actor = _resolve_actor()
    return g.gateway_actor  # type: ignore[no-any-return]


def _resolve_actor() -> Actor | None:
    rt = runtime()
    if request.headers.get("X-Gateway-Key"):
        authenticator: ClientAuthenticator | None = current_app.extensions.get("gateway_client_auth")
        if authenticator is None:
            raise Unauthorized("agent client signatures are not accepted here")
        with rt.context(Actor(kind="anonymous", name="anonymous")) as c:
            actor = authenticator(c)
        g.gateway_auth = "signature"
        return actor
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("use Authorization: Bearer <token>")
        if rt.settings.mode != "full":
            raise Unauthorized("staff tokens are not accepted by the public process")
        with rt.context(Actor(kind="anonymous", name="anonymous")) as c:
            user = users.user_for_token(c, token.strip())
            if user is None:
                raise Unauthorized("invalid or revoked token")
            g.gateway_auth = "token"
            return users.actor_for(user)
    # The cookie holds only a random session id; the server decides whether that session still stands.
    sid = session.get("sid")
    if (sid is not None or "user_id" in session) and rt.settings.mode == "full":
        from gateway.access import sessions

        reason: str | None = "unknown"  # also a cookie from before server-side sessions (user_id in it)
        if isinstance(sid, str) and sid:
            with rt.context(Actor(kind="anonymous", name="anonymous")) as c:
                user, reason = sessions.resolve(c, sid)
                if user is not None:
                    g.gateway_auth = "session"
                    return users.actor_for(user)
        session.clear()
        if reason in sessions.TIMED_OUT:
            from gateway import catalogue

            flash(catalogue.message("session.expired"), "error")
    return None


def require() -> Callable[[F], F]:
    """Let the view run only for the callers ``gateway.permissions.TABLE`` allows for its endpoint.

    401 without valid credentials, 403 for the wrong role or an agent client where agents are not
    allowed. Cookie sessions must send the CSRF token on mutating requests. Mutating requests honour
    ``Idempotency-Key``.
    """

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            who = permissions.allowed(request.endpoint)
            actor = current_actor()
            if actor is None:
                raise Unauthorized("sign in or send a bearer token")
            if actor.kind == "client":
                if permissions.AGENT not in who:
                    raise Forbidden("agent clients may only post settlements and read their own batches")
            elif not actor.has_role(*(who - {permissions.AGENT})):
                roles = ", ".join(sorted(who - {permissions.AGENT})) or "none"
                raise Forbidden(f"this needs one of the roles: {roles}")
            if g.get("gateway_auth") == "session" and request.method in MUTATING:
                csrf.protect()
            if request.method in MUTATING and request.headers.get("Idempotency-Key"):
                return _idempotent(actor, view, args, kwargs)
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


# -- Idempotency-Key


def _idempotent(actor: Actor, view: Callable[..., Any], args: Any, kwargs: Any) -> Any:
    """Replay the first response for a repeated key; 422 for the same key with another body; 409 while the
    first request is still running. 5xx responses are not kept, so the client may retry.

    A key still in flight after ``GATEWAY_IDEMPOTENCY_IN_FLIGHT_SECONDS`` belongs to a worker that died
    mid-request: the next attempt with the same body takes it over (one conditional UPDATE, so of two
    retries only one runs) and runs the request.
    """
    key = request.headers["Idempotency-Key"].strip()
    if not key or len(key) > 255:
        raise InvalidInput("Idempotency-Key must be 1-255 characters", field="Idempotency-Key")
    body_hash = hashlib.sha256(
        request.method.encode() + request.path.encode() + request.get_data()
    ).hexdigest()
    table = table_of(IdempotencyKey)
    engine = get_engine(runtime().settings.database_url)
    principal = actor.label
    with engine.begin() as conn:
        existing = (
            conn.execute(sa.select(table).where(table.c.principal == principal, table.c.key == key))
            .mappings()
            .first()
        )
        if existing is None:
            try:
                conn.execute(
                    sa.insert(table).values(
                        principal=principal,
                        key=key,
                        method=request.method,
                        path=request.path[:512],
                        body_sha256=body_hash,
                        state="in_flight",
                        created_at=ctx().now(),
                    )
                )
            except sa.exc.IntegrityError:
                raise Conflict("a request with this Idempotency-Key is still in progress") from None
    if existing is not None:
        if existing["body_sha256"] != body_hash:
            raise InvalidInput("this Idempotency-Key was used with a different request body")
        if existing["state"] == "done":
            return Response(
                existing["response_body"] or "",
                status=existing["status_code"],
                content_type=existing["content_type"],
            )
        if not _take_over(engine, principal, key):
            raise Conflict("a request with this Idempotency-Key is still in progress")
    try:
        result = view(*args, **kwargs)
        response = current_app.make_response(result)
    except GatewayError as ex:
        response = current_app.make_response(error_payload(ex))
    except Exception:
        _forget(engine, principal, key)
        raise
    if response.status_code >= 500:
        _forget(engine, principal, key)
        return response
    with engine.begin() as conn:
        conn.execute(
            sa.update(table)
            .where(table.c.principal == principal, table.c.key == key)
            .values(
                state="done",
                status_code=response.status_code,
                response_body=response.get_data(as_text=True),
                content_type=response.content_type,
            )
        )
    return response


def _take_over(engine: sa.Engine, principal: str, key: str) -> bool:
    """Claim a key whose request has been in flight longer than the limit (its worker died); False while
    it may still be running or when another attempt claimed it first."""
    table = table_of(IdempotencyKey)
    now = ctx().now()
    cutoff = now - datetime.timedelta(seconds=runtime().settings.idempotency_in_flight_seconds)
    with engine.begin() as conn:
        claimed = conn.execute(
            sa.update(table)
            .where(
                table.c.principal == principal,
                table.c.key == key,
                table.c.state == "in_flight",
                table.c.created_at < cutoff,
            )
            .values(created_at=now)
        )
    return claimed.rowcount == 1


def _forget(engine: sa.Engine, principal: str, key: str) -> None:
    table = table_of(IdempotencyKey)
    with engine.begin() as conn:
        conn.execute(sa.delete(table).where(table.c.principal == principal, table.c.key == key))


# -- errors


def error_payload(ex: GatewayError) -> tuple[Response, int]:
    body = {"error": {"code": ex.code, "message": ex.message, "details": ex.details}}
    response = Response(json.dumps(body, ensure_ascii=False, default=str), mimetype="application/json")
    return response, ex.status


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"
