"""The error family: hierarchy, attributes, rendering, pickling, chained barcode causes."""

from __future__ import annotations

import pickle

import pytest

from adapters import get_adapter
from adapters.errors import AmbiguousFileFormat
from adapters.errors import ControlTotalMismatch
from adapters.errors import DuplicateFile
from adapters.errors import EncodingError
from adapters.errors import FieldError
from adapters.errors import RecordError
from adapters.errors import RecordLengthError
from adapters.errors import RecordOrderError
from adapters.errors import SettlementFileError
from adapters.errors import UnknownAdapter
from adapters.errors import UnknownFileFormat
from adapters.errors import UnknownRecordType
from barcodes.exceptions import InvalidChecksum
from tests.adapters.adapter_golden import DATA_DIR


@pytest.mark.parametrize(
    ("cls", "base"),
    [
        (UnknownFileFormat, SettlementFileError),
        (UnknownAdapter, UnknownFileFormat),
        (AmbiguousFileFormat, SettlementFileError),
        (DuplicateFile, SettlementFileError),
        (RecordError, SettlementFileError),
        (RecordLengthError, RecordError),
        (UnknownRecordType, RecordError),
        (FieldError, RecordError),
        (RecordOrderError, RecordError),
        (EncodingError, RecordError),
        (ControlTotalMismatch, SettlementFileError),
    ],
)
def test_hierarchy(cls: type[Exception], base: type[Exception]) -> None:
    assert issubclass(cls, base)


def test_location_attributes_and_message() -> None:
    err = RecordLengthError(
        120, 119, path="/in/20261127.txt", adapter="fixed120", line_no=3, record_type="data", record_no=2
    )
    assert (err.expected, err.actual) == (120, 119)
    assert (err.path, err.line_no, err.record_type, err.record_no, err.field) == (
        "/in/20261127.txt",
        3,
        "data",
        2,
        None,
    )
    assert str(err).startswith("fixed120 20261127.txt line 3 (data record 2): ")


def test_control_total_mismatch_carries_both_values() -> None:
    err = ControlTotalMismatch("amount_01", 12000, 12500, description="sum of 01 amounts", line_no=9)
    assert (err.field, err.calculated, err.control, err.line_no) == ("amount_01", 12000, 12500, 9)
    assert "12000" in str(err) and "12500" in str(err)


def test_locate_fills_only_what_is_missing() -> None:
    err = FieldError("bad", path="a.txt", line_no=2)
    err.locate("b.txt", "dsk_csv")
    assert (err.path, err.adapter) == ("a.txt", "dsk_csv")


def test_long_values_are_shortened_in_the_message() -> None:
    err = FieldError("bad", field="x", value="9" * 500)
    assert len(str(err)) < 120
    assert err.value == "9" * 500


@pytest.mark.parametrize(
    "err",
    [
        FieldError("bad", path="a.txt", adapter="fixed120", line_no=2, field="barcode", value="91"),
        RecordLengthError(200, 199, line_no=3),
        UnknownRecordType("7", line_no=4, field="record_type"),
        ControlTotalMismatch("count_01", 3, 4, line_no=9),
        AmbiguousFileFormat(["a", "b"], path="x"),
        UnknownAdapter("x", ["fixed120"]),
        DuplicateFile("ab" * 32),
    ],
)
def test_errors_pickle_with_their_attributes(err: SettlementFileError) -> None:
    copy = pickle.loads(pickle.dumps(err))
    assert type(copy) is type(err)
    assert copy.__dict__ == err.__dict__
    assert str(copy) == str(err)


def test_bad_barcode_is_a_field_error_with_the_barcode_error_chained() -> None:
    path = DATA_DIR / "fixed120" / "bad-check-digit.txt"
    with pytest.raises(FieldError) as caught:
        list(get_adapter("fixed120").parse(path))
    assert caught.value.field == "barcode"
    assert isinstance(caught.value.__cause__, InvalidChecksum)
    assert caught.value.value is not None and len(caught.value.value) == 44


def test_bad_dsk_barcode_is_chained_too() -> None:
    path = DATA_DIR / "dsk_csv" / "bad-check-digit.csv"
    with pytest.raises(FieldError) as caught:
        list(get_adapter("dsk_csv").parse(path))
    assert isinstance(caught.value.__cause__, InvalidChecksum)
