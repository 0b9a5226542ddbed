"""Golden reconciliation cases: ``tests/data/reconciliation/<case>/case.json`` beside ``expected.json``.

A case describes agents, claims with their slips, and steps run in order with a pinned clock: agent files
(written with the adapters' own writers from the records listed, so the whole path file → adapter → ingest →
reconcile runs), bank files, reconciliation runs (with the counts each must report), staff actions (void,
reissue, manual receipts, claim adjustments). ``expected.json`` holds the end state, written by hand from the
spec. After the last step every case is re-run: reconciling again and re-ingesting every file must change
nothing.

Slip references: ``"C1/2"`` is claim C1's instalment 2 as issued now (its newest reissue); ``"C1/2-0"`` names
the reissue count. A record's barcode is the slip's unless ``barcode`` (raw digits) or ``barcode_amount`` /
``barcode_expiry`` / ``barcode_reissue`` (a barcode built with other fields) say otherwise.
"""

from __future__ import annotations

import datetime
import json
import types
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from adapters import dsk_csv
from adapters import fixed120
from adapters import zengin_statement
from adapters import zengin_transfer
from barcodes import cvs
from gateway.access import agents as agent_service
from gateway.casework import payments
from gateway.intake import ingest
from gateway.issuing import claims as claim_service
from gateway.issuing import overview
from gateway.issuing import slips as slip_service
from gateway.money import reconcile
from tests.helpers import bank_credit
from tests.helpers import claim_input
from tests.helpers import write_bank_file

CASES = Path(__file__).parent.parent / "data" / "reconciliation"
JST = datetime.timezone(datetime.timedelta(hours=9))


def _dt(text: str) -> datetime.datetime:
    value = datetime.datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=JST)


def _d(text: str | None) -> datetime.date | None:
    return datetime.date.fromisoformat(text) if text else None


class Runner:
    def __init__(self, ctx, clock, tmp: Path) -> None:  # type: ignore[no-untyped-def]
        self.ctx, self.clock, self.tmp = ctx, clock, tmp
        self.files: list[tuple[Path, str | None]] = []
        self.last_as_of: datetime.date | None = None

    # -- references ---------------------------------------------------------------------------------
    def slip(self, ref: str):  # type: ignore[no-untyped-def]
        claim_number, _, rest = ref.partition("/")
        instalment, _, reissue = rest.partition("-")
        claim = claim_service.get_claim(self.ctx, claim_number)
        query = sa.text(
            "SELECT payment_number, reissue_count FROM slips WHERE claim_id = :c AND instalment = :i "
            + ("AND reissue_count = :r" if reissue else "ORDER BY reissue_count DESC LIMIT 1")
        )
        params: dict[str, Any] = {"c": claim.id, "i": int(instalment)}
        if reissue:
            params["r"] = int(reissue)
        number, count = self.ctx.session.execute(query, params).one()
        return slip_service.get_slip(self.ctx, f"{number}-{count}")

    def barcode(self, spec: dict[str, Any]) -> str:
        if "barcode" in spec:
            return spec["barcode"]
        slip = self.slip(spec["slip"])
        parsed = cvs.parse(slip.barcode)
        return cvs.compose(
            issuer_prefix=parsed.issuer_prefix,
            consignor_code=parsed.consignor_code,
            payment_number=parsed.payment_number,
            reissue_count=spec.get("barcode_reissue", parsed.reissue_count),
            expiry=None
            if spec.get("barcode_expiry") == "999999"
            else _d(spec.get("barcode_expiry")) or parsed.expiry,
            amount=spec.get("barcode_amount", parsed.amount),
            stamp_flag=parsed.stamp_flag,
        )

    # -- setup ----------------------------------------------------------------------------------------
    def agents(self, agents: list[dict[str, Any]]) -> None:
        for a in agents:
            fees = a.get("fees", [])
            first = fees[0] if fees else {}
            agent_service.add_agent(
                self.ctx,
                agent_service.AgentInput(
                    code=a["code"],
                    name=a.get("name", "見本収納代行"),
                    adapters=tuple(a.get("adapters", ("fixed120", "dsk_csv"))),
                    channels=tuple(a.get("channels", ("0010", "0020", "0030", "0820", "0910", "0911"))),
                    remittance_mode=a.get("remittance", "gross"),
                    remitter_name=a.get("remitter_name"),
                    fee_per_item=first.get("fee_per_item"),
                    tax_rate=first.get("tax_rate"),
                    fee_valid_from=_d(first.get("valid_from")),
                    fee_channel=first.get("channel"),
                ),
            )
            for fee in fees[1:]:
                agent_service.add_fee(
                    self.ctx,
                    a["code"],
                    fee_per_item=fee["fee_per_item"],
                    tax_rate=fee["tax_rate"],
                    valid_from=_d(fee["valid_from"]),
                    channel=fee.get("channel"),
                )

    def claims(self, claims: list[dict[str, Any]]) -> None:
        for c in claims:
            fields = {k: v for k, v in c.items() if k not in ("slips",)}
            for key in ("decided_on", "assessment_date"):
                if key in fields:
                    fields[key] = _d(fields[key])
            claim_service.create_claim(self.ctx, claim_input(**fields))
            plan = c.get("slips")
            if plan is not None:
                self.issue(c["number"], plan)

    def issue(self, number: str, plan: dict[str, Any]) -> None:
        slip_service.issue_slips(
            self.ctx,
            number,
            slip_service.Plan(
                instalments=plan.get("instalments"),
                monthly_amount=plan.get("monthly_amount"),
                same_due_date=plan.get("same_due_date", False),
                first_due_date=_d(plan.get("first_due_date")),
            ),
        )

    # -- steps ----------------------------------------------------------------------------------------
    def step(self, step: dict[str, Any]) -> None:
        if "at" in step:
            self.clock.set(_dt(step["at"]))
        getattr(self, "do_" + step["do"])(step)

    def _record(self, r: dict[str, Any]) -> Any:
        paid_at = _dt(r["paid_at"])
        return types.SimpleNamespace(
            kind_code=r["kind"],
            barcode=self.barcode(r),
            paid_at=paid_at,
            channel_code=r.get("channel", "0020"),
            store_code=r.get("store", "0001234"),
            transfer_date=_d(r.get("transfer_date")),
            accounting_date=_d(r.get("transfer_date")),
            capture_date=paid_at.date(),
            amount=r.get("amount"),
        )

    def do_ingest(self, step: dict[str, Any]) -> None:
        name = step.get("file", f"agent-{len(self.files) + 1}.dat")
        path = self.tmp / name
        records = [self._record(r) for r in step["records"]]
        with path.open("wb") as fh:
            if step.get("format", "fixed120") == "fixed120":
                fixed120.write(
                    fh,
                    created_on=self.ctx.today(),
                    agent_code=step.get("agent", "12345"),
                    consignor_code="00123",
                    consignor_name="ﾐﾎﾝｼ",
                    records=records,
                )
            else:
                for rec in records:
                    if rec.amount is None:
                        del rec.amount
                dsk_csv.write(fh, records)
        self._ingest(path, step.get("agent") if step.get("format") == "dsk_csv" else None)

    def _ingest(self, path: Path, agent: str | None) -> None:
        result = ingest.ingest_file(self.ctx, path, agent_code=agent)
        assert result.status == "accepted", result.as_json()
        self.files.append((path, agent))

    def do_bank(self, step: dict[str, Any]) -> None:
        path = self.tmp / step.get("file", f"bank-{len(self.files) + 1}.dat")
        records = [
            bank_credit(
                c.get("inquiry", f"{i:06d}"),
                _d(c["value_date"]),  # type: ignore[arg-type]
                c["amount"],
                c["remitter"],
                bank_code="9999",
                cancelled=c.get("cancelled", False),
            )
            for i, c in enumerate(step["credits"], start=1)
        ]
        write_bank_file(
            path,
            records,
            created_on=self.ctx.today(),
            bank_code="9999",
            account_name="ﾐﾎﾝｼ ｶｲｹｲｶﾝﾘｼｬ",
            writer=zengin_statement if step.get("format") == "zengin_statement" else zengin_transfer,
        )
        self._ingest(path, None)

    def do_reconcile(self, step: dict[str, Any]) -> None:
        self.last_as_of = _d(step.get("as_of"))
        result = reconcile.run(self.ctx, self.last_as_of).as_json()
        for key, value in step.get("expect", {}).items():
            assert result[key] == value, (key, result)

    def do_void(self, step: dict[str, Any]) -> None:
        slip_service.void_slip(self.ctx, self.slip(step["slip"]).slip_number, step.get("reason", "test"))

    def do_reissue(self, step: dict[str, Any]) -> None:
        slip_service.reissue_slip(self.ctx, self.slip(step["slip"]).slip_number, _d(step.get("due_date")))

    def do_issue(self, step: dict[str, Any]) -> None:
        self.issue(step["claim"], step.get("plan", {}))

    def do_adjust(self, step: dict[str, Any]) -> None:
        claim_service.adjust_claim(self.ctx, step["claim"], step["amount"], step.get("reason", "test"))

    def do_record_payment(self, step: dict[str, Any]) -> None:
        payments.record_payment(
            self.ctx,
            self.slip(step["slip"]).slip_number,
            step["amount"],
            _d(step["paid_on"]),
            step["channel"],
            step.get("reason", "counter receipt"),
        )  # type: ignore[arg-type]

    # -- state ------------------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        q = self.ctx.session.execute
        slip_ref = {}
        for sid, number, inst, reissue in q(
            sa.text(
                "SELECT s.id, c.number, s.instalment, s.reissue_count FROM slips s "
                "JOIN claims c ON c.id = s.claim_id ORDER BY s.id"
            )
        ):
            slip_ref[sid] = f"{number}/{inst}-{reissue}"
        claims = {}
        for (number,) in q(sa.text("SELECT number FROM claims ORDER BY number")):
            doc = overview.show_claim(self.ctx, number, with_debtor=False)
            claims[number] = {
                k: doc[k]
                for k in ("status", "amount", "paid_amount", "pending_amount", "balance", "refund_due_amount")
            }
        slips = {
            slip_ref[sid]: status for sid, status in q(sa.text("SELECT id, status FROM slips ORDER BY id"))
        }
        payments = []
        for row in q(
            sa.text(
                "SELECT p.slip_id, c.number, p.state, p.amount, p.late, p.paid_date, p.receipt_date, "
                "p.fiscal_year, "
                "p.arrears, p.source FROM payments p JOIN claims c ON c.id = p.claim_id ORDER BY p.id"
            )
        ):
            payments.append(
                {
                    "slip": slip_ref.get(row[0]),
                    "claim": row[1],
                    "state": row[2],
                    "amount": row[3],
                    "late": bool(row[4]),
                    "paid_date": str(row[5]),
                    "receipt_date": str(row[6]) if row[6] else None,
                    "fiscal_year": row[7],
                    "arrears": None if row[8] is None else bool(row[8]),
                    "source": row[9],
                }
            )
        exceptions = []
        for row in q(
            sa.text(
                "SELECT e.kind, e.status, e.slip_id, c.number, e.amount FROM recon_exceptions e "
                "LEFT JOIN claims c ON c.id = e.claim_id ORDER BY e.kind, e.id"
            )
        ):
            exceptions.append(
                {
                    "kind": row[0],
                    "status": row[1],
                    "slip": slip_ref.get(row[2]),
                    "claim": row[3],
                    "amount": row[4],
                }
            )
        remittances = []
        for row in q(
            sa.text(
                "SELECT a.code, r.transfer_date, r.records, r.gross, r.fees, r.fee_tax, r.expected, "
                "r.credited, r.status FROM remittances r JOIN agents a ON a.id = r.agent_id "
                "ORDER BY a.code, r.transfer_date"
            )
        ):
            remittances.append(
                {
                    "agent": row[0],
                    "transfer_date": str(row[1]),
                    "records": row[2],
                    "gross": row[3],
                    "fees": row[4],
                    "fee_tax": row[5],
                    "expected": row[6],
                    "credited": row[7],
                    "status": row[8],
                }
            )
        entries = [
            {
                "claim": row[0],
                "receipt_date": str(row[1]),
                "fiscal_year": row[2],
                "arrears": bool(row[3]),
                "amount": row[4],
            }
            for row in q(
                sa.text(
                    "SELECT c.number, e.receipt_date, e.fiscal_year, e.arrears, e.amount "
                    "FROM accounting_entries e "
                    "JOIN claims c ON c.id = e.claim_id ORDER BY e.id"
                )
            )
        ]
        return {
            "claims": claims,
            "slips": slips,
            "payments": payments,
            "exceptions": exceptions,
            "remittances": remittances,
            "accounting_entries": entries,
        }


def _cases() -> list[str]:
    return sorted(p.name for p in CASES.iterdir() if (p / "case.json").exists())


@pytest.mark.parametrize("name", _cases())
def test_case(name, ctx, clock, tmp_path):
    case = json.loads((CASES / name / "case.json").read_text())
    expected = json.loads((CASES / name / "expected.json").read_text())
    runner = Runner(ctx, clock, tmp_path)
    clock.set(_dt(case.get("start", "2026-11-27T10:00")))
    runner.agents(case.get("agents", [{"code": "12345", "remitter_name": "ﾐﾎﾝｼｭｳﾉｳﾀﾞｲｺｳ"}]))
    runner.claims(case["claims"])
    for step in case["steps"]:
        runner.step(step)
    state = runner.state()
    for section, value in expected.items():
        assert state[section] == value, (
            f"{name}: {section}\n{json.dumps(state[section], ensure_ascii=False, indent=1)}"
        )
    # Deterministic and rerunnable: a second run, re-ingested files and a third run change nothing.
    again = reconcile.run(ctx, runner.last_as_of).as_json()
    assert again["matched"] == again["confirmed"] == again["cancelled"] == again["exceptions_opened"] == 0, (
        again
    )
    for path, agent in runner.files:
        assert ingest.ingest_file(ctx, path, agent_code=agent).status == "duplicate_file"
    reconcile.run(ctx, runner.last_as_of)
    assert runner.state() == state


def test_the_cases_cover_every_exception_kind():
    from reconciliation.rules import KINDS

    seen = set()
    for name in _cases():
        expected = json.loads((CASES / name / "expected.json").read_text())
        seen |= {e["kind"] for e in expected.get("exceptions", [])}
    assert seen == set(KINDS)
