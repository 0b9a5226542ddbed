"""Small builders shared by tests (synthetic data only)."""

from __future__ import annotations

import datetime
import types
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from adapters import fixed120
from adapters import zengin_transfer
from adapters._zengin import Group
from adapters.records import BankRecord
from gateway.access import agents as agent_service
from gateway.context import Context
from gateway.issuing import claims as claim_service

PRIVACY_WORDS = ("生活保護", "保護費", "保護", "福祉", "扶助", "徴収金", "不正", "第63条", "第78条", "ケース")


def claim_input(number: str = "T-0001", **overrides: Any) -> claim_service.ClaimInput:
    values: dict[str, Any] = {
        "number": number,
        "legal_basis": "art63",
        "amount": 12_000,
        "fiscal_year": 2026,
        "debtor_ref": f"REF-{number}",
        "debtor_name": "見本 花子",
        "debtor_kana": "ミホン ハナコ",
        "postal_code": "999-0001",
        "debtor_address": "見本県見本市中央1丁目2番3号",
        "decided_on": datetime.date(2026, 11, 1),
        "assessment_number": "2026-0001",
        "assessment_date": datetime.date(2026, 11, 1),
        "revenue_item": "返還金",
    }
    values.update(overrides)
    return claim_service.ClaimInput(**values)


def make_claim(ctx: Context, number: str = "T-0001", **overrides: Any):  # type: ignore[no-untyped-def]
    return claim_service.create_claim(ctx, claim_input(number, **overrides))


def check_digit(body43: str) -> str:
    """Independent re-statement of the spec's rule (mod 10, weights 3/1 from the right, AI included)."""
    total = 0
    for position, char in enumerate(reversed(body43)):
        total += int(char) * (3 if position % 2 == 0 else 1)
    return str((10 - total % 10) % 10)


def expected_barcode(
    serial: int, instalment: int, reissue: int, expiry: str, amount: int, fy: str = "26"
) -> str:
    body = f"9191234500123{fy}{serial:09d}{instalment:03d}00{reissue}{expiry}0{amount:06d}"
    return body + check_digit(body)


def bank_credit(
    inquiry: str,
    value_date: datetime.date,
    amount: int,
    remitter: str,
    *,
    bank_code: str = "0001",
    cancelled: bool = False,
) -> BankRecord:
    """A credit to the office's synthetic account (branch 001, account 1234567), as a bank file carries it."""
    return BankRecord(
        line_no=0,
        format="transfer",
        bank_code=bank_code,
        branch_code="001",
        account_type="1",
        account_number="1234567",
        value_date=value_date,
        inquiry_number=inquiry,
        amount=amount,
        remitter_code="",
        remitter_name=remitter,
        direction="credit",
        cancelled=cancelled,
        transaction_type=None,
    )


def write_bank_file(
    path: Path,
    records: Sequence[BankRecord],
    *,
    created_on: datetime.date,
    bank_code: str = "0001",
    account_name: str = "ﾐﾎﾝｼｶｲｹｲｶﾝﾘｼｬ",
    writer: ModuleType = zengin_transfer,
) -> Path:
    """``records`` as one group of a zengin file (a transfer notice unless ``writer`` says otherwise)."""
    dates = [r.value_date for r in records]
    group = Group(
        created_on=created_on,
        value_date_from=min(dates),
        value_date_to=max(dates),
        bank_code=bank_code,
        bank_name="ﾐﾎﾝｷﾞﾝｺｳ",
        branch_code="001",
        branch_name="ﾎﾝﾃﾝ",
        account_type="1",
        account_number="1234567",
        account_name=account_name,
        records=tuple(records),
    )
    with path.open("wb") as fh:
        writer.write(fh, [group])
    return path


def add_fixed120_agent(ctx: Context) -> Any:
    """Agent 12345 (consignor 00123) delivering fixed120 files of channel 0020."""
    return agent_service.add_agent(
        ctx,
        agent_service.AgentInput(
            code="12345",
            name="見本収納代行",
            channels=("0020",),
            adapters=("fixed120",),
            remitter_name="ﾐﾎﾝｼｭｳﾉｳ",
        ),
    )


def fixed120_record(
    kind_code: str,
    barcode: str,
    paid_at: datetime.datetime,
    *,
    channel: str = "0020",
    store: str = "0001234",
    transfer: datetime.date | None = None,
) -> types.SimpleNamespace:
    """A record as ``fixed120.write`` takes it (kind ``01`` preliminary, ``02`` confirmed on ``transfer``)."""
    return types.SimpleNamespace(
        kind_code=kind_code,
        barcode=barcode,
        paid_at=paid_at,
        channel_code=channel,
        store_code=store,
        transfer_date=transfer,
        accounting_date=transfer,
        capture_date=paid_at.date(),
    )


def write_fixed120(
    path: Path, records: Sequence[Any], *, created_on: datetime.date, agent_code: str = "12345"
) -> Path:
    """``records`` as a fixed120 file of agent ``agent_code`` (consignor 00123) at ``path``."""
    with path.open("wb") as fh:
        fixed120.write(
            fh,
            created_on=created_on,
            agent_code=agent_code,
            consignor_code="00123",
            consignor_name="ﾐﾎﾝｼ",
            records=list(records),
        )
    return path
