"""``gateway report daily``, ``gateway report arrears`` and ``gateway export accounting``: shapes and exit
codes. (The command line runs on the machine's clock, so nothing here depends on ``final``.)"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway.cli import main
from gateway.reporting import reports
from tests.reports.conftest import DAY1
from tests.reports.conftest import Week


@pytest.fixture
def run(cli_env, week: Week):  # type: ignore[no-untyped-def]
    week.day1()
    week.day2()
    week.ctx.session.commit()
    runner = CliRunner()

    def invoke(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(main, list(args), env=cli_env, catch_exceptions=False)

    return invoke


def test_report_daily_json_on_stdout(run, week: Week) -> None:  # type: ignore[no-untyped-def]
    result = run("report", "daily", "--date", "2026-12-02", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["received_date"] == "2026-12-02"
    assert doc["totals"]["received"]["preliminary"] == {"count": 6, "amount": 63_000}
    same = run("report", "daily", "--date", "2026-12-02", "--format", "json")
    assert json.loads(same.stdout)["received"] == doc["received"]


def test_report_daily_files(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    csv_file = tmp_path / "out" / "day.csv"
    result = run("report", "daily", "--date", "2026-12-02", "--format", "csv", "-o", str(csv_file))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    body = csv_file.read_bytes()
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline="")))
    assert {r["section"] for r in rows} >= {"received", "late", "exceptions_opened", "total"}
    cp932 = tmp_path / "day-cp932.csv"
    run("report", "daily", "--date", "2026-12-02", "--format", "csv", "--encoding", "cp932", "-o", str(cp932))
    assert "ローソン" in cp932.read_bytes().decode("cp932")
    html = tmp_path / "day.html"
    run("report", "daily", "--date", "2026-12-04", "--format", "html", "-o", str(html))
    assert html.read_text("utf-8").count('<g class="day"') == 30
    summary = run("report", "daily", "--date", "2026-12-04", "--json", "-o", str(tmp_path / "day.json"))
    doc = json.loads(summary.stdout)
    assert doc["file"] == str(tmp_path / "day.json") and doc["format"] == "json"
    assert json.loads((tmp_path / "day.json").read_bytes())["received_date"] == "2026-12-04"
    assert not list(tmp_path.glob(".*.part"))  # the temporary files were renamed


def test_report_daily_csv_to_stdout(run) -> None:  # type: ignore[no-untyped-def]
    result = run("report", "daily", "--date", "2026-12-02", "--format", "csv", "--encoding", "cp932")
    assert result.exit_code == 0
    assert "received_date,section,item".encode("cp932") in result.stdout_bytes


@pytest.mark.parametrize("bad", ["2026-13-01", "20261202", "yesterday", "2026-2-3"])
def test_a_bad_date_exits_65(run, bad: str) -> None:  # type: ignore[no-untyped-def]
    result = run("report", "daily", "--date", bad, "--json")
    assert result.exit_code == 65
    assert "date" in result.stderr
    assert json.loads(result.stdout)["error"]["details"]["field"] == "date"
    assert run("export", "accounting", "--receipt-date", bad, "-o", "x.csv").exit_code == 65
    assert run("report", "arrears", "--as-of", bad).exit_code == 65


def test_usage_errors_exit_2(run) -> None:  # type: ignore[no-untyped-def]
    assert run("report", "daily", "--date", "2026-12-02", "--json", "--format", "csv").exit_code == 2
    assert run("report", "daily", "--date", "2026-12-02", "--format", "pdf").exit_code == 2
    assert run("export", "accounting").exit_code == 2  # --receipt-date is required
    assert run("export", "accounting", "--receipt-date", "2026-12-04", "--json").exit_code == 2  # needs -o


def test_export_accounting(run, week: Week, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "kesikomi.csv"
    result = run("export", "accounting", "--receipt-date", "2026-12-04", "-o", str(out), "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["rows"], summary["amount"], summary["receipt_date"]) == (3, 28_000, "2026-12-04")
    first = out.read_bytes()
    run("export", "accounting", "--receipt-date", "2026-12-04", "-o", str(out))
    assert out.read_bytes() == first
    plain = run("export", "accounting", "--receipt-date", "2026-12-04")
    assert plain.stdout_bytes == first  # without -o: the same bytes on stdout


def test_report_arrears(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = run("report", "arrears", "--as-of", "2026-12-16", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert [c["claim_number"] for c in doc["claims"]] == ["T-0008", "T-0004"]
    assert doc["claims"][0]["debtor"]["name"] == "見本 花子"  # the operator; the view is logged
    out = tmp_path / "arrears.csv"
    assert run("report", "arrears", "--as-of", "2026-12-16", "--format", "csv", "-o", str(out)).exit_code == 0
    assert out.read_bytes().decode("utf-8-sig").startswith("# 滞納一覧 2026-12-16")
    assert oct(out.stat().st_mode)[-3:] == "600"  # personal data: readable by the owner only


def test_report_daily_matches_the_service(run, week: Week) -> None:  # type: ignore[no-untyped-def]
    result = run("report", "daily", "--date", "2026-12-02", "--format", "json")
    doc = reports.daily(week.ctx, DAY1)
    mine = json.loads(result.stdout)
    # Everything but the "is the day over" flags, which follow each process's clock.
    for key in ("final", "pending"):
        mine.pop(key)
        doc.pop(key)
    assert mine == doc
