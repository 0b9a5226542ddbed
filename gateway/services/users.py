"""Staff accounts and their API tokens."""

from __future__ import annotations

import hashlib
import secrets

from sqlmodel import col
from sqlmodel import select
from werkzeug.security import check_password_hash
from werkzeug.security import generate_password_hash

from gateway.context import Actor
from gateway.context import Context
from gateway.context import mutation
from gateway.errors import Conflict
from gateway.errors import InvalidInput
from gateway.errors import NotFound
from gateway.models import ApiToken
from gateway.models import User
from gateway.models.base import utcnow
from gateway.models.core import ROLES

TOKEN_PREFIX = "kgw_"
MIN_PASSWORD = 12
# A valid hash to compare against when the user does not exist, so timing does not reveal names.
_DUMMY_HASH = generate_password_hash("not-a-password-" + secrets.token_hex(8))


def actor_for(user: User) -> Actor:
    return Actor(kind="user", name=user.name, role=user.role, user_id=user.id)


@mutation("user.create")
def create_user(ctx: Context, name: str, role: str, password: str | None = None) -> User:
    name = name.strip()
    if not name or len(name) > 64 or not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise InvalidInput("user name must be 1-64 letters, digits, '.', '-' or '_'", field="name")
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}", field="role")
    if password is not None and len(password) < MIN_PASSWORD:
        raise InvalidInput(f"password must have at least {MIN_PASSWORD} characters", field="password")
    if ctx.session.exec(select(User.id).where(User.name == name)).first() is not None:
        raise Conflict(f"user {name} already exists", field="name")
    user = User(name=name, role=role, password_hash=generate_password_hash(password) if password else None)
    ctx.session.add(user)
    ctx.session.flush()
    ctx.record("user.create", "user", name, role=role, password=password is not None)
    return user


def get_user(ctx: Context, name: str) -> User:
    user = ctx.session.exec(select(User).where(User.name == name)).first()
    if user is None:
        raise NotFound(f"user {name} not found", field="name")
    return user


@mutation("user.token")
def issue_token(ctx: Context, name: str) -> str:
    """A new bearer token for the user; only its hash is stored, so it is shown once."""
    user = get_user(ctx, name)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    ctx.session.add(
        ApiToken(
            user_id=user.id or 0, token_hash=hashlib.sha256(token.encode()).hexdigest(), prefix=token[:12]
        )
    )
    ctx.record("user.token", "user", name, prefix=token[:12])
    return token


@mutation("user.token_revoke")
def revoke_tokens(ctx: Context, name: str) -> int:
    user = get_user(ctx, name)
    count = 0
    for token in ctx.session.exec(
        select(ApiToken).where(ApiToken.user_id == user.id, col(ApiToken.revoked_at).is_(None))
    ):
        token.revoked_at = utcnow()
        ctx.session.add(token)
        count += 1
    ctx.record("user.token_revoke", "user", name, revoked=count)
    return count


def user_for_token(ctx: Context, token: str) -> User | None:
    if not token.startswith(TOKEN_PREFIX):
        return None
    digest = hashlib.sha256(token.encode()).hexdigest()
    row = ctx.session.exec(select(ApiToken).where(ApiToken.token_hash == digest)).first()
    if row is None or row.revoked_at is not None:
        return None
    user = ctx.session.get(User, row.user_id)
    return user if user is not None and user.active else None


def check_password(ctx: Context, name: str, password: str) -> User | None:
    user = ctx.session.exec(select(User).where(User.name == name)).first()
    if user is None or not user.password_hash or not user.active:
        check_password_hash(_DUMMY_HASH, password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


@mutation("user.set_password")
def set_password(ctx: Context, name: str, password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"password must have at least {MIN_PASSWORD} characters", field="password")
    user = get_user(ctx, name)
    user.password_hash = generate_password_hash(password)
    ctx.session.add(user)
    ctx.record("user.set_password", "user", name)


@mutation("user.login")
def record_login(ctx: Context, user: User) -> None:
    user.last_login_at = utcnow()
    ctx.session.add(user)
    ctx.record("user.login", "user", user.name)
