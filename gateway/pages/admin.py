"""Administration: users, API clients and collection agents.

Every change goes through a service (``gateway.access.users``, ``clients``, ``agents``) and is audited.
Destructive actions (disable, revoke, rotate, role change, password reset) open a confirmation page first
(GET) and act on its POST. A generated password or a client secret is shown once, on the result page of
the POST, with ``Cache-Control: no-store``; it is never stored in clear nor shown again. No page here reads
a debtor.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from werkzeug.datastructures import MultiDict

from gateway import catalogue
from gateway.access import agents as agent_service
from gateway.access import clients as client_service
from gateway.access import users as user_service
from gateway.context import Actor
from gateway.errors import GatewayError
from gateway.errors import InvalidInput
from gateway.models import ApiClient
from gateway.models.core import ROLES
from gateway.pages.base import action
from gateway.pages.base import form_date
from gateway.pages.base import form_int
from gateway.pages.base import form_text
from gateway.pages.base import no_store
from gateway.pages.base import page
from gateway.pages.formats import ymd
from gateway.web import ctx

bp = Blueprint("staff_admin", __name__, url_prefix="/staff/admin")

# -- users


def _user_rows() -> list[dict[str, Any]]:
    c = ctx()
    return [
        {
            "name": u.name,
            "role": u.role,
            "active": u.active,
            "created_at": u.created_at,
            "last_login_at": u.last_login_at,
        }
        for u in user_service.list_users(c)
    ]


def _users_page(form: dict[str, str] | None = None, error: str | None = None, status: int = 200) -> Any:
    html = render_template(
        "staff/admin_users.html", users=_user_rows(), roles=ROLES, form=form or {}, error=error
    )
    return no_store(html), status


@bp.get("/users")
@page()
def users(actor: Actor) -> Any:
    """Every staff account: role, state, last sign-in; the form to add one."""
    return _users_page()


@bp.post("/users")
@page()
def user_create(actor: Actor) -> Any:
    """Create an account with a password typed in, or a generated one shown once."""
    form = request.form
    c = ctx()
    try:
        name = form_text(form, "name")
        role = form.get("role", "")
        if role not in ROLES:
            raise InvalidInput("choose a role", field="role", key="form.choose", params={"field": "role"})
        generate = form.get("password_mode") != "set"
        password = user_service.generate_password() if generate else form_text(form, "password")
        user = user_service.create_user(c, name, role, password)
    except GatewayError as ex:
        keep = {"name": form.get("name", ""), "role": form.get("role", "")}
        return _users_page(keep, catalogue.error_text(ex), 422)
    return no_store(
        render_template(
            "staff/admin_secret.html",
            title="利用者を登録しました",
            lead=f"利用者 {user.name}({catalogue.label('role', user.role)})を登録しました。",
            secret_label="初期パスワード",
            secret=password if generate else None,
            back=url_for("staff_admin.users"),
            back_text="利用者一覧へ戻る",
        )
    )


def _user(name: str) -> Any:
    c = ctx()
    try:
        return user_service.get_user(c, name)
    except GatewayError:
        abort(404)


def _confirm(**values: Any) -> Any:
    """The confirmation page of a destructive action: what will happen, the action button, and 「やめる」."""
    cancel = url_for("staff_admin.clients") if "/clients/" in request.path else url_for("staff_admin.users")
    return no_store(render_template("staff/admin_confirm.html", cancel=cancel, **values))


def _confirm_then(do: Callable[[], str], back: str, **confirm: Any) -> Any:
    """A destructive action: GET shows its confirmation page (``confirm``); POST runs ``do`` through
    :func:`action` (success or error flashed) and redirects ``back``."""
    if request.method == "GET":
        return _confirm(**confirm)
    return action(do, back)


@bp.route("/users/<name>/disable", methods=["GET", "POST"])
@page()
def user_disable(actor: Actor, name: str) -> Any:
    """Disable an account (confirmation first): its password, session and API tokens stop working."""
    user = _user(name)

    def do() -> str:
        user_service.disable_user(ctx(), user.name)
        return f"利用者 {user.name} を停止しました。"

    return _confirm_then(
        do,
        url_for("staff_admin.users"),
        title=f"利用者 {user.name} を停止しますか",
        lead="停止すると、この利用者はログインできなくなり、APIトークンも使えなくなります。"
        "記録は残り、あとで再開できます。",
        action=url_for("staff_admin.user_disable", name=user.name),
        button="停止する",
        danger=True,
    )


@bp.route("/users/<name>/enable", methods=["GET", "POST"])
@page()
def user_enable(actor: Actor, name: str) -> Any:
    """Enable a disabled account again (confirmation first)."""
    user = _user(name)

    def do() -> str:
        user_service.enable_user(ctx(), user.name)
        return f"利用者 {user.name} を再開しました。"

    return _confirm_then(
        do,
        url_for("staff_admin.users"),
        title=f"利用者 {user.name} を再開しますか",
        lead="再開すると、この利用者は以前のパスワードでまたログインできます。"
        "必要ならパスワードも再設定してください。",
        action=url_for("staff_admin.user_enable", name=user.name),
        button="再開する",
    )


@bp.route("/users/<name>/password", methods=["GET", "POST"])
@page()
def user_password(actor: Actor, name: str) -> Any:
    """Reset a password: a generated one (shown once) or one typed in."""
    user = _user(name)
    if request.method == "GET":
        return no_store(render_template("staff/admin_password.html", user=user, error=None))
    form = request.form
    generate = form.get("password_mode") != "set"
    try:
        password = None if generate else form_text(form, "password")
        new = user_service.reset_password(ctx(), user.name, password)
    except GatewayError as ex:
        html = render_template("staff/admin_password.html", user=user, error=catalogue.error_text(ex))
        return no_store(html), 422
    return no_store(
        render_template(
            "staff/admin_secret.html",
            title="パスワードを再設定しました",
            lead=f"利用者 {user.name} のパスワードを再設定しました。以前のパスワードは使えません。",
            secret_label="新しいパスワード",
            secret=new if generate else None,
            back=url_for("staff_admin.users"),
            back_text="利用者一覧へ戻る",
        )
    )


@bp.route("/users/<name>/role", methods=["GET", "POST"])
@page()
def user_role(actor: Actor, name: str) -> Any:
    """Change an account's role (the form is the confirmation)."""
    user = _user(name)
    if request.method == "GET":
        return no_store(render_template("staff/admin_role.html", user=user, roles=ROLES))
    role = request.form.get("role", "")

    def do() -> str:
        user_service.set_role(ctx(), user.name, role)
        return f"利用者 {user.name} の役割を「{catalogue.label('role', role)}」に変更しました。"

    return action(do, url_for("staff_admin.users"))


@bp.route("/users/<name>/revoke-tokens", methods=["GET", "POST"])
@page()
def user_revoke_tokens(actor: Actor, name: str) -> Any:
    """Revoke every API token of an account (confirmation first)."""
    user = _user(name)

    def do() -> str:
        n = user_service.revoke_tokens(ctx(), user.name)
        return f"利用者 {user.name} のAPIトークン {n}件を失効させました。"

    return _confirm_then(
        do,
        url_for("staff_admin.users"),
        title=f"利用者 {user.name} のAPIトークンをすべて失効させますか",
        lead="失効したトークンは元に戻せません。この利用者がプログラムから接続している場合は、"
        "新しいトークンの発行が必要です。この利用者がログイン中の画面もログアウトされます。",
        action=url_for("staff_admin.user_revoke_tokens", name=user.name),
        button="トークンを失効させる",
        danger=True,
    )


# -- API clients


def _clients_page(form: dict[str, str] | None = None, error: str | None = None, status: int = 200) -> Any:
    c = ctx()
    agents = agent_service.list_agents(c)
    by_id = {a.id: a for a in agents}
    rows = [
        {
            "key_id": cl.key_id,
            "name": cl.name,
            "agent": by_id.get(cl.agent_id) if cl.agent_id else None,
            "created_at": cl.created_at,
            "last_used_at": cl.last_used_at,
            "revoked_at": cl.revoked_at,
        }
        for cl in client_service.list_clients(c)
    ]
    html = render_template(
        "staff/admin_clients.html", clients=rows, agents=agents, form=form or {}, error=error
    )
    return no_store(html), status


@bp.get("/clients")
@page()
def clients(actor: Actor) -> Any:
    """Agent API clients: state, last use; the form to add one."""
    return _clients_page()


@bp.post("/clients")
@page()
def client_create(actor: Actor) -> Any:
    """Create a client for an agent; its secret is shown once on the result page."""
    form = request.form
    try:
        name = form_text(form, "name")
        agent = form.get("agent") or None
        if agent is None:
            raise InvalidInput("choose an agent", field="agent", key="form.choose", params={"field": "agent"})
        client, secret = client_service.create_client(ctx(), name, agent)
    except GatewayError as ex:
        return _clients_page(
            {"name": form.get("name", ""), "agent": form.get("agent", "")}, catalogue.error_text(ex), 422
        )
    return _secret_page(client, secret, "APIクライアントを登録しました")


def _secret_page(client: ApiClient, secret: str, title: str) -> Any:
    return no_store(
        render_template(
            "staff/admin_secret.html",
            title=title,
            lead=f"APIクライアント「{client.name}」のキーIDと秘密鍵です。",
            key_id=client.key_id,
            secret_label="秘密鍵",
            secret=secret,
            back=url_for("staff_admin.clients"),
            back_text="APIクライアント一覧へ戻る",
        )
    )


def _client(key_id: str) -> ApiClient:
    from sqlmodel import select

    found = ctx().session.exec(select(ApiClient).where(ApiClient.key_id == key_id)).first()
    if found is None:
        abort(404)
    return found


@bp.route("/clients/<key_id>/rotate", methods=["GET", "POST"])
@page()
def client_rotate(actor: Actor, key_id: str) -> Any:
    """Give a client a new secret (confirmation first); the old one stops working at once."""
    client = _client(key_id)
    if request.method == "GET":
        return _confirm(
            title=f"APIクライアント「{client.name}」の秘密鍵を再発行しますか",
            lead="再発行すると、いまの秘密鍵はすぐに使えなくなります。新しい秘密鍵は次の画面で一度だけ"
            "表示されるので、収納代行会社に安全な方法で渡してください。",
            action=url_for("staff_admin.client_rotate", key_id=client.key_id),
            button="秘密鍵を再発行する",
            danger=True,
        )
    try:
        rotated, secret = client_service.rotate_client(ctx(), client.key_id)
    except GatewayError as ex:
        flash(catalogue.error_text(ex), "error")
        return redirect(url_for("staff_admin.clients"))
    return _secret_page(rotated, secret, "秘密鍵を再発行しました")


@bp.route("/clients/<key_id>/revoke", methods=["GET", "POST"])
@page()
def client_revoke(actor: Actor, key_id: str) -> Any:
    """Revoke a client (confirmation first): its requests are refused from then on."""
    client = _client(key_id)

    def do() -> str:
        client_service.revoke_client(ctx(), client.key_id)
        return f"APIクライアント「{client.name}」を失効させました。"

    return _confirm_then(
        do,
        url_for("staff_admin.clients"),
        title=f"APIクライアント「{client.name}」を失効させますか",
        lead="失効させると、このクライアントからの送信はすべて拒否されます。元に戻せません。",
        action=url_for("staff_admin.client_revoke", key_id=client.key_id),
        button="失効させる",
        danger=True,
    )


# -- agents


def _agent_options(agent: Any) -> list[dict[str, str]]:
    """The agent's adapter options in Japanese (every option of its adapters, the default when unset)."""
    rows = []
    for adapter in agent.adapter_list:
        configured = agent.options_for(adapter)
        for name, choices in agent_service.adapter_option_choices(adapter).items():
            key = f"{adapter}.{name}"
            value = configured.get(name, choices[0])
            rows.append(
                {"label": catalogue.label("adapter_option", key), "value": catalogue.label(key, value)}
            )
    return rows


def _option_fields(form: MultiDict[str, str] | dict[str, Any]) -> list[dict[str, Any]]:
    """A select per adapter option (``opt:ADAPTER.OPTION``) for the registration form, default first."""
    fields = []
    for adapter in agent_service.payment_adapter_names():
        for name, choices in agent_service.adapter_option_choices(adapter).items():
            key = f"{adapter}.{name}"
            fields.append(
                {
                    "id": f"opt-{adapter}-{name}",
                    "name": f"opt:{key}",
                    "label": catalogue.label("adapter_option", key),
                    "choices": [(value, catalogue.label(key, value)) for value in choices],
                    "selected": form.get(f"opt:{key}") or choices[0],
                }
            )
    return fields


def _form_options(form: MultiDict[str, str]) -> dict[str, dict[str, str]]:
    """The options chosen in the form that differ from their default (the service checks them)."""
    out: dict[str, dict[str, str]] = {}
    for adapter in agent_service.payment_adapter_names():
        for name, choices in agent_service.adapter_option_choices(adapter).items():
            value = form.get(f"opt:{adapter}.{name}") or choices[0]
            if value != choices[0]:
                out.setdefault(adapter, {})[name] = value
    return out


def _agent_row(agent: Any, fees: list[Any], clients: int) -> dict[str, Any]:
    return {
        "options": _agent_options(agent),
        "code": agent.code,
        "name": agent.name,
        "adapters": agent.adapter_list,
        "remittance_mode": agent.remittance_mode,
        "channels": agent.channel_list,
        "delegation_basis": agent.delegation_basis,
        "delegation_date": agent.delegation_date,
        "remitter_name": agent.remitter_name,
        "enabled": agent.enabled,
        "fees": [
            {
                "channel": f.channel_code,
                "fee": f.fee_per_item,
                "tax": f"{f.tax_rate_bp / 100:g}%",
                "valid_from": f.valid_from,
            }
            for f in fees
        ],
        "clients": clients,
    }


@bp.get("/agents")
@page()
def agents(actor: Actor) -> Any:
    """Collection agents: formats, remittance mode, channels and fees with their valid-from dates."""
    c = ctx()
    fees = agent_service.fees_by_agent(c)
    counts = agent_service.client_counts(c)
    rows = [
        _agent_row(a, fees.get(a.id or 0, []), counts.get(a.id or 0, 0)) for a in agent_service.list_agents(c)
    ]
    return no_store(render_template("staff/admin_agents.html", agents=rows))


def _channel_choices() -> list[tuple[str, str]]:
    return [(code, text) for code, text in catalogue.LABELS["channel"].items() if code.isdigit()]


def _agent_form(form: MultiDict[str, str] | dict[str, Any], error: str | None, status: int) -> Any:
    html = render_template(
        "staff/admin_agent_new.html",
        form=form,
        error=error,
        adapters=agent_service.payment_adapter_names(),
        channels=_channel_choices(),
        today=ctx().today(),
        option_fields=_option_fields(form),
        chosen_adapters=form.getlist("adapters") if isinstance(form, MultiDict) else [],
        chosen_channels=form.getlist("channels") if isinstance(form, MultiDict) else [],
    )
    return no_store(html), status


@bp.route("/agents/new", methods=["GET", "POST"])
@page()
def agent_create(actor: Actor) -> Any:
    """Register a collection agent (with its first fee when one is given)."""
    if request.method == "GET":
        return _agent_form({}, None, 200)
    form = request.form
    try:
        fee = form_int(form, "fee_per_item", required=False)
        tax = (form.get("tax_rate") or "").strip() or None
        data = agent_service.AgentInput(
            code=form_text(form, "code"),
            name=form_text(form, "name"),
            adapters=tuple(form.getlist("adapters")) or None,
            remittance_mode=form.get("remittance_mode", "gross"),
            fee_per_item=fee,
            tax_rate=tax,
            fee_valid_from=form_date(form, "fee_valid_from", required=False),
            channels=tuple(form.getlist("channels")),
            remitter_name=(form.get("remitter_name") or "").strip() or None,
            delegation_basis=form.get("delegation_basis", "designated"),
            delegation_date=form_date(form, "delegation_date", required=False),
            adapter_options=_form_options(form),
        )
        agent = agent_service.add_agent(ctx(), data)
    except GatewayError as ex:
        return _agent_form(form, catalogue.error_text(ex), 422)
    return action(
        lambda: f"収納代行会社「{agent.name}」を登録しました。", url_for("staff_admin.agent", code=agent.code)
    )


@bp.get("/agents/<code>")
@page()
def agent(actor: Actor, code: str) -> Any:
    """One agent with its fee history and the form to add a fee from a valid-from date."""
    c = ctx()
    found = agent_service.find_agent(c, code)
    if found is None:
        abort(404)
    row = _agent_row(
        found,
        list(reversed(agent_service.fees(c, found))),
        agent_service.client_counts(c).get(found.id or 0, 0),
    )
    html = render_template(
        "staff/admin_agent.html",
        agent=row,
        channels=[(ch, catalogue.label("channel", ch)) for ch in found.channel_list],
        today=c.today(),
    )
    return no_store(html)


@bp.post("/agents/<code>/fees")
@page()
def agent_fee(actor: Actor, code: str) -> Any:
    """Add a fee row valid from a date (for every channel, or one)."""
    form = request.form

    def do() -> str:
        fee = form_int(form, "fee_per_item")
        tax = form_text(form, "tax_rate")
        valid_from = form_date(form, "valid_from")
        assert fee is not None and valid_from is not None
        agent_service.add_fee(
            ctx(),
            code,
            fee_per_item=fee,
            tax_rate=tax,
            valid_from=valid_from,
            channel=form.get("channel") or None,
        )
        return f"手数料を登録しました({ymd(valid_from)}から適用)。"

    return action(do, url_for("staff_admin.agent", code=code))
