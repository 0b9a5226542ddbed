"""The one place personal data is written and read.

Writes encrypt every debtor field with the ``pii`` key. Reads go through :func:`read_debtors`: it decrypts,
masks what the actor's role may not see, and records one ``pii.view`` audit event naming the debtors, the
fields revealed and the purpose. Nothing else in the code base decrypts a debtor.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlmodel import col
from sqlmodel import select

from gateway.context import Context
from gateway.models import Debtor
from gateway.models.base import table_of
from gateway.models.base import utcnow

FIELDS = ("ref", "name", "kana", "postal_code", "address")

#: What each role sees in clear. Others get a mask; an agent client never reaches this module.
VISIBLE: dict[str, frozenset[str]] = {
    "finance": frozenset(FIELDS),
    "approver": frozenset(FIELDS),
    "print_vendor": frozenset({"name", "postal_code", "address"}),
    "accounting": frozenset({"ref"}),
    "auditor": frozenset({"ref"}),
    "admin": frozenset(),
}


@dataclass(frozen=True)
class DebtorData:
    """Plain debtor fields, as entered."""

    ref: str
    name: str
    kana: str | None = None
    postal_code: str | None = None
    address: str | None = None


@dataclass(frozen=True)
class DebtorView:
    """Debtor fields as this actor may see them (masked fields are ``"***"``; empty stays ``None``)."""

    id: int
    ref: str | None
    name: str | None
    kana: str | None
    postal_code: str | None
    address: str | None
    masked: tuple[str, ...]


def _field(name: str) -> str:
    return f"debtor.{name}"


def ref_index(ctx: Context, ref: str) -> str:
    return ctx.keys.blind_index(ref, "debtor.ref")


def encrypt_debtor(ctx: Context, data: DebtorData, debtor: Debtor | None = None) -> Debtor:
    """Fill (or update) a Debtor row from plain fields."""
    keys = ctx.keys
    row = debtor or Debtor(ref_index=ref_index(ctx, data.ref), enc_ref="", enc_name="")
    row.enc_ref = keys.encrypt_field(data.ref, _field("ref")) or ""
    row.enc_name = keys.encrypt_field(data.name, _field("name")) or ""
    row.enc_kana = keys.encrypt_field(data.kana, _field("kana"))
    row.enc_postal_code = keys.encrypt_field(data.postal_code, _field("postal_code"))
    row.enc_address = keys.encrypt_field(data.address, _field("address"))
    row.updated_at = utcnow()
    return row


def _visible(ctx: Context) -> frozenset[str]:
    if ctx.actor.is_operator:
        return frozenset(FIELDS)
    return VISIBLE.get(ctx.actor.role or "", frozenset())


def read_debtors(
    ctx: Context, debtor_ids: Iterable[int], *, purpose: str, fields: Iterable[str] = FIELDS
) -> dict[int, DebtorView]:
    """Decrypt the requested fields the actor may see, mask the rest, and log the view.

    Args:
        purpose: why the data is read (``claim.show``, ``print_batch`` …); stored in the audit event.
        fields: the fields the caller needs; fields not asked for are not decrypted at all.
    """
    ids = sorted(set(debtor_ids))
    if not ids:
        return {}
    wanted = set(fields)
    visible = _visible(ctx) & wanted
    rows = ctx.session.exec(select(Debtor).where(Debtor.id.in_(ids))).all()  # type: ignore[union-attr]
    views: dict[int, DebtorView] = {}
    for row in rows:
        values: dict[str, str | None] = {}
        for name in FIELDS:
            token = getattr(row, f"enc_{name}")
            if name not in wanted or token is None:
                values[name] = None
            elif name in visible:
                values[name] = ctx.keys.decrypt_field(token, _field(name))
            else:
                values[name] = "***"
        assert row.id is not None
        masked = tuple(sorted(wanted - visible))
        views[row.id] = DebtorView(id=row.id, masked=masked, **values)
    if visible:
        ctx.record(
            "pii.view",
            "debtor",
            ids[0] if len(ids) == 1 else None,
            purpose=purpose,
            debtor_ids=ids if len(ids) <= 1000 else f"{len(ids)} debtors",
            fields=sorted(visible),
        )
    return views


def upsert_debtor(ctx: Context, data: DebtorData) -> tuple[Debtor, str]:
    """Find the debtor by reference (blind index) and bring its fields up to date.

    Returns the row and ``"created"``, ``"updated"`` or ``"unchanged"``. Comparing needs the stored values;
    that is a machine comparison, not a view, so no ``pii.view`` event is written (the change is audited by
    the caller's mutation).
    """
    index = ref_index(ctx, data.ref)
    row = ctx.session.exec(select(Debtor).where(Debtor.ref_index == index)).first()
    if row is None:
        row = encrypt_debtor(ctx, data)
        ctx.session.add(row)
        ctx.session.flush()
        return row, "created"
    current = DebtorData(
        ref=data.ref,
        name=ctx.keys.decrypt_field(row.enc_name, _field("name")) or "",
        kana=ctx.keys.decrypt_field(row.enc_kana, _field("kana")),
        postal_code=ctx.keys.decrypt_field(row.enc_postal_code, _field("postal_code")),
        address=ctx.keys.decrypt_field(row.enc_address, _field("address")),
    )
    if current == data:
        return row, "unchanged"
    encrypt_debtor(ctx, data, row)
    ctx.session.add(row)
    ctx.session.flush()
    return row, "updated"


def upsert_debtors(ctx: Context, debtors: list[DebtorData]) -> dict[str, tuple[int, str]]:
    """Bulk :func:`upsert_debtor` for imports: ``{ref: (debtor id, "created"|"updated"|"unchanged")}``.

    New debtors are inserted with one executemany; a reference given twice keeps its last data.
    """
    import sqlalchemy as sa

    latest: dict[str, DebtorData] = {}
    for data in debtors:
        latest[data.ref] = data
    index = {ref: ref_index(ctx, ref) for ref in latest}
    existing: dict[str, Debtor] = {}
    values = list(index.values())
    for start in range(0, len(values), 500):
        for row in ctx.session.exec(
            select(Debtor).where(col(Debtor.ref_index).in_(values[start : start + 500]))
        ):
            existing[row.ref_index] = row
    out: dict[str, tuple[int, str]] = {}
    new_rows: list[dict[str, Any]] = []
    now = utcnow()
    for ref, data in latest.items():
        current = existing.get(index[ref])
        if current is None:
            enc = encrypt_debtor(ctx, data)
            new_rows.append(
                {
                    "ref_index": enc.ref_index,
                    "enc_ref": enc.enc_ref,
                    "enc_name": enc.enc_name,
                    "enc_kana": enc.enc_kana,
                    "enc_postal_code": enc.enc_postal_code,
                    "enc_address": enc.enc_address,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            continue
        _, change = upsert_debtor(ctx, data)
        assert current.id is not None
        out[ref] = (current.id, change)
    if new_rows:
        ctx.session.execute(sa.insert(table_of(Debtor)), new_rows)
        created = {r["ref_index"] for r in new_rows}
        ids: dict[str, int] = {}
        created_list = list(created)
        for start in range(0, len(created_list), 500):
            chunk = created_list[start : start + 500]
            ids.update(
                ctx.session.execute(
                    sa.select(col(Debtor.ref_index), col(Debtor.id)).where(col(Debtor.ref_index).in_(chunk))
                ).all()
            )
        for ref in latest:
            if index[ref] in created:
                out[ref] = (ids[index[ref]], "created")
    return out
