"""Staff accounts and their API tokens."""

from __future__ import annotations

import hashlib
import secrets

import sqlalchemy as sa
from sqlmodel import col
from sqlmodel import select
from werkzeug.security import check_password_hash
from werkzeug.security import generate_password_hash

from gateway.access import login_throttle
from gateway.access import sessions
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
        raise InvalidInput(
            "user name must be 1-64 letters, digits, '.', '-' or '_'", field="name", key="user.bad_name"
        )
    if role not in ROLES:
        raise InvalidInput(
            f"role must be one of {', '.join(ROLES)}",
            field="role",
            key="form.choose",
            params={"field": "role"},
        )
    if password is not None and len(password) < MIN_PASSWORD:
        raise InvalidInput(
            f"password must have at least {MIN_PASSWORD} characters",
            field="password",
            key="user.password_short",
            params={"min": MIN_PASSWORD},
        )
    if ctx.session.exec(select(User.id).where(User.name == name)).first() is not None:
        raise Conflict(f"user {name} already exists", field="name", key="user.exists", params={"name": name})
    user = User(name=name, role=role, password_hash=generate_password_hash(password) if password else None)
    ctx.session.add(user)
    ctx.session.flush()
    ctx.record("user.create", "user", name, role=role, password=password is not None)
    return user


def get_user(ctx: Context, name: str) -> User:
    user = ctx.session.exec(select(User).where(User.name == name)).first()
    if user is None:
        raise NotFound(f"user {name} not found", field="name", key="user.not_found", params={"name": name})
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
    """Revoke every API token of the account and end its signed-in sessions (a copied cookie too)."""
    user = get_user(ctx, name)
    count = 0
    for token in ctx.session.exec(
        select(ApiToken).where(ApiToken.user_id == user.id, col(ApiToken.revoked_at).is_(None))
    ):
        token.revoked_at = utcnow()
        ctx.session.add(token)
        count += 1
    sessions.end_all(ctx, user, "revoked")
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
    """Set the account's password; every signed-in session of the account ends."""
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(
            f"password must have at least {MIN_PASSWORD} characters",
            field="password",
            key="user.password_short",
            params={"min": MIN_PASSWORD},
        )
    user = get_user(ctx, name)
    user.password_hash = generate_password_hash(password)
    ctx.session.add(user)
    sessions.end_all(ctx, user, "password")
    ctx.record("user.set_password", "user", name)


@mutation("user.login")
def record_login(ctx: Context, user: User, *, replaces: str | None = None) -> str:
    """Record a sign-in: clear the account's failed sign-ins and start a server-side session, whose id is
    returned for the cookie (``replaces``: the session id the browser held before, ended)."""
    user.last_login_at = utcnow()
    ctx.session.add(user)
    login_throttle.clear_account(ctx, user.name)
    sid = sessions.start(ctx, user, replaces=replaces)
    ctx.record("user.login", "user", user.name)
    return sid


# -- administration (the admin pages and ``gateway users disable|enable|password``)


def generate_password() -> str:
    """A random initial password, easy to read out and type (no 0/O, 1/l/I), 16 characters."""
    alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(16))


def list_users(ctx: Context) -> list[User]:
    """Every staff account, by name (an office has tens of accounts, not thousands)."""
    return list(ctx.session.exec(select(User).order_by(col(User.name))).all())


def _active_admins(ctx: Context) -> int:
    stmt = select(sa.func.count()).select_from(User).where(User.role == "admin", col(User.active).is_(True))
    return int(ctx.session.exec(stmt).one())


def _not_self(ctx: Context, user: User, what: str) -> None:
    if ctx.actor.kind == "user" and ctx.actor.name == user.name:
        raise Conflict(f"you cannot {what} your own account", field="name", key="user.self")


@mutation("user.disable")
def disable_user(ctx: Context, name: str) -> User:
    """Disable an account: its password and API tokens stop working at once (sessions too).

    Raises:
        NotFound: no such user.
        Conflict: the actor's own account, or the last active admin.
    """
    user = get_user(ctx, name)
    _not_self(ctx, user, "disable")
    if not user.active:
        raise Conflict(f"user {name} is already disabled", field="name", key="user.already_disabled")
    if user.role == "admin" and _active_admins(ctx) <= 1:
        raise Conflict("the last active admin cannot be disabled", field="name", key="user.last_admin")
    user.active = False
    ctx.session.add(user)
    sessions.end_all(ctx, user, "disabled")
    ctx.record("user.disable", "user", name)
    return user


@mutation("user.enable")
def enable_user(ctx: Context, name: str) -> User:
    """Enable a disabled account again (its old API tokens stay as they were; revoked ones stay revoked)."""
    user = get_user(ctx, name)
    if user.active:
        raise Conflict(f"user {name} is already active", field="name", key="user.already_active")
    user.active = True
    ctx.session.add(user)
    ctx.record("user.enable", "user", name)
    return user


@mutation("user.set_role")
def set_role(ctx: Context, name: str, role: str) -> User:
    """Change an account's role; the account's signed-in sessions end (it signs in again with the new role).

    Raises:
        InvalidInput: an unknown role.
        Conflict: the actor's own account, or taking the role from the last active admin.
    """
    if role not in ROLES:
        raise InvalidInput(
            f"role must be one of {', '.join(ROLES)}",
            field="role",
            key="form.choose",
            params={"field": "role"},
        )
    user = get_user(ctx, name)
    _not_self(ctx, user, "change the role of")
    if user.role == role:
        raise Conflict(f"user {name} already has the role {role}", field="role", key="user.same_role")
    if user.role == "admin" and user.active and _active_admins(ctx) <= 1:
        raise Conflict("the last active admin must keep the role", field="role", key="user.last_admin")
    old = user.role
    user.role = role
    ctx.session.add(user)
    sessions.end_all(ctx, user, "role")
    ctx.record("user.set_role", "user", name, old_role=old, role=role)
    return user


@mutation("user.set_password")
def reset_password(ctx: Context, name: str, password: str | None = None) -> str:
    """Set a new password (a generated one when ``password`` is None); returns it, to be shown once."""
    new = password if password is not None else generate_password()
    set_password(ctx, name, new)
    return new
