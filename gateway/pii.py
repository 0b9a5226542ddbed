"""The one place personal data is written and read.

Writes encrypt every debtor field with the ``pii`` key. Reads go through :func:`read_debtors`: it decrypts,
masks what the actor's role may not see, and records one ``pii.view`` audit event naming the debtors, the
fields revealed and the purpose. Nothing else in the code base decrypts a debtor.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import col
from sqlmodel import select

from gateway.context import Context
from gateway.models import Debtor
from gateway.models import DebtorNameIndex
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


def may_see(ctx: Context, name: str) -> bool:
    """Whether the actor's role sees the debtor field ``name`` in clear (pages hide columns otherwise)."""
    return name in _visible(ctx)


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
        assert row.id is not None
        write_name_index(ctx, {row.id: data})
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
    assert row.id is not None
    write_name_index(ctx, {row.id: data})
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
        write_name_index(ctx, {ids[index[ref]]: latest[ref] for ref in latest if index[ref] in created})
    return out


# -- the name blind index ---------------------------------------------------------------------------------
#
# Names are encrypted, so a clerk's 「見本 花子」 is found through keyed hashes instead of decrypting every
# row: for each debtor one HMAC per kind below, under a key derived from GATEWAY_DATA_KEY
# (Keyring.blind_index, one purpose per kind so equal hashes never link a name to a kana). Normalisation:
# NFKC (full-/half-width letters, digits and kana become one form), runs of spaces (also the ideographic
# space) become one, katakana become hiragana; blind_index then drops the spaces and upper-cases Latin
# letters. The family name is the part before the first space. The table holds no clear text; without the
# key the hashes say nothing.

#: The kinds of name hashes a debtor gets (only those it has a value for).
NAME_KINDS = ("name", "kana", "family", "kana_family")


def normalise_name(value: str) -> str:
    """NFKC, single spaces, katakana as hiragana.

    >>> normalise_name("ﾐﾎﾝ\u3000 ﾊﾅｺ"), normalise_name("見本　花子")
    ('みほん はなこ', '見本 花子')
    """
    text = " ".join(unicodedata.normalize("NFKC", value).split())
    return "".join(chr(ord(c) - 0x60) if "\u30a1" <= c <= "\u30f6" else c for c in text)


def _name_values(data: DebtorData) -> dict[str, str]:
    values: dict[str, str] = {}
    for kind, raw in (("name", data.name), ("kana", data.kana)):
        text = normalise_name(raw or "")
        if not text:
            continue
        values[kind] = text
        if " " in text:
            values["family" if kind == "name" else "kana_family"] = text.split(" ", 1)[0]
    return values


def name_hashes(ctx: Context, data: DebtorData) -> dict[str, str]:
    """The blind-index hashes of a debtor's names, by kind."""
    return {kind: ctx.keys.blind_index(text, f"debtor.{kind}") for kind, text in _name_values(data).items()}


def write_name_index(ctx: Context, debtors: Mapping[int, DebtorData]) -> None:
    """(Re)write the name index rows of these debtors (one DELETE and one executemany per 500)."""
    table = table_of(DebtorNameIndex)
    ids = list(debtors)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        ctx.session.execute(sa.delete(table).where(table.c.debtor_id.in_(chunk)))
        rows = [
            {"debtor_id": debtor_id, "kind": kind, "hmac": digest}
            for debtor_id in chunk
            for kind, digest in name_hashes(ctx, debtors[debtor_id]).items()
        ]
        if rows:
            ctx.session.execute(sa.insert(table), rows)


def debtors_without_name_index(ctx: Context, limit: int = 1000) -> list[int]:
    """Debtors that have no name index row yet (written before the index existed)."""
    table = table_of(DebtorNameIndex)
    missing = ~sa.exists().where(table.c.debtor_id == col(Debtor.id))
    return list(
        ctx.session.execute(sa.select(col(Debtor.id)).where(missing).order_by(col(Debtor.id)).limit(limit))
        .scalars()
        .all()
    )


def index_names_of(ctx: Context, debtor_ids: list[int]) -> int:
    """Build the name index of these debtors from their stored fields (a machine read, not a view)."""
    rows = ctx.session.exec(select(Debtor).where(col(Debtor.id).in_(debtor_ids))).all()
    data: dict[int, DebtorData] = {}
    for row in rows:
        assert row.id is not None
        data[row.id] = DebtorData(
            ref="",
            name=ctx.keys.decrypt_field(row.enc_name, _field("name")) or "",
            kana=ctx.keys.decrypt_field(row.enc_kana, _field("kana")),
        )
    write_name_index(ctx, data)
    return len(data)


def find_debtors_by_name(ctx: Context, term: str, *, purpose: str) -> sa.Select[tuple[int]] | None:
    """The debtors whose full name, kana or family name (of either) equals ``term`` after normalisation, as
    a subquery of debtor ids (a common family name may match thousands: they are never loaded).

    A name search is a read of personal data: one ``pii.search`` event records who searched, why, which
    kinds were compared, how many debtors matched and (up to 1,000) which — never the term itself. Roles
    that may not see names get None (and no search happens).
    """
    text = normalise_name(term)
    if not text or not may_see(ctx, "name"):
        return None
    table = table_of(DebtorNameIndex)
    digests = [ctx.keys.blind_index(text, f"debtor.{kind}") for kind in NAME_KINDS]
    matching = sa.select(table.c.debtor_id).where(table.c.hmac.in_(digests)).distinct()
    found = list(ctx.session.execute(matching.order_by(table.c.debtor_id).limit(1001)).scalars())
    if len(found) > 1000:
        count = ctx.session.execute(sa.select(sa.func.count()).select_from(matching.subquery())).scalar() or 0
    else:
        count = len(found)
    ctx.record(
        "pii.search",
        "debtor",
        found[0] if count == 1 else None,
        purpose=purpose,
        fields=["kana", "name"],
        matches=count,
        debtor_ids=found if count <= 1000 else f"{count} debtors",
    )
    return matching
