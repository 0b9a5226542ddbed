"""Claims staff pages (Flask test client): search through the blind index, paging, roles, the CSV import
preview and commit, create, adjust and close."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from gateway import pii
from gateway.crypto import Keyring
from gateway.issuing import claims as claim_service
from gateway.issuing import slips as slip_service
from gateway.models import AuditEvent
from tests.helpers import make_claim
from tests.pages.pagetools import csrf

HEADER = "number,legal_basis,amount,fiscal_year,debtor_ref,debtor_name,debtor_kana\n"


def text(response: Any) -> str:
    return str(response.get_data(as_text=True))


@pytest.fixture
def claims(ctx: Any) -> None:
    make_claim(ctx, "R08-00001", debtor_ref="D-1", debtor_name="見本 花子", debtor_kana="ミホン ハナコ")
    make_claim(ctx, "R08-00002", debtor_ref="D-2", debtor_name="試験 太郎", debtor_kana="シケン タロウ")
    make_claim(ctx, "R08-00003", debtor_ref="D-3", debtor_name="見本 一郎", debtor_kana="ミホン イチロウ")


def rows(html: str) -> list[str]:
    return re.findall(r'href="/staff/claims/([A-Z][A-Za-z0-9-]*)"', html)


def test_search_by_name_kana_family_name_ref_and_payment_number(login: Any, ctx: Any, claims: None) -> None:
    client = login("finance")
    assert rows(text(client.get("/staff/claims?q=見本 花子"))) == ["R08-00001"]
    assert rows(text(client.get("/staff/claims?q=見本　花子"))) == ["R08-00001"]  # ideographic space
    assert rows(text(client.get("/staff/claims?q=ﾐﾎﾝ ﾊﾅｺ"))) == ["R08-00001"]  # half-width kana
    assert rows(text(client.get("/staff/claims?q=みほん はなこ"))) == ["R08-00001"]  # hiragana
    assert rows(text(client.get("/staff/claims?q=見本"))) == ["R08-00001", "R08-00003"]  # family name
    assert rows(text(client.get("/staff/claims?q=ミホン"))) == ["R08-00001", "R08-00003"]
    assert rows(text(client.get("/staff/claims?q=D-2"))) == ["R08-00002"]
    assert rows(text(client.get("/staff/claims?q=R08-0000"))) == ["R08-00001", "R08-00002", "R08-00003"]
    assert rows(text(client.get("/staff/claims?q=花子"))) == []  # given name alone is not indexed
    slip = slip_service.issue_slips(ctx, "R08-00003")[0]
    assert rows(text(client.get(f"/staff/claims?q={slip.payment_number}"))) == ["R08-00003"]
    assert rows(text(client.get(f"/staff/claims?q={slip.slip_number}"))) == ["R08-00003"]
    html = text(client.get("/staff/claims?q=見本"))
    assert "見本 花子" in html and "全 2 件中 1〜2 件" in html


def test_a_name_search_is_logged_without_the_term(login: Any, ctx: Any, claims: None) -> None:
    client = login("finance")
    client.get("/staff/claims?q=試験 太郎")
    events = ctx.session.exec(sa.select(AuditEvent).where(AuditEvent.action == "pii.search")).scalars().all()
    assert len(events) == 1
    detail = events[0].detail
    assert detail["purpose"] == "claims.search" and detail["matches"] == 1
    assert "試験" not in str(detail) and "太郎" not in str(detail)


def test_the_index_holds_no_clear_text_and_depends_on_the_key(ctx: Any, claims: None) -> None:
    stored = ctx.session.execute(sa.text("SELECT kind, hmac FROM debtor_name_index")).all()
    kinds = {kind for kind, _ in stored}
    assert kinds == {"name", "kana", "family", "kana_family"}
    assert len(stored) == 12
    for _, digest in stored:
        assert re.fullmatch(r"[0-9a-f]{64}", digest)
    dump = " ".join(digest for _, digest in stored)
    assert "見本" not in dump and "ミホン" not in dump
    data = pii.DebtorData(ref="X", name="見本 花子", kana="ミホン ハナコ")
    other = Keyring.from_data_key(base64.urlsafe_b64encode(b"z" * 32).decode())
    mine = pii.name_hashes(ctx, data)
    assert mine["name"] == ctx.keys.blind_index("見本 花子", "debtor.name")
    assert other.blind_index("見本 花子", "debtor.name") != mine["name"]
    assert {d for _, d in stored} >= set(mine.values())


def test_names_written_before_the_index_are_indexed_on_the_first_name_search(
    login: Any, ctx: Any, claims: None
) -> None:
    ctx.session.execute(sa.text("DELETE FROM debtor_name_index"))
    ctx.session.commit()
    claim_service._NAME_INDEX_COMPLETE.clear()
    client = login("finance")
    assert rows(text(client.get("/staff/claims?q=試験"))) == ["R08-00002"]
    assert ctx.session.execute(sa.text("SELECT count(*) FROM debtor_name_index")).scalar() == 12


def test_the_cli_builds_the_missing_name_index(ctx: Any, claims: None, cli_env: dict[str, str]) -> None:
    import json

    from click.testing import CliRunner

    from gateway.cli import main

    ctx.session.execute(sa.text("DELETE FROM debtor_name_index WHERE debtor_id <> 1"))
    ctx.session.commit()
    runner = CliRunner()
    result = runner.invoke(main, ["claims", "reindex-names", "--json"], env=cli_env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"indexed": 2}
    ctx.session.commit()
    assert ctx.session.execute(sa.text("SELECT count(*) FROM debtor_name_index")).scalar() == 12
    again = runner.invoke(main, ["claims", "reindex-names", "--json"], env=cli_env, catch_exceptions=False)
    assert json.loads(again.stdout) == {"indexed": 0}


def test_imported_debtors_are_indexed_in_bulk(login: Any, ctx: Any) -> None:
    raw = (
        HEADER + "I-1,art63,1000,2026,IR-1,見本 次郎,ミホン ジロウ\nI-2,art78,2000,2026,IR-2,試験 三郎,\n"
    ).encode()
    claim_service.import_claims(ctx, raw, "c.csv")
    client = login("finance")
    assert rows(text(client.get("/staff/claims?q=ミホン ジロウ"))) == ["I-1"]
    assert rows(text(client.get("/staff/claims?q=試験"))) == ["I-2"]


def test_accounting_sees_no_names_cannot_search_by_name_and_has_no_finance_buttons(
    login: Any, ctx: Any, claims: None
) -> None:
    client = login("accounting")
    html = text(client.get("/staff/claims"))
    assert "R08-00001" in html and "D-1" in html
    assert "見本" not in html and "ミホン" not in html
    assert "債権を登録する" not in html and "CSVから取り込む" not in html
    assert rows(text(client.get("/staff/claims?q=見本 花子"))) == []
    assert not ctx.session.execute(sa.text("SELECT 1 FROM audit_events WHERE action = 'pii.search'")).first()
    claim = text(client.get("/staff/claims/R08-00001"))
    assert "見本" not in claim and "***" not in claim
    assert "金額の変更" not in claim and "発行内容を確認する" not in claim and "PDF" not in claim
    for url in ("/staff/claims/new", "/staff/claims/import", "/staff/claims/R08-00001/adjust"):
        assert client.get(url).status_code == 403


def test_paging_both_ways_with_the_total(login: Any, ctx: Any) -> None:
    lines = "".join(f"P-{i:03d},art63,{1000 + i},2026,PR-{i},見本 {i:03d}番,\n" for i in range(1, 121))
    claim_service.import_claims(ctx, (HEADER + lines).encode(), "many.csv")
    client = login("approver")
    first = text(client.get("/staff/claims?status=open"))
    assert "全 120 件中 1〜50 件" in first and "前へ" not in first
    next_url = re.search(r'href="([^"]*after=[^"]*)"', first)
    assert next_url
    second = text(client.get(next_url.group(1).replace("&amp;", "&")))
    assert "全 120 件中 51〜100 件" in second and rows(second)[0] == "P-051"
    third = text(client.get(re.search(r'href="([^"]*after=[^"]*)"', second).group(1).replace("&amp;", "&")))  # type: ignore[union-attr]
    assert "全 120 件中 101〜120 件" in third and "次へ" not in third
    back = re.search(r'href="([^"]*before=[^"]*)"', third)
    assert back
    again = text(client.get(back.group(1).replace("&amp;", "&")))
    assert "全 120 件中 51〜100 件" in again and rows(again)[0] == "P-051" and "status=open" in back.group(1)


def test_filters_by_fiscal_year_and_due_window(login: Any, ctx: Any, claims: None) -> None:
    import datetime

    make_claim(ctx, "R07-00009", debtor_ref="D-9", fiscal_year=2025)
    slip_service.issue_slips(ctx, "R08-00002", slip_service.Plan(first_due_date=datetime.date(2026, 12, 15)))
    client = login("finance")
    assert rows(text(client.get("/staff/claims?fiscal_year=2025"))) == ["R07-00009"]
    window = "/staff/claims?due_from=2026-12-01&due_to=2026-12-31"
    assert rows(text(client.get(window))) == ["R08-00002"]
    assert rows(text(client.get("/staff/claims?due_from=2027-01-01"))) == []


def _upload(client: FlaskClient, body: str, name: str = "claims.csv") -> str:
    import io

    token = csrf(client.get("/staff/claims/import").data)
    data = {"csrf_token": token, "file": (io.BytesIO(body.encode()), name)}
    response = client.post("/staff/claims/import", data=data, content_type="multipart/form-data")
    assert response.status_code == 200
    return text(response)


def test_the_import_preview_lists_every_error_by_row_and_column(login: Any, ctx: Any) -> None:
    client = login("finance")
    body = HEADER + (
        "A-1,art63,abc,2026,AR-1,見本 一,\n"
        "A-2,art99,1000,20xx,AR-2,見本 二,\n"
        "A-3,art63,1000,2026,,見本 三,\n"
        "A-1,art63,1000,2026,AR-4,見本 四,\n"
        "A-5,art63,1000,2026,AR-5,,\n"
    )
    html = _upload(client, body)
    assert "2行目「金額」: 数字で入力してください(入力値: abc)" in html
    assert "3行目「根拠」" in html and "3行目「年度」: 数字で入力してください(入力値: 20xx)" in html
    assert "4行目「債務者番号」" in html
    assert "5行目「債権番号」: 債権番号 A-1 が2行目と重複しています" not in html  # A-1 of line 2 was bad
    assert "6行目「氏名」" in html
    assert "誤りが" in html and "取り込む</button>" not in html
    assert ctx.session.execute(sa.text("SELECT count(*) FROM claims")).scalar() == 0


def test_forbidden_and_unknown_columns_are_refused_in_japanese(login: Any) -> None:
    client = login("finance")
    html = _upload(client, "number,legal_basis,amount,fiscal_year,debtor_ref,debtor_name,個人番号,memo\n")
    assert "個人番号(マイナンバー)の列です" in html
    assert "使えない列があります: 「memo」" in html
    case = _upload(client, "number,legal_basis,amount,fiscal_year,debtor_ref,debtor_name,ケース番号\n")
    assert "ケース記録など保護の情報の列です" in case


def test_a_clean_file_is_previewed_then_imported_once(login: Any, ctx: Any) -> None:
    client = login("finance")
    body = HEADER + "B-1,art63,1500,2026,BR-1,見本 一,\nB-2,art78,2500,2026,BR-2,見本 二,\n"
    html = _upload(client, body)
    assert "4,000円" in html and "取り込む</button>" in html
    assert ctx.session.execute(sa.text("SELECT count(*) FROM claims")).scalar() == 0
    sha = re.search(r'name="sha256" value="([0-9a-f]{64})"', html)
    assert sha
    kept = list((ctx.settings.instance_path / "claims-uploads").glob("*.bin"))
    assert len(kept) == 1 and "見本".encode() not in kept[0].read_bytes()  # kept encrypted
    token = csrf(client.get("/staff/claims/import").data)
    done = client.post(
        "/staff/claims/import/commit",
        data={"csrf_token": token, "sha256": sha.group(1)},
        follow_redirects=True,
    )
    assert "新規 2件" in text(done)
    ctx.session.commit()
    assert ctx.session.execute(sa.text("SELECT count(*) FROM claims")).scalar() == 2
    again = client.post(
        "/staff/claims/import/commit",
        data={"csrf_token": token, "sha256": sha.group(1)},
        follow_redirects=True,
    )
    assert "取り込み済みです" in text(again)
    assert "取り込み済みです" in _upload(client, body)
    assert ctx.session.execute(sa.text("SELECT count(*) FROM claims")).scalar() == 2


def test_create_form_with_japanese_errors_then_success(login: Any, ctx: Any) -> None:
    client = login("finance")
    page = client.get("/staff/claims/new")
    assert "第63条返還金" in text(page) and "art63" not in re.sub(r'value="[^"]*"', "", text(page))
    form = {
        "csrf_token": csrf(page.data),
        "number": "N-1",
        "legal_basis": "art63",
        "amount": "abc",
        "fiscal_year": "2026",
        "debtor_ref": "NR-1",
        "debtor_name": "見本 新",
    }
    bad = client.post("/staff/claims/new", data=form)
    assert bad.status_code == 422 and "「金額」は半角数字で入力してください(入力値: abc)" in text(bad)
    assert 'value="見本 新"' in text(bad)  # what was typed is kept
    form["amount"] = "12,000"
    done = client.post("/staff/claims/new", data=form, follow_redirects=True)
    assert "債権 N-1 を登録しました" in text(done) and "12,000円" in text(done)
    dup = client.post("/staff/claims/new", data=form)
    assert "債権番号 N-1 はすでに登録されています" in text(dup)


def test_adjust_and_close_with_confirmation(login: Any, ctx: Any, claims: None) -> None:
    client = login("finance")
    page = client.get("/staff/claims/R08-00001/adjust")
    token = csrf(page.data)
    missing = client.post("/staff/claims/R08-00001/adjust", data={"csrf_token": token, "amount": "9000"})
    assert missing.status_code == 422 and "「理由」を入力してください" in text(missing)
    done = client.post(
        "/staff/claims/R08-00001/adjust",
        data={"csrf_token": token, "amount": "9000", "reason": "収入認定の変更", "decided_on": "2026-11-20"},
        follow_redirects=True,
    )
    html = text(done)
    assert "調定額を 9,000円 に変更しました" in html and "収入認定の変更" in html and "2026/11/20" in html
    slip = slip_service.issue_slips(ctx, "R08-00001")[0]
    form = {"csrf_token": token, "status": "written_off", "decided_on": "2026-11-25", "reason": "時効"}
    confirm = client.post("/staff/claims/R08-00001/close", data=form)
    assert "この内容で記録しますか" in text(confirm) and "令和8年11月25日" in text(confirm)
    assert claim_service.get_claim(ctx, "R08-00001").status == "open"
    closed = client.post(
        "/staff/claims/R08-00001/close", data={**form, "confirmed": "1"}, follow_redirects=True
    )
    ctx.session.commit()
    assert "「不納欠損」を記録しました" in text(closed)
    assert claim_service.get_claim(ctx, "R08-00001").status == "written_off"
    void = text(client.get(f"/staff/slips/{slip.slip_number}"))
    assert "債権の「不納欠損」の記録に伴い無効: 時効" in void and "claim written_off" not in void
    assert "有効" not in re.sub(r"<nav.*?</nav>", "", text(closed), flags=re.S).split("<h2>納付書</h2>")[
        1
    ].split("<h2>入金")[0].replace("有効な", "")


def test_the_claim_page_is_japanese_and_not_cached(login: Any, ctx: Any, claims: None) -> None:
    client = login("finance")
    response = client.get("/staff/claims/R08-00001")
    html = text(response)
    assert response.headers["Cache-Control"] == "no-store"
    assert "第63条返還金" in html and "令和8年度" in html and "12,000円" in html and "令和8年11月1日" in html
    assert not re.search(r"\d{4}-\d{2}-\d{2}", re.sub(r'(value|min|href)="[^"]*"', "", html))
    assert client.get("/staff/claims/NOPE").status_code == 404
