"""Collection agents (収納代行会社): registration, fees, lookup.

Only contracted agents post or deliver: a file or post for an agent that is not registered here (or not
enabled, or not configured for that file format) is refused by ``gateway.intake.ingest``.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from decimal import InvalidOperation
from typing import Any

import sqlalchemy as sa
from sqlmodel import col
from sqlmodel import select

from gateway.context import Context
from gateway.context import mutation
from gateway.errors import Conflict
from gateway.errors import InvalidInput
from gateway.errors import NotFound
from gateway.models import Agent
from gateway.models import AgentFee
from gateway.models.settlement import DELEGATION_BASES
from gateway.models.settlement import REMITTANCE_MODES
from gateway.models.settlement import select_fee

# Matched whole (fullmatch): "$" would accept a trailing newline, "\d" non-ASCII digits.
_CODE5 = re.compile(r"[0-9]{5}")
_CHANNEL = re.compile(r"[0-9]{3,4}")
_ADAPTER_OPTION = re.compile(r"([a-z0-9_]{1,32})\.([a-z0-9_]{1,64})=([A-Za-z0-9_:.-]{0,64})")


@dataclass(frozen=True)
class AgentInput:
    """An agent as staff register it (``gateway agents add`` / ``POST /agents``).

    ``tax_rate`` is a percentage (``"10"``, ``"8"``, ``"10.0"``); it is stored in basis points. Without
    ``adapters`` the agent may deliver every payment-file format; without ``channels`` no channel is
    enabled, so its posts are refused until the office enables some.
    """

    code: str
    name: str
    adapters: tuple[str, ...] | None = None
    remittance_mode: str = "gross"
    fee_per_item: int | None = None
    tax_rate: str | Decimal | int | None = None
    fee_valid_from: datetime.date | None = None
    fee_channel: str | None = None
    channels: tuple[str, ...] = ()
    remitter_name: str | None = None
    delegation_basis: str = "designated"
    delegation_date: datetime.date | None = None
    consignor_code: str | None = None
    enabled: bool = True
    adapter_options: dict[str, dict[str, str]] | None = None
    """Per adapter, its options for this agent's files (``{"dsk_csv": {"record_type_81": "skip"}}``);
    see :func:`parse_adapter_options` and :func:`check_adapter_options`."""


def payment_adapter_names() -> list[str]:
    """The registered adapters that read payment files (the ones an agent can be configured for)."""
    from adapters import ADAPTERS

    return sorted(
        name for name, cls in ADAPTERS.items() if cls.kind == "payment" and getattr(cls, "agent_format", True)
    )


def adapter_option_choices(adapter: str) -> dict[str, tuple[str, ...]]:
    """The options an agent may set for ``adapter`` and their allowed values (the first is the default);
    the adapter class declares them (``OPTIONS``)."""
    from adapters import ADAPTERS

    cls = ADAPTERS.get(adapter)
    return dict(getattr(cls, "OPTIONS", {}) or {})


def _bad_option(option: str, message: str) -> InvalidInput:
    return InvalidInput(
        f"adapter option {option!r}: {message}",
        field="adapter_options",
        key="agent.bad_adapter_option",
        params={"option": option[:80]},
    )


def parse_adapter_options(items: Iterable[str]) -> dict[str, dict[str, str]]:
    """``ADAPTER.OPTION=VALUE`` strings (``--adapter-option``) as a map by adapter; the names and values are
    checked by :func:`check_adapter_options`.

    >>> parse_adapter_options(["dsk_csv.record_type_81=skip"])
    {'dsk_csv': {'record_type_81': 'skip'}}
    >>> parse_adapter_options(["record_type_81=skip"])
    Traceback (most recent call last):
        ...
    gateway.errors.InvalidInput: adapter option 'record_type_81=skip': write ADAPTER.OPTION=VALUE
    """
    out: dict[str, dict[str, str]] = {}
    for item in items:
        text = item.strip()
        match = _ADAPTER_OPTION.fullmatch(text)
        if match is None:
            raise _bad_option(text, "write ADAPTER.OPTION=VALUE")
        adapter, name, value = match.groups()
        if name in out.get(adapter, {}):
            raise _bad_option(f"{adapter}.{name}", "given twice")
        out.setdefault(adapter, {})[name] = value
    return out


def check_adapter_options(
    options: Mapping[str, Mapping[str, str]], adapters: Iterable[str]
) -> dict[str, dict[str, str]]:
    """Check per-adapter options against what each adapter declares and the agent's own adapters.

    Raises:
        InvalidInput: an adapter the agent is not configured for, an unknown option name, or a value the
            option does not take (``field`` = ``adapter_options``, the message names the option).
    """
    configured = list(adapters)
    out: dict[str, dict[str, str]] = {}
    for adapter, values in options.items():
        if adapter not in configured:
            raise _bad_option(
                f"{adapter}.{next(iter(values), '')}",
                f"the agent is not configured for {adapter} files ({', '.join(configured) or 'none'})",
            )
        choices = adapter_option_choices(adapter)
        for name, value in values.items():
            option = f"{adapter}.{name}"
            if name not in choices:
                known = ", ".join(f"{adapter}.{n}" for n in sorted(choices)) or "none"
                raise _bad_option(option, f"unknown option (known: {known})")
            if value not in choices[name]:
                raise _bad_option(option, f"must be one of {', '.join(choices[name])} (not {value!r})")
            out.setdefault(adapter, {})[name] = value
    return out


def normalise_channel(code: str, field: str = "channels") -> str:
    """``"010"`` → ``"0010"``; anything but 3–4 digits is refused."""
    code = code.strip()
    if not _CHANNEL.fullmatch(code):
        raise InvalidInput(
            f"channel code {code!r} is not 3-4 digits",
            field=field,
            key="agent.bad_channel",
            params={"field": field, "value": code[:20]},
        )
    return code.rjust(4, "0")


def tax_rate_bp(rate: str | Decimal | int, field: str = "tax_rate") -> int:
    """A percentage as basis points: ``"10"`` → 1000, ``"8.5"`` → 850.

    >>> tax_rate_bp("10"), tax_rate_bp("8"), tax_rate_bp("0.25")
    (1000, 800, 25)
    """
    try:
        value = Decimal(str(rate).strip().removesuffix("%")) * 100
    except InvalidOperation:
        raise InvalidInput(
            f"tax rate {rate!r} is not a percentage", field=field, key="agent.bad_tax_rate"
        ) from None
    if value != value.to_integral_value() or not 0 <= value <= 10_000:
        raise InvalidInput(
            f"tax rate {rate!r} must be 0-100 % in steps of 0.01", field=field, key="agent.bad_tax_rate"
        )
    return int(value)


def _check_fee(fee_per_item: int, field: str = "fee_per_item") -> int:
    if isinstance(fee_per_item, bool) or not isinstance(fee_per_item, int) or fee_per_item < 0:
        raise InvalidInput(
            "fee per item must be a whole number of yen, 0 or more", field=field, key="agent.bad_fee"
        )
    return fee_per_item


@mutation("agent.add")
def add_agent(ctx: Context, data: AgentInput) -> Agent:
    """Register a contracted collection agent (with its first fee row when a fee is given).

    Raises:
        InvalidInput: a field that is not valid (``field`` names it).
        Conflict: an agent with this code exists.
    """
    code = data.code.strip()
    if not _CODE5.fullmatch(code):
        raise InvalidInput(
            "agent code must be 5 digits (barcode positions 4-8)", field="code", key="agent.bad_code"
        )
    name = data.name.strip()
    if not name or len(name) > 128:
        raise InvalidInput("agent name must be 1-128 characters", field="name")
    known = payment_adapter_names()
    chosen = list(known) if data.adapters is None else [a.strip() for a in data.adapters if a.strip()]
    for adapter in chosen:
        if adapter not in known:
            raise InvalidInput(
                f"adapter {adapter!r} is not a payment-file adapter ({', '.join(known)})", field="adapters"
            )
    if data.remittance_mode not in REMITTANCE_MODES:
        raise InvalidInput("remittance mode must be gross or net", field="remittance_mode")
    if data.delegation_basis not in DELEGATION_BASES:
        raise InvalidInput("delegation basis must be art78_3 or designated", field="delegation_basis")
    channels = sorted({normalise_channel(c) for c in data.channels})
    options = check_adapter_options(data.adapter_options or {}, chosen)
    consignor = (data.consignor_code or ctx.settings.consignor_code).strip()
    if not _CODE5.fullmatch(consignor):
        raise InvalidInput("consignor code must be 5 digits", field="consignor_code")
    remitter = data.remitter_name.strip() if data.remitter_name else None
    if remitter is not None and len(remitter) > 128:
        raise InvalidInput("remitter name must be at most 128 characters", field="remitter_name")
    fee_given = data.fee_per_item is not None or data.tax_rate is not None
    if fee_given and (data.fee_per_item is None or data.tax_rate is None):
        raise InvalidInput(
            "give the fee per item and the tax rate together", field="fee_per_item", key="agent.fee_pair"
        )
    if data.fee_channel is not None and not fee_given:
        raise InvalidInput("a fee channel needs a fee per item and a tax rate", field="fee_channel")
    if ctx.session.exec(select(Agent.id).where(Agent.code == code)).first() is not None:
        raise Conflict(
            f"agent {code} already exists", field="code", key="agent.exists", params={"code": code}
        )
    agent = Agent(
        code=code,
        name=name,
        adapters=",".join(chosen),
        remittance_mode=data.remittance_mode,
        channels=",".join(channels),
        remitter_name=remitter or None,
        delegation_basis=data.delegation_basis,
        delegation_date=data.delegation_date,
        consignor_code=consignor,
        enabled=data.enabled,
        created_at=ctx.now(),
        adapter_options=options or None,
    )
    ctx.session.add(agent)
    ctx.session.flush()
    ctx.record(
        "agent.add",
        "agent",
        code,
        adapters=chosen,
        channels=channels,
        remittance_mode=agent.remittance_mode,
        delegation_basis=agent.delegation_basis,
        adapter_options=options,
    )
    if fee_given:
        assert data.fee_per_item is not None and data.tax_rate is not None
        add_fee(
            ctx,
            code,
            fee_per_item=data.fee_per_item,
            tax_rate=data.tax_rate,
            valid_from=data.fee_valid_from or data.delegation_date or ctx.today(),
            channel=data.fee_channel,
        )
    return agent


@mutation("agent.fee")
def add_fee(
    ctx: Context,
    code: str,
    *,
    fee_per_item: int,
    tax_rate: str | Decimal | int,
    valid_from: datetime.date,
    channel: str | None = None,
) -> AgentFee:
    """Add a fee row (from ``valid_from`` on; for one channel, or every channel when ``channel`` is None)."""
    agent = get_agent(ctx, code)
    row = AgentFee(
        agent_id=agent.id,  # type: ignore[arg-type]
        channel_code=normalise_channel(channel, "fee_channel") if channel else None,
        fee_per_item=_check_fee(fee_per_item),
        tax_rate_bp=tax_rate_bp(tax_rate),
        valid_from=valid_from,
    )
    ctx.session.add(row)
    ctx.session.flush()
    ctx.record(
        "agent.fee",
        "agent",
        agent.code,
        channel_code=row.channel_code,
        fee_per_item=row.fee_per_item,
        tax_rate_bp=row.tax_rate_bp,
        valid_from=row.valid_from.isoformat(),
    )
    return row


@mutation("agent.adapter_options")
def set_adapter_options(ctx: Context, code: str, options: Mapping[str, Mapping[str, str]]) -> Agent:
    """Set options of the adapters reading an agent's files (given options replace the stored ones of the
    same name; the others stay), e.g. once the agent has said what its DSK record type 81 means.

    Raises:
        NotFound: no such agent.
        InvalidInput: see :func:`check_adapter_options`; nothing is changed.
    """
    agent = get_agent(ctx, code)
    checked = check_adapter_options(options, agent.adapter_list)
    merged = {name: dict(values) for name, values in (agent.adapter_options or {}).items()}
    for adapter, values in checked.items():
        merged.setdefault(adapter, {}).update(values)
    before = agent.adapter_options or {}
    agent.adapter_options = merged or None  # a new object: the JSON column sees the change
    ctx.session.add(agent)
    ctx.session.flush()
    ctx.record("agent.adapter_options", "agent", agent.code, before=before, after=merged)
    return agent


def get_agent(ctx: Context, code: str) -> Agent:
    agent = ctx.session.exec(select(Agent).where(Agent.code == code)).first()
    if agent is None:
        raise NotFound(
            f"agent {code} is not registered", field="code", key="agent.not_found", params={"code": code}
        )
    return agent


def find_agent(ctx: Context, code: str) -> Agent | None:
    return ctx.session.exec(select(Agent).where(Agent.code == code)).first()


def list_agents(ctx: Context) -> list[Agent]:
    return list(ctx.session.exec(select(Agent).order_by(Agent.code)).all())


def fees(ctx: Context, agent: Agent) -> list[AgentFee]:
    stmt = select(AgentFee).where(AgentFee.agent_id == agent.id)
    return list(ctx.session.exec(stmt.order_by(AgentFee.valid_from, AgentFee.id)).all())  # type: ignore[arg-type]


def fee_for(ctx: Context, agent: Agent, channel: str | None, day: datetime.date) -> tuple[int, int]:
    """(fee per item in yen, tax rate in basis points) for a payment through ``channel`` on ``day``.

    The channel's own row wins over the general one; among those the latest ``valid_from`` not after
    ``day``. ``(0, 0)`` when no fee is configured for that day.
    """
    return select_fee(fees(ctx, agent), channel, day)


def agent_json(ctx: Context, agent: Agent) -> dict[str, Any]:
    """The agent as staff see it (``agents list`` / ``GET /agents``)."""
    return {
        "code": agent.code,
        "name": agent.name,
        "adapters": agent.adapter_list,
        "delegation_basis": agent.delegation_basis,
        "delegation_date": agent.delegation_date.isoformat() if agent.delegation_date else None,
        "remitter_name": agent.remitter_name,
        "remittance_mode": agent.remittance_mode,
        "channels": agent.channel_list,
        "consignor_code": agent.consignor_code,
        "enabled": agent.enabled,
        "adapter_options": agent.adapter_options or {},
        "fees": [
            {
                "channel_code": f.channel_code,
                "fee_per_item": f.fee_per_item,
                "tax_rate_bp": f.tax_rate_bp,
                "valid_from": f.valid_from.isoformat(),
            }
            for f in fees(ctx, agent)
        ],
    }


def fees_by_agent(ctx: Context) -> dict[int, list[AgentFee]]:
    """Every agent's fee rows (newest valid-from first), in one query (for the admin list)."""
    out: dict[int, list[AgentFee]] = {}
    order = (col(AgentFee.agent_id), col(AgentFee.valid_from).desc(), col(AgentFee.id))
    stmt = select(AgentFee).order_by(*order)
    for row in ctx.session.exec(stmt):
        out.setdefault(row.agent_id, []).append(row)
    return out


def client_counts(ctx: Context) -> dict[int, int]:
    """How many unrevoked API clients each agent has."""
    from gateway.models import ApiClient

    stmt = (
        sa.select(col(ApiClient.agent_id), sa.func.count())
        .where(col(ApiClient.revoked_at).is_(None), col(ApiClient.agent_id).is_not(None))
        .group_by(col(ApiClient.agent_id))
    )
    return {int(agent_id): int(n) for agent_id, n in ctx.session.execute(stmt)}
