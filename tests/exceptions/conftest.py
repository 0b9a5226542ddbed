"""Builders for the exceptions tests: real exceptions made the way production makes them (agent files
written with the adapters' writers → ingest → reconcile), with a clock that moves between steps.

Synthetic data only: the agent, the bank and the debtors are invented.
"""

from __future__ import annotations

import datetime
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from adapters import fixed120
from barcodes import cvs
from gateway.access import agents as agent_service
from gateway.context import Actor
from gateway.context import Context
from gateway.intake import ingest
from gateway.issuing import overview
from gateway.issuing import slips as slip_service
from gateway.models import Slip
from gateway.money import reconcile
from tests.conftest import Clock
from tests.helpers import bank_credit
from tests.helpers import make_claim
from tests.helpers import write_bank_file

JST = datetime.timezone(datetime.timedelta(hours=9))
REMITTER = "ﾐﾎﾝｼｭｳﾉｳﾀﾞｲｺｳ"
FINANCE = Actor(kind="user", name="fin-sato", role="finance")
FINANCE_2 = Actor(kind="user", name="fin-ito", role="finance")
APPROVER = Actor(kind="user", name="appr-kato", role="approver")
APPROVER_2 = Actor(kind="user", name="appr-mori", role="approver")
ACCOUNTING = Actor(kind="user", name="acc-abe", role="accounting")


def at(text: str) -> datetime.datetime:
    """A Japan time from ``YYYY-MM-DD[THH:MM]``."""
    value = datetime.datetime.fromisoformat(text if "T" in text else text + "T10:00")
    return value.replace(tzinfo=JST)


def day(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


class World:
    """One office with agent 12345 (gross remittance, Lawson enabled) and helpers to make exceptions."""

    def __init__(self, ctx: Context, clock: Clock, tmp: Path, make_ctx: Callable[[Actor], Context]) -> None:
        self.ctx, self.clock, self.tmp, self.make_ctx = ctx, clock, tmp, make_ctx
        self.files = 0
        self.contexts: dict[str, Context] = {}
        clock.set(at("2026-11-02"))
        agent_service.add_agent(
            ctx,
            agent_service.AgentInput(
                code="12345",
                name="見本収納代行",
                adapters=("fixed120",),
                channels=("0020",),
                remitter_name=REMITTER,
            ),
        )

    # -- time and people ------------------------------------------------------------------------------
    def tick(self) -> None:
        """Move the clock on: every change happens at its own instant, as in production."""
        self.clock.advance(minutes=1)

    def at(self, when: str) -> None:
        self.clock.set(at(when))

    def as_(self, actor: Actor) -> Context:
        """A context acting as ``actor`` (reused per actor); its reads see the latest commits."""
        key = f"{actor.label}/{actor.role}"
        c = self.contexts.get(key)
        if c is None:
            c = self.contexts[key] = self.make_ctx(actor)
        fresh(c)
        self.tick()
        return c

    # -- claims and slips -----------------------------------------------------------------------------
    def claim(self, number: str, amount: int = 12_000, *, debtor: str | None = None, **changes: Any) -> None:
        values: dict[str, Any] = {"amount": amount, "debtor_ref": debtor or f"REF-{number}"}
        values.update(changes)
        make_claim(self.ctx, number, **values)

    def slip(self, number: str, due: str = "2026-11-30") -> Slip:
        (slip,) = slip_service.issue_slips(self.ctx, number, slip_service.Plan(first_due_date=day(due)))
        return slip

    # -- agent data -----------------------------------------------------------------------------------
    @staticmethod
    def barcode(slip: Slip | None = None, *, amount: int | None = None, serial: int = 999_999) -> str:
        """The slip's barcode (optionally with another amount), or one for a slip this office never
        issued."""
        if slip is not None:
            parsed = cvs.parse(slip.barcode)
            return cvs.compose(
                issuer_prefix=parsed.issuer_prefix,
                consignor_code=parsed.consignor_code,
                payment_number=parsed.payment_number,
                reissue_count=parsed.reissue_count,
                expiry=parsed.expiry,
                amount=amount if amount is not None else parsed.amount,
            )
        return cvs.compose(
            issuer_prefix="912345",
            consignor_code="00123",
            payment_number=cvs.compose_payment_number(2026, serial, 1),
            reissue_count=0,
            expiry=day("2027-01-31"),
            amount=amount if amount is not None else 12_000,
        )

    @staticmethod
    def rec(
        kind_code: str,
        barcode: str,
        paid: str = "2026-11-10T14:32",
        *,
        store: str = "0001234",
        transfer: str | None = None,
    ) -> types.SimpleNamespace:
        paid_at = at(paid)
        transfer_date = day(transfer) if transfer else None
        if kind_code == "02" and transfer_date is None:
            transfer_date = day("2026-11-20")
        return types.SimpleNamespace(
            kind_code=kind_code,
            barcode=barcode,
            paid_at=paid_at,
            channel_code="0020",
            store_code=store,
            transfer_date=transfer_date,
            accounting_date=transfer_date,
            capture_date=paid_at.date(),
        )

    def ingest(self, *records: types.SimpleNamespace) -> None:
        self.files += 1
        path = self.tmp / f"agent-{self.files}.txt"
        with path.open("wb") as fh:
            fixed120.write(
                fh,
                created_on=self.ctx.today(),
                agent_code="12345",
                consignor_code="00123",
                consignor_name="ﾐﾎﾝｼ",
                records=list(records),
            )
        result = ingest.ingest_file(self.ctx, path)
        assert result.status == "accepted", result.as_json()

    def bank(self, value_date: str, *amounts: int) -> None:
        """A transfer notice with one credit per amount from the agent, on ``value_date``."""
        self.files += 1
        path = self.tmp / f"bank-{self.files}.txt"
        when = day(value_date)
        credits = [
            bank_credit(f"{self.files:03d}{i:03d}", when, amount, REMITTER, bank_code="9999")
            for i, amount in enumerate(amounts, start=1)
        ]
        write_bank_file(
            path, credits, created_on=self.ctx.today(), bank_code="9999", account_name="ﾐﾎﾝｼ ｶｲｹｲｶﾝﾘｼｬ"
        )
        result = ingest.ingest_file(self.ctx, path)
        assert result.status == "accepted", result.as_json()

    def reconcile(self, when: str = "2026-11-27") -> dict[str, Any]:
        self.clock.set(at(when))
        fresh(self.ctx)
        result = reconcile.run(self.ctx).as_json()
        self.tick()
        return result

    # -- reading --------------------------------------------------------------------------------------
    def exceptions(self, kind: str | None = None) -> list[dict[str, Any]]:
        fresh(self.ctx)
        sql = "SELECT id, kind, status, amount FROM recon_exceptions"
        rows = self.ctx.session.execute(
            sa.text(sql + (" WHERE kind = :k" if kind else "") + " ORDER BY id"), {"k": kind}
        ).all()
        return [{"id": r[0], "kind": r[1], "status": r[2], "amount": r[3]} for r in rows]

    def one(self, kind: str) -> int:
        rows = [e for e in self.exceptions(kind) if e["status"] != "resolved"]
        assert len(rows) == 1, (kind, self.exceptions())
        return int(rows[0]["id"])

    def exc(self, exception_id: int) -> dict[str, Any]:
        """The exception as JSON, with its history, as the database holds it now."""
        from gateway.casework import exceptions as svc

        fresh(self.ctx)
        return svc.exception_json(self.ctx, svc.get(self.ctx, exception_id), with_history=True)

    def claim_doc(self, number: str) -> dict[str, Any]:
        fresh(self.ctx)
        return overview.show_claim(self.ctx, number, with_debtor=False)

    def payments(self, claim_number: str | None = None) -> list[dict[str, Any]]:
        fresh(self.ctx)
        rows = self.ctx.session.execute(
            sa.text(
                "SELECT p.id, c.number, p.source, p.state, p.amount, p.receipt_date, p.fiscal_year, "
                "p.exception_id FROM payments p JOIN claims c ON c.id = p.claim_id "
                + ("WHERE c.number = :n " if claim_number else "")
                + "ORDER BY p.id"
            ),
            {"n": claim_number},
        ).all()
        return [
            {
                "id": r[0],
                "claim": r[1],
                "source": r[2],
                "state": r[3],
                "amount": r[4],
                "receipt_date": str(r[5]) if r[5] else None,
                "fiscal_year": r[6],
                "exception_id": r[7],
            }
            for r in rows
        ]

    def entries(self) -> list[tuple[Any, ...]]:
        """Every accounting entry as (id, payment, claim number, receipt date, amount, reverses)."""
        fresh(self.ctx)
        return [
            (r[0], r[1], r[2], str(r[3]), r[4], r[5])
            for r in self.ctx.session.execute(
                sa.text(
                    "SELECT a.id, a.payment_id, c.number, a.receipt_date, a.amount, a.reverses_id "
                    "FROM accounting_entries a JOIN claims c ON c.id = a.claim_id ORDER BY a.id"
                )
            ).all()
        ]

    def slip_status(self, slip: Slip) -> str:
        fresh(self.ctx)
        return str(
            self.ctx.session.execute(
                sa.text("SELECT status FROM slips WHERE id = :i"), {"i": slip.id}
            ).scalar_one()
        )


def fresh(c: Context) -> None:
    """End the context's read transaction and forget cached rows, so it sees other contexts' commits."""
    c.session.commit()
    c.session.expire_all()


@pytest.fixture
def world(ctx: Context, clock: Clock, tmp_path: Path, ctx_as: Callable[[Actor], Context]) -> World:
    return World(ctx, clock, tmp_path, ctx_as)


@pytest.fixture
def unknown(world: World) -> int:
    """An open unknown_slip exception: a confirmed 12,000 yen record for a slip this office never issued
    (transfer date 2026-11-20), and claim C1 (12,000 yen, no slip) to match it to."""
    world.claim("C1")
    world.at("2026-11-21")
    world.ingest(world.rec("02", world.barcode()))
    world.reconcile()
    return world.one("unknown_slip")


@pytest.fixture
def paid_twice(world: World) -> dict[str, Any]:
    """Claim C1's only slip paid twice (two stores): a duplicate_payment and a 12,000 yen overpayment."""
    world.claim("C1")
    slip = world.slip("C1")
    world.at("2026-11-21")
    world.ingest(
        world.rec("02", slip.barcode, "2026-11-10T09:00", store="0001111"),
        world.rec("02", slip.barcode, "2026-11-11T18:00", store="0002222"),
    )
    world.reconcile()
    return {
        "slip": slip,
        "duplicate": world.one("duplicate_payment"),
        "overpayment": world.one("overpayment"),
    }
