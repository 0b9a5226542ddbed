"""``fixed120``: writer, fast path versus ``barcodes.cvs``, streaming, caches, identification.

The parser is compiled from ``fixed120.toml``; its block and line paths switch in ``adapters.profiles``.
"""

from __future__ import annotations

import dataclasses
import datetime
import io
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from adapters import fixed120
from adapters import profiles
from adapters.errors import ControlTotalMismatch
from adapters.errors import FieldError
from adapters.errors import RecordLengthError
from adapters.errors import SettlementFileError
from adapters.records import PaymentRecord
from barcodes import cvs
from tests.adapters.adapter_golden import DATA_DIR

JST = ZoneInfo("Asia/Tokyo")
GOLDEN = DATA_DIR / "fixed120" / "20261128_daily.txt"


class Row(NamedTuple):
    kind_code: str
    barcode: str
    paid_at: datetime.datetime
    channel_code: str = "0010"
    store_code: str = "0012345"
    transfer_date: datetime.date | None = None
    accounting_date: datetime.date | None = None
    capture_date: datetime.date | None = datetime.date(2026, 11, 28)


BARCODE = cvs.compose(
    issuer_prefix="912345",
    consignor_code="00123",
    payment_number="2600000123400100",
    reissue_count=0,
    expiry=datetime.date(2026, 12, 31),
    amount=10000,
)
PAID = datetime.datetime(2026, 11, 27, 9, 5, tzinfo=JST)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder for generated files (module scope, so hypothesis tests can use it)."""
    return tmp_path_factory.mktemp("fixed120")


def write_file(rows: list[Row], name: str, directory: Path) -> Path:
    out = io.BytesIO()
    fixed120.write(
        out,
        created_on=datetime.date(2026, 11, 28),
        agent_code="12345",
        consignor_code="00123",
        consignor_name="ﾃｽﾄ",
        records=rows,
    )
    path = directory / name
    path.write_bytes(out.getvalue())
    return path


def parse(path: Path) -> list[PaymentRecord]:
    return list(fixed120.Adapter().parse(path))


def test_writer_reproduces_the_golden_file_byte_for_byte() -> None:
    adapter = fixed120.Adapter()
    info = adapter.info(GOLDEN)
    out = io.BytesIO()
    totals = fixed120.write(
        out,
        created_on=info.created_on,  # type: ignore[arg-type]
        agent_code=info.agent_code,  # type: ignore[arg-type]
        consignor_code=info.consignor_code,  # type: ignore[arg-type]
        consignor_name=info.consignor_name,  # type: ignore[arg-type]
        records=adapter.parse(GOLDEN),
    )
    assert out.getvalue() == GOLDEN.read_bytes()
    assert totals.counts == {"01": 4, "02": 2, "03": 1}
    assert totals.amounts == {"01": 350435, "02": 5001, "03": 300000}


def test_writer_converts_paid_at_to_japan_time(scratch: Path) -> None:
    utc = datetime.datetime(2026, 11, 27, 15, 30, tzinfo=datetime.UTC)  # 00:30 on the 28th in Japan
    (record,) = parse(write_file([Row("01", BARCODE, utc)], "utc.txt", scratch))
    assert record.paid_at == utc
    assert (record.paid_at.date(), record.paid_at.hour, record.paid_at.minute) == (
        datetime.date(2026, 11, 28),
        0,
        30,
    )
    assert record.paid_at.utcoffset() == datetime.timedelta(hours=9)


@pytest.mark.parametrize(
    "row",
    [
        Row("12", BARCODE, PAID),  # a dsk_csv kind
        Row("01", BARCODE, PAID.replace(tzinfo=None)),  # naive time
        Row("02", BARCODE, PAID),  # confirmed without dates
        Row("01", BARCODE, PAID, transfer_date=datetime.date(2026, 12, 4)),  # dates on a preliminary
        Row("02", BARCODE, PAID, transfer_date=datetime.date(2026, 12, 4)),  # accounting date missing
        Row("01", BARCODE, PAID, capture_date=None),
        Row("01", BARCODE[:-1], PAID),  # 43 digits
        Row("01", BARCODE, PAID, store_code="12345678"),
        Row("01", BARCODE, PAID, channel_code="0A10"),
    ],
)
def test_writer_refuses_what_does_not_fit(row: Row) -> None:
    with pytest.raises(ValueError):
        fixed120.write(
            io.BytesIO(),
            created_on=datetime.date(2026, 11, 28),
            agent_code="12345",
            consignor_code="00123",
            consignor_name="",
            records=[row],
        )


def test_writer_refuses_a_long_consignor_name() -> None:
    with pytest.raises(ValueError):
        fixed120.write(
            io.BytesIO(),
            created_on=datetime.date(2026, 11, 28),
            agent_code="12345",
            consignor_code="00123",
            consignor_name="会" * 21,  # 42 bytes in cp932
            records=[],
        )


def test_records_are_plain_frozen_payment_records() -> None:
    records = parse(GOLDEN)
    first = records[0]
    assert type(first) is PaymentRecord
    rebuilt = PaymentRecord(**{f.name: getattr(first, f.name) for f in dataclasses.fields(PaymentRecord)})
    assert first == rebuilt and hash(first) == hash(rebuilt)
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.amount = 1  # type: ignore[misc]
    assert records[2] != records[3]  # the 01 and the 03 of the same payment differ by kind
    assert first.paid_at.tzinfo is not None
    assert pickle.loads(pickle.dumps(first)) == first
    assert dataclasses.replace(first, amount=1).amount == 1


def test_parse_streams_records_before_reading_the_rest() -> None:
    iterator = fixed120.Adapter().parse(DATA_DIR / "fixed120" / "short-line.txt")
    assert next(iterator).line_no == 2  # the good record comes out before line 3 is even looked at
    with pytest.raises(RecordLengthError):
        next(iterator)


def test_control_totals_fail_after_the_last_record_was_yielded() -> None:
    seen: list[PaymentRecord] = []
    with pytest.raises(ControlTotalMismatch) as caught:
        seen.extend(fixed120.Adapter().parse(DATA_DIR / "fixed120" / "trailer-sum-off.txt"))
    assert len(seen) == 7  # extend() appended each record as it came, before the trailer failed
    assert (caught.value.calculated, caught.value.control) == (350435, 350436)


def test_small_caches_give_the_same_records(monkeypatch: pytest.MonkeyPatch) -> None:
    expected = parse(GOLDEN)
    monkeypatch.setattr(profiles, "DATE_CACHE_LIMIT", 1)
    assert parse(GOLDEN) == expected


def test_a_large_generated_file_round_trips(scratch: Path) -> None:
    def rows() -> Iterator[Row]:
        for i in range(20_000):
            barcode = cvs.compose(
                issuer_prefix="912345",
                consignor_code="00123",
                payment_number=cvs.compose_payment_number(2026, 1 + i, 1 + i % 7),
                reissue_count=i % 10,
                expiry=None if i % 11 == 0 else datetime.date(2027, 1 + i % 12, 1 + i % 28),
                amount=i % 300_001,
            )
            kind = ("01", "02", "03")[i % 3]
            dates = datetime.date(2026, 12, 1 + i % 20) if kind == "02" else None
            paid = datetime.datetime(2026, 11, 1, tzinfo=JST) + datetime.timedelta(minutes=i * 7)
            yield Row(kind, barcode, paid, f"{(i % 99) * 10:04d}", f"{i:07d}", dates, dates, paid.date())

    path = write_file(list(rows()), "large.txt", scratch)  # 2.4 MB: records straddle read blocks
    records = parse(path)
    assert len(records) == 20_000
    lf = scratch / "large-lf.txt"
    lf.write_bytes(path.read_bytes().replace(b"\r\n", b"\n"))
    assert parse(lf) == records
    for row, record in zip(rows(), records, strict=True):
        assert (record.kind_code, record.barcode, record.paid_at, record.channel_code) == row[:4]
        assert (record.store_code, record.transfer_date, record.accounting_date, record.capture_date) == row[
            4:
        ]
        assert record.amount == int(row.barcode[37:43])
        assert record.barcode_expiry == cvs.parse(row.barcode).expiry


DIGITS_42 = st.text(alphabet="0123456789", min_size=42, max_size=42)


@settings(max_examples=300, deadline=None, database=None)
@given(body=DIGITS_42, ai=st.sampled_from(["91", "91", "91", "19", "90"]))
def test_fast_barcode_check_agrees_with_barcodes_cvs(scratch: Path, body: str, ai: str) -> None:
    digits = ai + body
    path = write_file([Row("01", digits, PAID)], "cd.txt", scratch)
    if cvs.is_valid(digits):
        (record,) = parse(path)
        assert record.barcode == digits
        assert record.barcode_expiry == cvs.parse(digits).expiry
    else:
        with pytest.raises(FieldError) as caught:
            parse(path)
        assert caught.value.field == "barcode"


@settings(max_examples=100, deadline=None, database=None)
@given(position=st.integers(min_value=0, max_value=43), delta=st.integers(min_value=1, max_value=9))
def test_any_single_digit_change_is_caught(scratch: Path, position: int, delta: int) -> None:
    changed = BARCODE[:position] + str((int(BARCODE[position]) + delta) % 10) + BARCODE[position + 1 :]
    with pytest.raises(FieldError):
        parse(write_file([Row("01", changed, PAID)], "one-digit.txt", scratch))


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"1",
        b"1" + b"2" * 119,  # no date
        b"120261131" + b"0" * 111 + b"\r\n",  # not a real date
        b"120261128" + b"0" * 111 + b"xx",  # a longer first line
        b"12026112812345001234" + b" " * 100 + b" " * 80,  # 200 bytes on one line (a Zengin length)
        (DATA_DIR / "zengin_transfer" / "20261204_transfer.txt").read_bytes(),
        (DATA_DIR / "dsk_csv" / "20261128_daily.csv").read_bytes(),
    ],
)
def test_identify_rejects_other_shapes(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "identify.txt"
    path.write_bytes(content)
    assert fixed120.Adapter().identify(path) is False


def test_identify_never_raises_on_a_missing_file(tmp_path: Path) -> None:
    assert fixed120.Adapter().identify(tmp_path / "absent.txt") is False


def test_info_of_the_golden_file() -> None:
    info = fixed120.Adapter().info(GOLDEN)
    assert (info.agent_code, info.consignor_code, info.consignor_name) == ("12345", "00123", "ﾃｽﾄｼ ｶｲｹｲｶﾝﾘｼｬ")
    assert info.created_on == datetime.date(2026, 11, 28)


def test_layouts_tile_the_record() -> None:
    for layout in (fixed120.HEADER, fixed120.DATA, fixed120.TRAILER, fixed120.END):
        assert sum(f.length for f in layout.fields) == 120


def _outcome(path: Path) -> object:
    try:
        return parse(path)
    except SettlementFileError as err:
        return (type(err).__name__, err.line_no, err.record_type, err.field)


def test_fast_and_line_by_line_paths_agree_on_a_large_file(
    scratch: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [
        Row(("01", "02", "03")[i % 3], BARCODE, PAID + datetime.timedelta(minutes=i), f"{i % 10 * 10:04d}")
        for i in range(5000)
    ]
    rows = [
        r._replace(transfer_date=r.paid_at.date(), accounting_date=r.paid_at.date())
        if r.kind_code == "02"
        else r
        for r in rows
    ]
    path = write_file(rows, "paths.txt", scratch)
    fast = _outcome(path)
    monkeypatch.setattr(profiles, "_FAST", False)
    assert _outcome(path) == fast
    assert isinstance(fast, list) and len(fast) == 5000


@settings(max_examples=200, deadline=None, database=None)
@given(
    line=st.integers(min_value=2, max_value=8),
    column=st.integers(min_value=0, max_value=121),
    byte=st.sampled_from(b"0123456789 \r\nA\x00"),
)
def test_fast_and_line_by_line_paths_agree_on_damaged_files(
    scratch: Path, line: int, column: int, byte: int
) -> None:
    """A damaged data record gives the same records or the same error on both paths."""
    data = bytearray(GOLDEN.read_bytes())
    data[(line - 1) * 122 + column] = byte
    path = scratch / "damaged.txt"
    path.write_bytes(bytes(data))
    fast = _outcome(path)
    profiles._FAST = False
    try:
        slow = _outcome(path)
    finally:
        profiles._FAST = True
    assert slow == fast
