"""The admin agent pages show and take an agent's adapter options (DSK record type 81) in Japanese only."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from gateway.access import agents as agent_service
from gateway.context import Context
from tests.pages.pagetools import csrf
from tests.pages.pagetools import sign_in

OPTION = "DSK種別81の扱い"


@pytest.fixture
def admin(app: Any, ctx: Context) -> FlaskClient:
    return sign_in(app, ctx, "admin", "boss")


def _register(admin: FlaskClient, **form: Any) -> Any:
    token = csrf(admin.get("/staff/admin/agents/new").get_data(as_text=True))
    data = {"csrf_token": token, "code": "54321", "name": "試験ペイ", "adapters": ["dsk_csv"], **form}
    return admin.post("/staff/admin/agents/new", data=data)


def test_the_registration_form_offers_the_type_81_treatment_in_japanese(admin: FlaskClient) -> None:
    html = admin.get("/staff/admin/agents/new").get_data(as_text=True)
    assert OPTION in html
    assert "ファイルごと受け付けない(既定)" in html and "その行を取り込まず、件数と行番号を記録する" in html


def test_an_agent_registered_with_skip_shows_it_and_stores_it(admin: FlaskClient, ctx: Context) -> None:
    response = _register(admin, **{"opt:dsk_csv.record_type_81": "skip"})
    assert response.status_code == 302
    ctx.session.commit()
    assert agent_service.get_agent(ctx, "54321").adapter_options == {"dsk_csv": {"record_type_81": "skip"}}
    page = admin.get("/staff/admin/agents/54321").get_data(as_text=True)
    assert OPTION in page and "その行を取り込まず、件数と行番号を記録する" in page
    assert "record_type_81" not in page and "skip" not in page and "dsk_csv" not in page


def test_an_agent_registered_with_the_default_shows_the_default(admin: FlaskClient, ctx: Context) -> None:
    assert _register(admin).status_code == 302
    ctx.session.commit()
    assert agent_service.get_agent(ctx, "54321").adapter_options is None
    page = admin.get("/staff/admin/agents/54321").get_data(as_text=True)
    assert OPTION in page and "ファイルごと受け付けない(既定)" in page


def test_an_agent_without_dsk_files_shows_no_type_81_line(admin: FlaskClient, ctx: Context) -> None:
    assert _register(admin, adapters=["fixed120"]).status_code == 302
    assert OPTION not in admin.get("/staff/admin/agents/54321").get_data(as_text=True)


def test_skip_for_an_agent_without_dsk_files_is_refused_in_japanese(admin: FlaskClient, ctx: Context) -> None:
    response = _register(admin, adapters=["fixed120"], **{"opt:dsk_csv.record_type_81": "skip"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "「ファイルの読取設定」の指定に誤りがあります。" in html
    assert "adapter option" not in html and "configured" not in html  # the service's English stays out
    ctx.session.rollback()
    assert agent_service.find_agent(ctx, "54321") is None
