"""A synthetic demo: staff accounts, claims with obviously fictitious debtors, and slips.

Every name and address is made up from the words 見本 (sample) and 試験 (test); no real person, address or
claim is used.
"""

from __future__ import annotations

import datetime
import random
import secrets
from typing import Any

from sqlmodel import select

from gateway.context import Context
from gateway.models import Claim
from gateway.models import User
from gateway.services import claims as claim_service
from gateway.services import slips as slip_service
from gateway.services import users

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


def build(ctx: Context, *, claims: int = 40, seed: int = 20261127) -> dict[str, Any]:
    """Fill an empty database; refuse one that already has users or claims."""
    from gateway.errors import Conflict

    if ctx.session.exec(select(User.id)).first() or ctx.session.exec(select(Claim.id)).first():
        raise Conflict("the database is not empty; the demo only fills an empty one")
    rng = random.Random(seed)
    password = secrets.token_urlsafe(12)
    for name, role in STAFF:
        users.create_user(ctx, name, role, password)
    today = ctx.today()
    fy = today.year if today.month >= 4 else today.year - 1
    created = []
    for i in range(1, claims + 1):
        surname, given = rng.choice(SURNAMES), rng.choice(GIVEN)
        basis = rng.choice(BASES)
        amount = rng.choice((12_000, 45_000, 86_400, 150_000, 240_000, 420_000, 780_000))
        decided = today - datetime.timedelta(days=rng.randint(10, 200))
        has_address = i % 9 != 0
        data = claim_service.ClaimInput(
            number=f"R{fy - 2018:02d}-{i:05d}",
            legal_basis=basis,
            amount=amount,
            fiscal_year=fy if decided.month >= 4 or decided.year > fy else fy - 1,
            debtor_ref=f"D{100000 + i}",
            debtor_name=f"{surname} {given}",
            debtor_kana=f"{KANA_SURNAMES[surname]} {KANA_GIVEN[given]}",
            postal_code=f"999-{rng.randint(0, 9999):04d}" if has_address else None,
            debtor_address=(
                f"見本県見本市中央{rng.randint(1, 9)}丁目{rng.randint(1, 30)}番{rng.randint(1, 20)}号"
            )
            if has_address
            else None,
            decided_on=decided,
            assessment_number=f"{fy}-{5000 + i}",
            assessment_date=decided,
            revenue_item="返還金" if basis in ("art63", "benefit_return") else "徴収金",
        )
        claim = claim_service.create_claim(ctx, data)
        created.append(claim.number)
        if i % 5 == 0:
            continue  # some claims wait for their slips
        plan = slip_service.Plan(instalments=3) if amount > 300_000 else slip_service.Plan()
        if amount > 300_000 and i % 2:
            plan = slip_service.Plan(monthly_amount=100_000)
        slip_service.issue_slips(ctx, claim.number, plan)
    return {
        "login": {
            "url": ctx.settings.public_base_url.rstrip("/") + "/login",
            "user": "demo-finance",
            "password": password,
        },
        "users": [name for name, _ in STAFF],
        "claims": len(created),
    }


def describe(result: dict[str, Any]) -> str:
    login = result["login"]
    return (
        f"demo ready: {result['claims']} claims\n"
        f"staff login: {login['url']}  user {login['user']}  password {login['password']}\n"
        f"(the same password works for {', '.join(result['users'])})"
    )
