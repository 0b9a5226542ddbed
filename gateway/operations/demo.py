"""A synthetic demo: five weeks of an office's life, replayed on the real services.

Staff accounts, a collection agent, claims with obviously fictitious debtors (names built from 見本 / 試験,
postal codes 999-xxxx), slips and a mailed print batch; then, day by day, the agent's fixed120 files
(preliminary and confirmed records, a cancellation, a payment on a reissued slip's original, a barcode of
another office), the bank's transfer notices, a counter payment, and a reconciliation run each morning — so
the claims list, the exceptions queue and the daily report with its 30-day chart all have something to show.
No real person, address or claim is used.
"""

from __future__ import annotations

import datetime
import random
import secrets
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlmodel import select

from adapters import fixed120
from adapters import zengin_transfer
from adapters._zengin import Group
from adapters.records import BankRecord
from gateway import business_calendar as cal
from gateway.access import agents as agent_service
from gateway.access import users
from gateway.casework import payments
from gateway.context import Context
from gateway.errors import Conflict
from gateway.intake import ingest
from gateway.issuing import claims as claim_service
from gateway.issuing import printing
from gateway.issuing import slips as slip_service
from gateway.models import Claim
from gateway.models import User
from gateway.models.base import JST
from gateway.money import reconcile

SURNAMES = ("見本", "試験", "仮名", "例示", "架空")
GIVEN = ("一郎", "花子", "次郎", "桜", "太郎", "葵", "健", "陽菜")
KANA_SURNAMES = {"見本": "ミホン", "試験": "シケン", "仮名": "カメイ", "例示": "レイジ", "架空": "カクウ"}
KANA_GIVEN = {
    "一郎": "イチロウ",
    "花子": "ハナコ",
    "次郎": "ジロウ",
    "桜": "サクラ",
    "太郎": "タロウ",
    "葵": "アオイ",
    "健": "ケン",
    "陽菜": "ヒナ",
}
BASES = ("art63", "art63", "art63", "art78", "art77_2", "benefit_return")
STAFF = (
    ("demo-finance", "finance"),
    ("demo-approver", "approver"),
    ("demo-accounting", "accounting"),
    ("demo-auditor", "auditor"),
    ("demo-admin", "admin"),
    ("demo-print", "print_vendor"),
)
AGENT = "12345"
REMITTER = "ﾐﾎﾝｼｭｳﾉｳﾀﾞｲｺｳ"
CHANNELS = ("0010", "0020", "0030", "0820", "0780")
DAYS = 35


def _at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=JST)


class _Timeline:
    """Moves the context's clock through the demo's days."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.real: Callable[[], datetime.datetime] = ctx.clock

    def set(self, instant: datetime.datetime) -> None:
        self.ctx.clock = lambda: instant.astimezone(datetime.UTC)

    def restore(self) -> None:
        self.ctx.clock = self.real


def build(
    ctx: Context, *, claims: int = 60, seed: int = 20261127, folder: Path | None = None
) -> dict[str, Any]:
    """Fill an empty database; refuse one that already has users or claims."""
    if ctx.session.exec(select(User.id)).first() or ctx.session.exec(select(Claim.id)).first():
        raise Conflict("the database is not empty; the demo only fills an empty one")
    rng = random.Random(seed)
    folder = folder or ctx.settings.instance_path / "demo-files"
    folder.mkdir(parents=True, exist_ok=True)
    today = ctx.today()
    start = cal.next_office_day(today - datetime.timedelta(days=DAYS))
    clock = _Timeline(ctx)
    try:
        clock.set(_at(start, 9))
        password = secrets.token_urlsafe(12)
        for name, role in STAFF:
            users.create_user(ctx, name, role, password)
        agent_service.add_agent(
            ctx,
            agent_service.AgentInput(
                code=AGENT,
                name="見本収納代行株式会社",
                adapters=("fixed120", "dsk_csv"),
                channels=CHANNELS,
                remittance_mode="gross",
                remitter_name=REMITTER,
                fee_per_item=130,
                tax_rate="10",
                fee_valid_from=start - datetime.timedelta(days=365),
                delegation_basis="art78_3",
                delegation_date=start - datetime.timedelta(days=400),
            ),
        )
        slips = _claims_and_slips(ctx, rng, claims, start)
        clock.set(_at(start + datetime.timedelta(days=1), 10))
        printing.record_mailing(ctx, _print(ctx), start + datetime.timedelta(days=1))
        plan = _payments(rng, slips, start, today)
        files = _replay(ctx, clock, rng, plan, slips, start, today, folder)
    finally:
        clock.restore()
    return {
        "login": {
            "url": ctx.settings.public_base_url.rstrip("/") + "/login",
            "user": "demo-finance",
            "password": password,
        },
        "users": [name for name, _ in STAFF],
        "claims": claims,
        "settlement_files": files,
        "days": (today - start).days,
    }


def _claims_and_slips(ctx: Context, rng: random.Random, count: int, start: datetime.date) -> list[Any]:
    fy = start.year if start.month >= 4 else start.year - 1
    issued = []
    for i in range(1, count + 1):
        surname, given = rng.choice(SURNAMES), rng.choice(GIVEN)
        basis = rng.choice(BASES)
        amount = rng.choice((8_000, 12_000, 20_000, 45_000, 86_400, 150_000, 240_000, 420_000))
        decided = start - datetime.timedelta(days=rng.randint(5, 60))
        has_address = i % 11 != 0
        data = claim_service.ClaimInput(
            number=f"R{fy - 2018:02d}-{i:05d}",
            legal_basis=basis,
            amount=amount,
            fiscal_year=fy,
            debtor_ref=f"D{100000 + i}",
            debtor_name=f"{surname} {given}",
            debtor_kana=f"{KANA_SURNAMES[surname]} {KANA_GIVEN[given]}",
            postal_code=f"999-{rng.randint(0, 9999):04d}" if has_address else None,
            debtor_address=(
                f"見本県見本市中央{rng.randint(1, 9)}丁目{rng.randint(1, 30)}番{rng.randint(1, 20)}号"
                if has_address
                else None
            ),
            decided_on=decided,
            assessment_number=f"{fy}-{5000 + i}",
            assessment_date=decided,
            revenue_item="返還金" if basis in ("art63", "benefit_return") else "徴収金",
        )
        claim = claim_service.create_claim(ctx, data)
        if i % 7 == 0:
            continue  # some claims wait for their slips
        first_due = cal.next_office_day(start + datetime.timedelta(days=rng.randint(10, 20)))
        plan = slip_service.Plan(first_due_date=first_due)
        if amount > 300_000:
            plan = slip_service.Plan(instalments=3, first_due_date=first_due)
        issued.extend(slip_service.issue_slips(ctx, claim.number, plan))
    return issued


def _print(ctx: Context) -> int:
    """The demo's batch goes where the staff pages serve batches from, so it can be downloaded there."""
    result = printing.print_batch(ctx, printing.batch_folder(ctx))
    return int(result["batch_id"])


def _payments(
    rng: random.Random, slips: list[Any], start: datetime.date, today: datetime.date
) -> list[dict[str, Any]]:
    """Who pays when: most first instalments within their due date, some late, some not yet."""
    events = []
    for slip in slips:
        if slip.instalment > 1 or rng.random() < 0.2:
            continue
        latest = min(slip.due_date + datetime.timedelta(days=7), today - datetime.timedelta(days=2))
        if latest <= start + datetime.timedelta(days=1):
            continue
        paid = start + datetime.timedelta(days=rng.randint(1, (latest - start).days))
        events.append(
            {
                "slip": slip,
                "paid_at": _at(paid, rng.randint(7, 21), rng.randint(0, 59)),
                "channel": rng.choice(CHANNELS),
                "store": f"{rng.randint(1, 9_999_999):07d}",
            }
        )
    for event in events:
        if event["channel"] in ("0820", "0780"):
            event["store"] = "0000000"  # apps have no store
    return events


def _record(kind: str, barcode: str, event: dict[str, Any], transfer: datetime.date | None = None) -> Any:
    return SimpleNamespace(
        kind_code=kind,
        barcode=barcode,
        paid_at=event["paid_at"],
        channel_code=event["channel"],
        store_code=event["store"],
        transfer_date=transfer,
        accounting_date=transfer,
        capture_date=event["paid_at"].date(),
    )


def _transfer_date(paid: datetime.date) -> datetime.date:
    """The agent remits on the first office day at least 9 days after payment (cf. DSK's cycle)."""
    return cal.next_office_day(paid + datetime.timedelta(days=9))


def _replay(
    ctx: Context,
    clock: _Timeline,
    rng: random.Random,
    events: list[dict[str, Any]],
    slips: list[Any],
    start: datetime.date,
    today: datetime.date,
    folder: Path,
) -> int:
    """Day by day: the agent file (yesterday's payments, confirmations), the bank's credits, a run."""
    per_day: dict[datetime.date, list[Any]] = defaultdict(list)
    owed: dict[datetime.date, int] = defaultdict(int)
    for n, event in enumerate(events):
        slip, paid = event["slip"], event["paid_at"].date()
        if n == 3:  # a till mis-scan, withdrawn at once, then paid again
            per_day[paid + datetime.timedelta(days=1)].append(_record("01", slip.barcode, event))
            per_day[paid + datetime.timedelta(days=1)].append(_record("03", slip.barcode, event))
            event = {**event, "paid_at": event["paid_at"] + datetime.timedelta(minutes=4)}
        per_day[paid + datetime.timedelta(days=1)].append(_record("01", slip.barcode, event))
        confirm_on = paid + datetime.timedelta(days=rng.randint(4, 7))
        if n % 9 == 5:
            continue  # this confirmation has not come yet: unconfirmed_preliminary after 14 days
        transfer = _transfer_date(paid)
        per_day[confirm_on].append(_record("02", slip.barcode, event, transfer))
        owed[transfer] += slip.amount
    foreign = "91929023252070000010123499900299999900154357"  # another office's barcode (DSK sample)
    day_foreign = start + datetime.timedelta(days=8)
    per_day[day_foreign].append(
        _record("01", foreign, {"paid_at": _at(day_foreign, 12), "channel": "0020", "store": "0012345"})
    )
    files = 0
    day = start + datetime.timedelta(days=1)
    counter_paid = False
    while day < today:
        records = per_day.get(day, [])
        if records:
            clock.set(_at(day, 7, 30))
            path = folder / f"agent-{AGENT}-{day:%Y%m%d}.dat"
            with path.open("wb") as fh:
                fixed120.write(
                    fh,
                    created_on=day,
                    agent_code=AGENT,
                    consignor_code=ctx.settings.consignor_code,
                    consignor_name="ﾐﾎﾝｼ ｶｲｹｲｶﾝﾘｼｬ",
                    records=records,
                )
            ingest.ingest_file(ctx, path)
            files += 1
        credited = day - datetime.timedelta(days=1)
        while not cal.is_office_day(credited):
            credited -= datetime.timedelta(days=1)
        if cal.is_office_day(day) and owed.get(credited):
            clock.set(_at(day, 7, 45))
            amount = owed[credited] - (1_000 if credited == min(owed) else 0)  # one short credit
            _bank_file(ctx, folder, credited, amount, day)
            files += 1
        if not counter_paid and day >= start + datetime.timedelta(days=12):
            live = [s for s in slips if s.instalment == 1 and all(e["slip"] is not s for e in events)]
            if live:
                clock.set(_at(day, 11))
                payments.record_payment(
                    ctx, live[0].slip_number, live[0].amount, day, "window", "窓口で現金納付"
                )
                counter_paid = True
        clock.set(_at(day, 8, 30))
        reconcile.run(ctx, day)
        day += datetime.timedelta(days=1)
    return files


def _bank_file(
    ctx: Context, folder: Path, value_date: datetime.date, amount: int, day: datetime.date
) -> None:
    record = BankRecord(
        line_no=0,
        format="transfer",
        bank_code="0999",
        branch_code="001",
        account_type="1",
        account_number="1234567",
        value_date=value_date,
        inquiry_number=f"{value_date:%m%d}01",
        amount=amount,
        remitter_code="",
        remitter_name=REMITTER,
        direction="credit",
        cancelled=False,
        transaction_type=None,
    )
    group = Group(
        created_on=day,
        value_date_from=value_date,
        value_date_to=value_date,
        bank_code="0999",
        bank_name="ﾐﾎﾝｷﾞﾝｺｳ",
        branch_code="001",
        branch_name="ﾎﾝﾃﾝ",
        account_type="1",
        account_number="1234567",
        account_name="ﾐﾎﾝｼ ｶｲｹｲｶﾝﾘｼｬ",
        records=(record,),
    )
    path = folder / f"bank-{value_date:%Y%m%d}.dat"
    with path.open("wb") as fh:
        zengin_transfer.write(fh, [group])
    ingest.ingest_file(ctx, path)


def describe(result: dict[str, Any]) -> str:
    login = result["login"]
    lines = [
        f"demo ready: {result['claims']} claims, {result.get('settlement_files', 0)} settlement files over "
        f"{result.get('days', 0)} days",
        f"staff login: {login['url']}  user {login['user']}  password {login['password']}",
        f"(the same password works for {', '.join(result['users'])})",
    ]
    if result.get("note"):
        lines.append(result["note"])
    return "\n".join(lines)
