"""``dsk_csv``: the real public sample, encodings, the header rule, the writer."""

from __future__ import annotations

import datetime
import io
import json
from collections import Counter
from pathlib import Path

import pytest

from adapters import detect
from adapters import dsk_csv
from adapters.errors import EncodingError
from adapters.errors import FieldError
from adapters.errors import RecordOrderError
from adapters.errors import SettlementFileError
from adapters.errors import UnknownRecordType
from adapters.records import to_jsonable
from tests.adapters.adapter_golden import DATA_DIR
from tests.shared_files import PUBLIC_SAMPLE
from tests.shared_files import shared_file

GOLDEN = DATA_DIR / "dsk_csv" / "20261128_daily.csv"


@pytest.fixture
def public_sample() -> Path:
    return shared_file(PUBLIC_SAMPLE)


def test_public_sample_parses(public_sample: Path) -> None:
    assert detect(public_sample).name == "dsk_csv"
    records = list(dsk_csv.Adapter().parse(public_sample))
    assert len(records) == 16
    assert Counter(r.kind_code for r in records) == {"01": 6, "03": 1, "02": 5, "12": 2, "22": 2}
    assert sum(r.amount for r in records) == 519_319
    assert {(r.issuer_prefix, r.agent_code, r.consignor_code) for r in records} == {
        ("929023", "29023", "25207")
    }
    # Values read off the sample's own rows (README: every barcode valid, 22 amounts equal the barcode's).
    first = records[0]
    assert (first.line_no, first.kind, first.amount, first.channel_code, first.store_code) == (
        2,
        "preliminary",
        10605,
        "0010",
        "110001",
    )
    assert first.paid_at.isoformat() == "2024-01-12T18:15:00+09:00"
    assert first.transfer_date is None and first.capture_date == datetime.date(2024, 1, 17)
    postal = [r for r in records if r.kind_code in ("12", "22")]
    assert all(r.kind == "confirmed" and r.barcode_expiry is None for r in postal)
    assert [r.postal_correction for r in postal] == [False, True, True, False]
    assert {r.channel_code for r in postal} == {"0910", "0911"}
    assert {r.transfer_date for r in records if r.kind_code != "01" and r.kind_code != "03"} == {
        datetime.date(2024, 1, 24)
    }


def test_public_sample_in_cp932_with_crlf_parses_the_same(public_sample: Path, tmp_path: Path) -> None:
    """Real files are Shift_JIS with CRLF; the sample as stored is UTF-8 with LF."""
    converted = tmp_path / "sample-cp932.csv"
    converted.write_bytes(public_sample.read_text(encoding="utf-8").replace("\n", "\r\n").encode("cp932"))
    assert dsk_csv.detect_encoding(converted) == "cp932"
    assert list(dsk_csv.Adapter().parse(converted)) == list(dsk_csv.Adapter().parse(public_sample))


def test_info_takes_agent_and_consignor_from_the_first_row(public_sample: Path) -> None:
    info = dsk_csv.Adapter().info(public_sample)
    assert (info.agent_code, info.consignor_code, info.consignor_name) == ("29023", "25207", None)
    assert info.created_on == datetime.date(2024, 1, 17)


@pytest.mark.parametrize(
    ("name", "encoding"),
    [
        ("20261128_daily.csv", "cp932"),
        ("20261128_daily-utf8.csv", "utf-8-sig"),
        ("20261128_daily-utf8-bom.csv", "utf-8-sig"),
    ],
)
def test_encoding_is_detected_utf8_first(name: str, encoding: str) -> None:
    assert dsk_csv.detect_encoding(DATA_DIR / "dsk_csv" / name) == encoding


def test_a_file_that_is_neither_names_the_first_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    good = GOLDEN.read_bytes().split(b"\r\n")
    # A row appended in UTF-8 to a cp932 file: line 9 is not cp932, line 1 not UTF-8.
    path.write_bytes(b"\r\n".join([*good[:-1], "01,テスト".encode(), b""]))  # E3 83 86: 0x86 is no cp932 lead
    with pytest.raises(EncodingError) as caught:
        list(dsk_csv.Adapter().parse(path))
    assert caught.value.line_no == 9


def test_a_forced_encoding_is_used(tmp_path: Path) -> None:
    with pytest.raises(EncodingError) as caught:
        list(dsk_csv.Adapter(encoding="utf-8").parse(GOLDEN))
    assert caught.value.line_no == 1
    assert list(dsk_csv.Adapter(encoding="cp932").parse(GOLDEN)) == list(dsk_csv.Adapter().parse(GOLDEN))


def test_header_is_compared_after_nfkc(tmp_path: Path) -> None:
    """Half-width digits, a BOM and quoted header cells are the same header."""
    text = GOLDEN.read_bytes().decode("cp932")
    header, rest = text.split("\r\n", 1)
    variant = ",".join(f'"{cell}"' for cell in header.replace("１", "1").replace("２", "2").split(","))
    path = tmp_path / "variant.csv"
    path.write_bytes("\ufeff".encode() + (variant + "\r\n" + rest).encode("utf-8"))
    assert dsk_csv.Adapter().identify(path)
    assert list(dsk_csv.Adapter().parse(path)) == list(dsk_csv.Adapter().parse(GOLDEN))


def test_a_different_header_is_not_ours(tmp_path: Path) -> None:
    text = GOLDEN.read_bytes().decode("cp932").replace("コンビニ名", "店名", 1)
    path = tmp_path / "other.csv"
    path.write_bytes(text.encode("cp932"))
    assert not dsk_csv.Adapter().identify(path)
    with pytest.raises(RecordOrderError):
        list(dsk_csv.Adapter().parse(path))


def test_a_missing_final_line_break_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "no-final.csv"
    path.write_bytes(GOLDEN.read_bytes().removesuffix(b"\r\n"))
    assert list(dsk_csv.Adapter().parse(path)) == list(dsk_csv.Adapter().parse(GOLDEN))


def test_trailing_blank_lines_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "blank-end.csv"
    path.write_bytes(GOLDEN.read_bytes() + b"\r\n\r\n")
    assert list(dsk_csv.Adapter().parse(path)) == list(dsk_csv.Adapter().parse(GOLDEN))


def test_a_22_row_may_differ_from_its_barcode_but_a_12_may_not(tmp_path: Path) -> None:
    records = list(dsk_csv.Adapter().parse(GOLDEN))
    correction = next(r for r in records if r.kind_code == "22")
    assert correction.amount == 12500 and int(correction.barcode[37:43]) == 12000
    text = GOLDEN.read_bytes().decode("cp932")
    row_12 = next(line for line in text.split("\r\n") if line.startswith("12,"))
    path = tmp_path / "postal.csv"
    path.write_bytes(text.replace(row_12, row_12.replace(",8000,", ",8001,")).encode("cp932"))
    with pytest.raises(FieldError) as caught:
        list(dsk_csv.Adapter().parse(path))
    assert caught.value.field == "amount"


def test_writer_reproduces_the_golden_file_byte_for_byte() -> None:
    out = io.BytesIO()
    count = dsk_csv.write(out, dsk_csv.Adapter().parse(GOLDEN))
    assert count == 7
    assert out.getvalue() == GOLDEN.read_bytes()


@pytest.mark.parametrize("encoding", ["cp932", "utf-8", "utf-8-sig"])
def test_writer_encodings_round_trip(tmp_path: Path, encoding: str) -> None:
    records = list(dsk_csv.Adapter().parse(GOLDEN))
    path = tmp_path / f"out-{encoding}.csv"
    with open(path, "wb") as out:
        dsk_csv.write(out, records, encoding=encoding)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf") == (encoding == "utf-8-sig")
    assert path.read_bytes().count(b"\xef\xbb\xbf") == (encoding == "utf-8-sig")
    assert list(dsk_csv.Adapter().parse(path)) == records


def test_writer_refuses_other_encodings() -> None:
    with pytest.raises(ValueError):
        dsk_csv.write(io.BytesIO(), [], encoding="euc_jp")


def test_writer_shortens_a_fixed120_store_code(tmp_path: Path) -> None:
    """A record read from a fixed120 file (7-digit store) can be written as dsk_csv (6 digits)."""
    from adapters import fixed120

    records = [r for r in fixed120.Adapter().parse(DATA_DIR / "fixed120" / "20261128_daily.txt")]
    path = tmp_path / "from-fixed120.csv"
    with open(path, "wb") as out:
        dsk_csv.write(out, records)
    again = list(dsk_csv.Adapter().parse(path))
    assert [r.store_code for r in again] == [r.store_code[1:] for r in records]
    assert [(r.barcode, r.amount, r.channel_code, r.paid_at) for r in again] == [
        (r.barcode, r.amount, r.channel_code, r.paid_at) for r in records
    ]


# -- record type 81 per agent (adapter option record_type_81)

SKIP_DIR = DATA_DIR / "dsk_csv" / "record-type-81-skip"
SKIP_FILES = sorted(p for p in SKIP_DIR.iterdir() if p.suffix == ".csv")


def _skipped_json(adapter: dsk_csv.Adapter) -> dict[str, dict[str, object]]:
    return {kind: {"records": s.records, "lines": s.lines} for kind, s in adapter.skipped.items()}


@pytest.mark.parametrize("path", SKIP_FILES, ids=lambda p: p.name)
def test_record_type_81_skip_golden_file(path: Path) -> None:
    options = json.loads((SKIP_DIR / "options.json").read_text(encoding="utf-8"))
    adapter = dsk_csv.Adapter(**options)
    assert adapter.identify(path)
    expected_file = path.with_name(path.name + ".expected.json")
    error_file = path.with_name(path.name + ".error.json")
    assert expected_file.exists() != error_file.exists()
    if error_file.exists():
        expected = json.loads(error_file.read_text(encoding="utf-8"))
        with pytest.raises(SettlementFileError) as caught:
            list(adapter.parse(path))
        err = caught.value
        assert type(err).__name__ == expected["error"]
        assert (err.line_no, err.record_type, err.field) == (
            expected["line_no"],
            expected["record_type"],
            expected["field"],
        )
        return
    expected = json.loads(expected_file.read_text(encoding="utf-8"))
    records = [to_jsonable(r) for r in adapter.parse(path)]
    assert records == expected["records"]
    assert _skipped_json(adapter) == expected["skipped"]
    assert to_jsonable(adapter.info(path)) == expected["info"]
    assert adapter.archive_name(path) == expected["archive_name"]


def test_the_skip_folder_holds_the_rejected_file_of_the_top_folder() -> None:
    """The same bytes: rejected by default (the top folder's pair), read with ``skip`` (this folder's)."""
    rejected = DATA_DIR / "dsk_csv" / "record-type-81.csv"
    assert rejected.read_bytes() == (SKIP_DIR / "20261128_daily-with-81.csv").read_bytes()
    with pytest.raises(UnknownRecordType) as raised:
        list(dsk_csv.Adapter().parse(rejected))
    assert (raised.value.line_no, raised.value.field, raised.value.value) == (4, "kind", "81")
    assert dsk_csv.Adapter(record_type_81="reject").record_type_81 == "reject"


def test_info_reads_the_owner_past_a_leading_type_81_row_whatever_the_treatment(tmp_path: Path) -> None:
    lines = GOLDEN.read_bytes().split(b"\r\n")
    path = tmp_path / "first-81.csv"
    path.write_bytes(b"\r\n".join([lines[0], b"81" + lines[1][2:], *lines[1:]]))
    for treatment in dsk_csv.RECORD_TYPE_81_TREATMENTS:
        info = dsk_csv.Adapter(record_type_81=treatment).info(path)
        assert (info.agent_code, info.consignor_code) == ("12345", "00123")


def test_skipped_counts_are_reset_by_each_parse_and_complete_past_the_kept_lines(tmp_path: Path) -> None:
    lines = GOLDEN.read_bytes().split(b"\r\n")
    path = tmp_path / "many-81.csv"
    many = dsk_csv.SKIPPED_LINES_KEPT + 5
    path.write_bytes(b"\r\n".join([lines[0], *([b"81" + lines[1][2:]] * many), lines[1]]) + b"\r\n")
    adapter = dsk_csv.Adapter(record_type_81="skip")
    assert [r.line_no for r in adapter.parse(path)] == [many + 2]
    assert adapter.skipped["81"].records == many
    assert adapter.skipped["81"].lines == list(range(2, dsk_csv.SKIPPED_LINES_KEPT + 2))
    list(adapter.parse(GOLDEN))
    assert adapter.skipped == {}


@pytest.mark.parametrize("treatment", ["as:01", "ignore", "", "SKIP"])
def test_an_unknown_treatment_of_type_81_is_refused(treatment: str) -> None:
    with pytest.raises(ValueError, match="record_type_81"):
        dsk_csv.Adapter(record_type_81=treatment)
