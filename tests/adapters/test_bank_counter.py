"""``bank_counter``: mappings checked at load (errors name the file and key), dates and amounts as banks
write them, by-index and 44-digit mappings, which mapping claims a file. The golden pairs of the example
mapping are in ``tests/data/adapters/bank_counter/`` (``test_adapter_golden.py``)."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from adapters import bank_counter
from adapters import detect
from adapters import get_adapter
from adapters.errors import AmbiguousFileFormat
from adapters.errors import FieldError
from adapters.errors import UnknownFileFormat
from barcodes.cvs import compose
from tests.adapters.adapter_golden import DATA_DIR
from tests.adapters.adapter_golden import input_files

D = datetime.date
BARCODE = compose(
    issuer_prefix="912345",
    consignor_code="00123",
    payment_number="2600000123400300",
    reissue_count=1,
    expiry=D(2026, 12, 30),
    amount=12_000,
)
BANK = 'bank_code = "9990"\n'
COLUMNS = BANK + "[columns]\n"
BY_INDEX = """bank_code = "9991"
encoding = "utf-8"
skip_rows = 2
date_format = "wareki"
[columns]
barcode = 2
amount = 4
paid_date = 1
branch = 3
"""


def mapping_file(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("bank_code = 9990\n[columns]\n", "bank_code"),
        ('bank_code = "999"\n', "bank_code"),
        ('bank_code = "9990"\nencoding = "euc-jp"\n', "encoding"),
        ('bank_code = "9990"\ndate_format = "dd/mm/yyyy"\n', "date_format"),
        ('bank_code = "9990"\nskip_rows = -1\n', "skip_rows"),
        ('bank_code = "9990"\nskip_rows = 1\nheader_row = 2\n', "header_row"),
        ('bank_code = "9990"\ncolour = "blue"\n', "colour"),
        ('bank_code = "9990"\n', "columns"),
        (COLUMNS + "amount = 1\npaid_date = 2\nbranch = 3\n", "columns.payment_number"),
        (
            COLUMNS + "amount = 1\npaid_date = 2\nbranch = 3\nbarcode = 4\npayment_number = 5\n",
            "columns.payment_number",
        ),
        (
            COLUMNS + "amount = 1\npaid_date = 2\nbranch = 2\npayment_number = 5\n",
            "columns.branch",
        ),
        (
            COLUMNS + 'amount = "金額"\npaid_date = 2\nbranch = 3\npayment_number = 5\n',
            "columns.amount",
        ),
        (COLUMNS + "paid_date = 2\nbranch = 3\npayment_number = 5\n", "columns.amount"),
        (COLUMNS + "fee = 1\n", "columns.fee"),
        (
            COLUMNS + "amount = 0\npaid_date = 2\nbranch = 3\npayment_number = 5\n",
            "columns.amount",
        ),
        (
            BANK + 'skip_rows = 1\nheader_row = 1\nheader = ["a", "b"]\n[columns]\namount = "c"\n',
            "columns.amount",
        ),
        ('name = "other"\nbank_code = "9990"\n', "name"),
        ("bank_code = \n", "file"),
    ],
)
def test_an_invalid_mapping_is_refused_naming_the_file_and_key(tmp_path: Path, text: str, key: str) -> None:
    path = mapping_file(tmp_path, "broken", text)
    with pytest.raises(bank_counter.MappingError) as caught:
        bank_counter.load_mapping(path)
    assert (caught.value.path, caught.value.field) == (str(path), key)
    assert "broken.toml" in str(caught.value) and key in str(caught.value)


def test_the_example_mapping_loads() -> None:
    mapping = bank_counter.load_mapping(bank_counter.MAPPING_DIR / "example.toml")
    assert (mapping.bank_code, mapping.key_column, mapping.encoding) == ("9990", "payment_number", "cp932")
    assert mapping.adapter_name == "bank_counter:example"


@pytest.mark.parametrize(
    ("text", "date_format", "day"),
    [
        ("20261203", "yyyymmdd", D(2026, 12, 3)),
        ("2026/12/03", "yyyy/mm/dd", D(2026, 12, 3)),
        ("2026/1/5", "yyyy/mm/dd", D(2026, 1, 5)),
        ("R8.12.03", "wareki", D(2026, 12, 3)),
        ("R08.12.03", "wareki", D(2026, 12, 3)),
        ("令和8年12月3日", "wareki", D(2026, 12, 3)),
        ("令和元年5月1日", "wareki", D(2019, 5, 1)),
        ("Ｒ８．１２．０３", "wareki", D(2026, 12, 3)),
        ("H30.03.31", "wareki", D(2018, 3, 31)),
    ],
)
def test_dates_as_banks_write_them(text: str, date_format: str, day: D) -> None:
    assert bank_counter.parse_date(text, date_format) == day


@pytest.mark.parametrize(
    ("text", "date_format"),
    [
        ("20261303", "yyyymmdd"),
        ("2026-12-03", "yyyy/mm/dd"),
        ("R1.04.30", "wareki"),  # 令和 began on 2019-05-01
        ("H31.05.01", "wareki"),  # … so this is not a 平成 date
        ("R8.02.30", "wareki"),
        ("S64.01.07", "wareki"),
        ("20261203", "wareki"),
    ],
)
def test_dates_that_are_not(text: str, date_format: str) -> None:
    with pytest.raises(ValueError, match="is not a date"):
        bank_counter.parse_date(text, date_format)


@pytest.mark.parametrize(
    ("text", "amount"),
    [("12000", 12_000), ("12,000", 12_000), ("1,234,567", 1_234_567), ("１２，０００", 12_000)],
)
def test_amounts(text: str, amount: int) -> None:
    assert bank_counter.parse_amount(text) == amount


@pytest.mark.parametrize("text", ["", "0", "-5", "12,00", "1,2000", "12.0", "１２ ０００", "1e3"])
def test_amounts_that_are_not(text: str) -> None:
    with pytest.raises(ValueError, match="not an amount"):
        bank_counter.parse_amount(text)


def test_a_mapping_by_index_with_the_44_digits_and_wareki_dates(tmp_path: Path) -> None:
    path = mapping_file(tmp_path / "maps", "mihon_shinkin", BY_INDEX)
    data = tmp_path / "shinkin.csv"
    data.write_text(f'見本信用金庫 収納データ\n\nR8.11.26,{BARCODE},7,12000\nR8.11.27,{BARCODE},7,"12,000"\n')
    adapter = bank_counter.Adapter(mapping=path)
    assert not adapter.identify(data)  # no header: it must be named (bank_counter:mihon_shinkin)
    first, second = adapter.parse(data)
    assert (first.line_no, first.barcode, first.reissue_count, first.agent_code) == (3, BARCODE, 1, "12345")
    assert (first.store_code, first.channel_code, first.kind_code, first.amount) == (
        "9991007",
        "bank",
        "02",
        12000,
    )
    assert first.paid_at == datetime.datetime(2026, 11, 26, 12, 0, tzinfo=bank_counter.JST)
    assert second.barcode_expiry == D(2026, 12, 30)
    info = adapter.info(data)
    assert (info.agent_code, info.consignor_code, info.created_on) == ("12345", "00123", D(2026, 11, 26))
    assert adapter.archive_name(data) == "20261126-bank_counter-9991.csv"


@pytest.mark.parametrize(
    ("row", "field"),
    [
        (f"R8.11.26,{BARCODE},7,12500", "amount"),  # differs from the barcode's amount
        (f"R8.11.26,{BARCODE[:-1]}0,7,12000", "barcode"),  # check digit
        (f"R8.11.26,{BARCODE[:-1]},7,12000", "barcode"),  # 43 digits
        (f"R8.11.31,{BARCODE},7,12000", "paid_date"),
        (f"R8.11.26,{BARCODE},1234,12000", "branch"),
    ],
)
def test_a_broken_row_of_a_44_digit_mapping(tmp_path: Path, row: str, field: str) -> None:
    path = mapping_file(tmp_path / "maps", "mihon_shinkin", BY_INDEX)
    data = tmp_path / "shinkin.csv"
    data.write_text(f"title\n\n{row}\n")
    with pytest.raises(FieldError) as caught:
        list(bank_counter.Adapter(mapping=path).parse(data))
    assert (caught.value.line_no, caught.value.field, caught.value.path) == (3, field, str(data))


def test_the_office_directory_replaces_the_example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "maps"
    mapping_file(folder, "mihon_shinkin", BY_INDEX)
    monkeypatch.setenv(bank_counter.ENVIRONMENT, str(folder))
    assert sorted(bank_counter.load_mappings()) == ["mihon_shinkin"]
    assert get_adapter("bank_counter:mihon_shinkin").mappings[0].bank_code == "9991"  # type: ignore[attr-defined]
    with pytest.raises(UnknownFileFormat):
        get_adapter("bank_counter:example")
    golden = DATA_DIR / "bank_counter" / "20261204_counter.csv"
    assert not bank_counter.Adapter().identify(golden)
    monkeypatch.setenv(bank_counter.ENVIRONMENT, str(tmp_path / "missing"))
    with pytest.raises(bank_counter.MappingError) as caught:
        bank_counter.Adapter()
    assert caught.value.field == "directory"


def test_two_mappings_claiming_one_header_are_ambiguous(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "maps"
    text = (bank_counter.MAPPING_DIR / "example.toml").read_text(encoding="utf-8")
    mapping_file(folder, "first", text.replace('name = "example"\n', ""))
    mapping_file(folder, "second", text.replace('name = "example"\n', "").replace('"9990"', '"9992"'))
    monkeypatch.setenv(bank_counter.ENVIRONMENT, str(folder))
    golden = DATA_DIR / "bank_counter" / "20261204_counter.csv"
    adapter = bank_counter.Adapter()
    assert adapter.identify(golden)
    with pytest.raises(AmbiguousFileFormat) as caught:
        list(adapter.parse(golden))
    assert caught.value.candidates == ["bank_counter:first", "bank_counter:second"]
    assert bank_counter.Adapter(mapping="second").info(golden).created_on == D(2026, 12, 3)


def test_the_example_mapping_claims_only_its_own_golden_files() -> None:
    adapter = bank_counter.Adapter()
    for path in input_files():
        if path.parent.name != "bank_counter":
            assert not adapter.identify(path), path
    assert detect(DATA_DIR / "bank_counter" / "20261204_counter.csv").name == "bank_counter"


def test_a_repeated_receipt_number_is_a_duplicated_line() -> None:
    path = DATA_DIR / "bank_counter" / "duplicate-line.csv"
    with pytest.raises(FieldError) as caught:
        list(bank_counter.Adapter().parse(path))
    assert (caught.value.line_no, caught.value.field, caught.value.value) == (4, "receipt_number", "000102")


def test_configured_directories_win_over_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "maps"
    mapping_file(folder, "mihon_shinkin", BY_INDEX)
    monkeypatch.setenv(bank_counter.ENVIRONMENT, str(tmp_path / "missing"))
    try:
        assert sorted(bank_counter.configure(str(folder))) == ["mihon_shinkin"]
        assert [m.name for m in bank_counter.Adapter().mappings] == ["mihon_shinkin"]
        mapping_file(folder, "broken", 'bank_code = "1"\n')
        with pytest.raises(bank_counter.MappingError) as caught:
            bank_counter.configure(str(folder))
        assert (Path(caught.value.path or "").name, caught.value.field) == ("broken.toml", "bank_code")
    finally:
        with pytest.raises(bank_counter.MappingError):  # back to the environment's (missing) directory
            bank_counter.configure(None)
    monkeypatch.delenv(bank_counter.ENVIRONMENT)
    assert "example" in bank_counter.configure(None)


@pytest.mark.parametrize("paid", ["00261204", "20190430", "21000101"])
def test_a_paid_date_outside_the_plausible_window_is_refused_at_its_line(tmp_path: Path, paid: str) -> None:
    """Found by mutation fuzzing on PostgreSQL: year 0026 parsed, then could not be stored."""
    golden = (DATA_DIR / "bank_counter" / "20261204_counter.csv").read_bytes()
    lines = golden.splitlines(keepends=True)
    header, first = lines[0], lines[1]
    cells = first.decode("cp932").split(",")
    index = next(i for i, cell in enumerate(cells) if cell.strip() in ("20261203", "20261204"))
    cells[index] = paid
    path = tmp_path / "counter.csv"
    path.write_bytes(header + ",".join(cells).encode("cp932"))
    with pytest.raises(FieldError) as caught:
        list(bank_counter.Adapter().parse(path))
    assert (caught.value.line_no, caught.value.field) == (2, "paid_date")
