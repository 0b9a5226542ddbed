"""Agent layouts as data: profile checks (one test per rule), the compiled parser against the hand-tuned
``fixed120``, the profile writer, and office profiles in the registry."""

from __future__ import annotations

import copy
import dataclasses
import datetime
import io
import shutil
import tomllib
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import adapters
from adapters import ADAPTERS
from adapters import BUILTIN_PROFILES
from adapters import detect
from adapters import fixed120
from adapters import get_adapter
from adapters import profiles
from adapters import use_profile_dir
from adapters.errors import ProfileError
from adapters.errors import SettlementFileError
from adapters.records import PaymentRecord
from adapters.records import to_jsonable
from bench import fixed120_handtuned
from tests.adapters.adapter_golden import CRASHERS_DIR
from tests.adapters.adapter_golden import DATA_DIR
from tests.adapters.adapter_golden import input_files

PROFILE_DATA = DATA_DIR.parent / "profiles"
SAMPLE_PROFILE = PROFILE_DATA / "sample100.toml"
MIZUHO = profiles.BUILTIN_PROFILE_DIR / "mizuho120.toml"
FIXED120_FILES = [p for p in input_files() if p.parent.name == "fixed120"]
MIZUHO_FILES = [p for p in input_files() if p.parent.name == "mizuho120"]
CRASHERS = sorted(p for p in CRASHERS_DIR.iterdir() if p.is_file())


def _outcome(adapter: adapters.Adapter, path: Path) -> dict[str, Any]:
    """Everything an adapter says about a file: identify, info, archive name, records or the error."""
    result: dict[str, Any] = {"identify": adapter.identify(path)}
    try:
        result["records"] = [to_jsonable(r) for r in adapter.parse(path)]  # type: ignore[arg-type]
    except SettlementFileError as err:
        result["error"] = (type(err).__name__, err.line_no, err.record_type, err.field, err.path, err.adapter)
    try:
        result["info"] = to_jsonable(adapter.info(path))
        result["archive_name"] = adapter.archive_name(path)
    except SettlementFileError as err:
        result["info_error"] = (type(err).__name__, err.line_no, err.record_type, err.field)
    return result


# --- fixed120: the profile gives what the module gives ---------------------------------------------------


def test_fixed120_is_the_compiled_profile() -> None:
    assert ADAPTERS["fixed120"] is fixed120.Adapter is BUILTIN_PROFILES["fixed120"]
    assert issubclass(fixed120.Adapter, profiles.ProfileAdapter)
    assert fixed120.Adapter.profile.path.endswith("fixed120.toml")
    assert ADAPTERS["mizuho120"] is BUILTIN_PROFILES["mizuho120"]


@pytest.mark.parametrize("fast", [True, False], ids=["block-path", "line-path"])
@pytest.mark.parametrize("path", FIXED120_FILES + CRASHERS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fixed120_profile_agrees_with_the_hand_tuned_parser(
    path: Path, fast: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Today's hand-tuned parser (kept in ``bench/`` for the comparison) and the compiled profile give the
    same records, errors, identification and header on every fixed120 golden file and every crasher."""
    monkeypatch.setattr(profiles, "_FAST", fast)
    assert _outcome(fixed120.Adapter(), path) == _outcome(fixed120_handtuned.Adapter(), path)


@pytest.mark.parametrize("path", MIZUHO_FILES, ids=lambda p: p.name)
def test_mizuho120_line_path_agrees_with_the_block_path(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fast = _outcome(get_adapter("mizuho120"), path)
    monkeypatch.setattr(profiles, "_FAST", False)
    assert _outcome(get_adapter("mizuho120"), path) == fast


def test_there_are_fixed120_and_mizuho120_golden_files() -> None:
    assert len(FIXED120_FILES) >= 20 and len(MIZUHO_FILES) >= 15


# --- writers: the same layout the parser reads ------------------------------------------------------------


def _records(name: str, path: Path) -> list[PaymentRecord]:
    return list(get_adapter(name).parse(path))  # type: ignore[arg-type]


def test_profile_writer_writes_fixed120_byte_for_byte() -> None:
    records = _records("fixed120", DATA_DIR / "fixed120" / "20261128_daily.txt")
    header = {
        "created_on": datetime.date(2026, 11, 28),
        "agent_code": "12345",
        "consignor_code": "00123",
        "consignor_name": "ﾃｽﾄｼ ｶｲｹｲｶﾝﾘｼｬ",
    }
    by_module, by_profile = io.BytesIO(), io.BytesIO()
    module_totals = fixed120.write(by_module, records=records, **header)  # type: ignore[arg-type]
    profile_totals = profiles.write(
        BUILTIN_PROFILES["fixed120"].profile, by_profile, records=records, **header
    )  # type: ignore[arg-type]
    assert by_profile.getvalue() == by_module.getvalue()
    assert (profile_totals.counts, profile_totals.amounts) == (module_totals.counts, module_totals.amounts)


@pytest.mark.parametrize("name", ["20261128_daily.txt", "no-payments.txt"])
def test_mizuho120_writer_reproduces_the_golden_file(name: str) -> None:
    """The golden files were assembled byte by byte from the layout, independently of the profile."""
    golden = DATA_DIR / "mizuho120" / name
    records = _records("mizuho120", golden)
    out = io.BytesIO()
    BUILTIN_PROFILES["mizuho120"]().write(
        out,
        created_on=datetime.date(2026, 11, 28),
        agent_code="12345",
        consignor_code="00123",
        consignor_name="ﾃｽﾄｼ ｶｲｹｲｶﾝﾘｼｬ",
        records=records,
    )
    # the writer puts 00 in 客層 (it has no meaning); the golden file has 23 there
    lines = golden.read_bytes().split(b"\r\n")
    lines[1:-3] = [line[:94] + b"00" + line[96:] for line in lines[1:-3]]
    assert out.getvalue() == b"\r\n".join(lines)


def test_writer_refuses_what_does_not_fit() -> None:
    (record, *_) = _records("mizuho120", DATA_DIR / "mizuho120" / "20261128_daily.txt")
    profile = BUILTIN_PROFILES["mizuho120"].profile
    header: dict[str, Any] = {
        "created_on": datetime.date(2026, 11, 28),
        "agent_code": "12345",
        "consignor_code": "00123",
    }
    with pytest.raises(ValueError, match="data kind"):
        profiles.write(profile, io.BytesIO(), records=[_replace(record, kind_code="12")], **header)
    with pytest.raises(ValueError, match="store_code"):
        profiles.write(profile, io.BytesIO(), records=[_replace(record, store_code="12345678")], **header)
    with pytest.raises(ValueError, match="agent_code"):
        profiles.write(
            profile, io.BytesIO(), records=[], created_on=datetime.date(2026, 11, 28), agent_code="1234X"
        )


def _replace(record: PaymentRecord, **changes: Any) -> PaymentRecord:
    return dataclasses.replace(record, **changes)


# --- the office's own profile --------------------------------------------------------------------------


def _sample_file(tmp_path: Path, records: list[PaymentRecord] | None = None) -> Path:
    profile = profiles.load_profile(SAMPLE_PROFILE)
    records = records if records is not None else _sample_records()
    path = tmp_path / "sample-20261128.dat"
    with open(path, "wb") as out:
        profiles.write(
            profile,
            out,
            created_on=datetime.date(2026, 11, 28),
            agent_code="12345",
            consignor_code="00123",
            records=records,
            line_break=b"\n",
        )
    return path


def _sample_records() -> list[PaymentRecord]:
    mizuho = _records("mizuho120", DATA_DIR / "mizuho120" / "20261128_daily.txt")
    codes = {"01": "10", "02": "20"}
    return [
        _replace(r, kind_code=codes[r.kind_code], store_code=r.store_code[1:], channel_code=r.channel_code)
        for r in mizuho
        if r.kind_code in codes
    ]


@pytest.fixture
def office_profiles(tmp_path: Path) -> Iterator[Path]:
    directory = tmp_path / "profiles"
    directory.mkdir()
    shutil.copy(SAMPLE_PROFILE, directory)
    yield directory
    use_profile_dir(None)


def test_office_profile_becomes_an_adapter(office_profiles: Path, tmp_path: Path) -> None:
    assert "sample100" not in ADAPTERS
    assert use_profile_dir(office_profiles) == ["sample100"]
    path = _sample_file(tmp_path)
    adapter = detect(path)
    assert adapter.name == "sample100"
    assert adapters.adapter_labels()["sample100"] == "見本ファクター 固定長100バイト"
    info = adapter.info(path)
    assert (info.adapter, info.agent_code, info.consignor_code, info.created_on) == (
        "sample100",
        "12345",
        "00123",
        datetime.date(2026, 11, 28),
    )
    assert adapter.archive_name(path) == "20261128-sample100-12345-00123.dat"
    records = list(adapter.parse(path))
    want = _sample_records()
    assert [(r.kind, r.barcode, r.amount, r.paid_at) for r in records] == [
        (r.kind, r.barcode, r.amount, r.paid_at) for r in want
    ]
    # the agent's codes 10 and 20 become the gateway's codes of their kinds
    assert [r.kind_code for r in records] == [{"10": "01", "20": "02"}[r.kind_code] for r in want]
    assert [r.channel_code for r in records] == [r.channel_code for r in want]
    assert [r.line_no for r in records] == list(range(2, 2 + len(want)))
    assert all(r.capture_date == datetime.date(2026, 11, 28) for r in records)
    use_profile_dir(None)
    assert "sample100" not in ADAPTERS


def test_office_profile_checks_its_control_totals(office_profiles: Path, tmp_path: Path) -> None:
    use_profile_dir(office_profiles)
    path = _sample_file(tmp_path)
    lines = path.read_bytes().split(b"\n")
    lines[-2] = b"T" + b"%07d" % 99 + lines[-2][8:]  # the trailer's count
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(SettlementFileError) as caught:
        list(get_adapter("sample100").parse(path))
    assert (type(caught.value).__name__, caught.value.field, caught.value.record_type) == (
        "ControlTotalMismatch",
        "count",
        "trailer",
    )


def test_profile_without_end_record_ends_at_the_trailer(office_profiles: Path, tmp_path: Path) -> None:
    use_profile_dir(office_profiles)
    path = _sample_file(tmp_path)
    assert len(list(get_adapter("sample100").parse(path))) == len(_sample_records())
    lines = path.read_bytes().split(b"\n")  # header, data…, trailer, "" (the final line break)
    path.write_bytes(b"\n".join([*lines[:-1], lines[1], b""]))  # a data record after the trailer
    with pytest.raises(SettlementFileError) as caught:
        list(get_adapter("sample100").parse(path))
    assert (type(caught.value).__name__, caught.value.line_no, caught.value.record_type) == (
        "RecordOrderError",
        len(lines),
        "data",
    )
    assert "after the trailer" in caught.value.message


def test_office_profile_text_field_must_be_cp932(office_profiles: Path, tmp_path: Path) -> None:
    use_profile_dir(office_profiles)
    path = _sample_file(tmp_path)
    lines = path.read_bytes().split(b"\n")
    lines[1] = lines[1][:84] + b"\x85\x40" + lines[1][86:]  # not a cp932 character in the memo
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(SettlementFileError) as caught:
        list(get_adapter("sample100").parse(path))
    assert (type(caught.value).__name__, caught.value.line_no, caught.value.field) == (
        "EncodingError",
        2,
        "memo",
    )


def test_office_profiles_are_replaced_not_accumulated(office_profiles: Path, tmp_path: Path) -> None:
    use_profile_dir(office_profiles)
    other = tmp_path / "other"
    other.mkdir()
    document = SAMPLE_PROFILE.read_text(encoding="utf-8").replace('name = "sample100"', 'name = "sample100b"')
    (other / "sample100b.toml").write_text(document, encoding="utf-8")
    assert use_profile_dir(other) == ["sample100b"]
    assert "sample100" not in ADAPTERS and "sample100b" in ADAPTERS


def test_office_profile_may_not_take_a_built_in_name(tmp_path: Path) -> None:
    shutil.copy(MIZUHO, tmp_path)
    with pytest.raises(ProfileError) as caught:
        use_profile_dir(tmp_path)
    assert (Path(caught.value.path or "").name, caught.value.key) == ("mizuho120.toml", "name")
    assert ADAPTERS["mizuho120"] is BUILTIN_PROFILES["mizuho120"]


def test_invalid_office_profile_registers_nothing(office_profiles: Path) -> None:
    (office_profiles / "broken.toml").write_text('name = "broken"\n', encoding="utf-8")
    with pytest.raises(ProfileError) as caught:
        use_profile_dir(office_profiles)
    assert Path(caught.value.path or "").name == "broken.toml"
    assert "sample100" not in ADAPTERS


def test_missing_profile_directory(tmp_path: Path) -> None:
    with pytest.raises(ProfileError):
        use_profile_dir(tmp_path / "nope")


# --- checks when a profile is loaded (one per rule) -----------------------------------------------------


def _document() -> dict[str, Any]:
    with open(MIZUHO, "rb") as f:
        return tomllib.load(f)


def _field(doc: dict[str, Any], record: str, name: str) -> dict[str, Any]:
    return next(f for f in doc["records"][record]["fields"] if f["name"] == name)


def _drop(doc: dict[str, Any], record: str, name: str) -> None:
    doc["records"][record]["fields"] = [f for f in doc["records"][record]["fields"] if f["name"] != name]


Mutation = Callable[[dict[str, Any]], None]

CHECKS: list[tuple[str, Mutation, tuple[str | None, str | None, str | None]]] = [
    # (what is wrong, the change, (record, field, key) the error names)
    ("unknown top-level key", lambda d: d.update(colour="blue"), (None, None, "colour")),
    ("label missing", lambda d: d.pop("label"), (None, None, "label")),
    ("record_length not an integer", lambda d: d.update(record_length="120"), (None, None, "record_length")),
    ("name is not the file's", lambda d: d.update(name="mizuho"), (None, None, "name")),
    ("name not lower_snake", lambda d: d.update(name="Mizuho120"), (None, None, "name")),
    ("encoding not cp932", lambda d: d.update(encoding="utf-8"), (None, None, "encoding")),
    ("kind maps to no gateway kind", lambda d: d["kinds"].update({"04": "refund"}), (None, None, "kinds")),
    (
        "kind code wider than the field",
        lambda d: d["kinds"].update({"004": "confirmed"}),
        (None, None, "kinds"),
    ),
    ("no kinds", lambda d: d.update(kinds={}), (None, None, "kinds")),
    ("trailer missing", lambda d: d["records"].pop("trailer"), ("trailer", None, "records")),
    ("unknown record", lambda d: d["records"].update(footer={"fields": []}), ("footer", None, "records")),
    (
        "overlap",
        lambda d: (
            _drop(d, "data", "customer_segment"),
            d["records"]["data"]["fields"].append({"name": "amount", "start": 95, "end": 102, "type": "N"}),
        ),
        ("data", "amount", None),
    ),
    ("gap", lambda d: _drop(d, "data", "zeros"), ("data", None, "fields")),
    (
        "field past the record",
        lambda d: _field(d, "data", "reserve").update(end=121),
        ("data", "reserve", "end"),
    ),
    ("positions reversed", lambda d: _field(d, "data", "zeros").update(start=95), ("data", "zeros", "start")),
    ("unknown type", lambda d: _field(d, "data", "zeros").update(type="Z"), ("data", "zeros", "type")),
    (
        "date not 8 bytes",
        lambda d: _field(d, "data", "capture_date").update(end=74),
        ("data", "capture_date", "type"),
    ),
    (
        "unknown meaning",
        lambda d: _field(d, "data", "zeros").update(meaning="fee"),
        ("data", "zeros", "meaning"),
    ),
    (
        "required meaning missing",
        lambda d: _field(d, "data", "store_code").pop("meaning"),
        ("data", None, "meaning"),
    ),
    (
        "meaning twice",
        lambda d: _field(d, "data", "customer_segment").update(meaning="store"),
        ("data", "customer_segment", "meaning"),
    ),
    (
        "meaning of the wrong type",
        lambda d: _field(d, "data", "barcode").update(type="N"),
        ("data", "barcode", "type"),
    ),
    (
        "agent code not 5 digits",
        lambda d: (
            _field(d, "header", "agent_code").update(end=15),
            _field(d, "header", "consignor_code").update(start=16),
        ),
        ("header", "agent_code", None),
    ),
    (
        "const of the wrong width",
        lambda d: _field(d, "header", "file_kind").update(const="1"),
        ("header", "file_kind", "const"),
    ),
    (
        "allowed on a text field",
        lambda d: _field(d, "data", "reserve").update(allowed=["1"]),
        ("data", "reserve", "allowed"),
    ),
    (
        "when names an unknown kind",
        lambda d: _field(d, "data", "transfer_date").update(when=["05"]),
        ("data", "transfer_date", "when"),
    ),
    (
        "when on a payment date",
        lambda d: _field(d, "data", "payment_date").update(when=["02"]),
        ("data", "payment_date", "when"),
    ),
    ("unknown field key", lambda d: _field(d, "data", "zeros").update(width=3), ("data", "zeros", "width")),
    (
        "field name twice",
        lambda d: _field(d, "data", "zeros").update(name="reserve"),
        ("data", "reserve", None),
    ),
    (
        "record type not at 1",
        lambda d: _field(d, "end", "record_type").pop("const"),
        ("end", "record_type", None),
    ),
    (
        "record type shared",
        lambda d: _field(d, "trailer", "record_type").update(const="2"),
        ("trailer", "record_type", None),
    ),
    (
        "control names no trailer field",
        lambda d: d["controls"][0].update(field="count_99"),
        ("trailer", "count_99", "controls"),
    ),
    (
        "control total unknown",
        lambda d: d["controls"][0].update(total="average"),
        ("trailer", "count_01", "total"),
    ),
    (
        "control kind unknown",
        lambda d: d["controls"][0].update(kinds=["09"]),
        ("trailer", "count_01", "kinds"),
    ),
    (
        "control on the record type",
        lambda d: d["controls"][0].update(field="record_type"),
        ("trailer", "record_type", "controls"),
    ),
    ("no control totals", lambda d: d.update(controls=[]), (None, None, "controls")),
]


@pytest.mark.parametrize(("problem", "change", "where"), CHECKS, ids=[c[0] for c in CHECKS])
def test_profile_check(
    problem: str, change: Mutation, where: tuple[str | None, str | None, str | None]
) -> None:
    document = copy.deepcopy(_document())
    change(document)
    with pytest.raises(ProfileError) as caught:
        profiles.check_profile(document, "/office/profiles/mizuho120.toml")
    err = caught.value
    assert (err.record_type, err.field, err.key) == where
    assert Path(err.path or "").name == "mizuho120.toml"
    assert str(err).startswith("mizuho120.toml: ")


def test_unchanged_document_is_valid() -> None:
    assert profiles.check_profile(_document(), MIZUHO) == profiles.load_profile(MIZUHO)


def test_error_message_names_file_record_and_field() -> None:
    document = _document()
    _drop(document, "data", "customer_segment")
    document["records"]["data"]["fields"].append({"name": "amount", "start": 95, "end": 102, "type": "N"})
    with pytest.raises(ProfileError) as caught:
        profiles.check_profile(document, "mizuho120.toml")
    assert (
        str(caught.value)
        == 'mizuho120.toml: record "data" field "amount": positions 95-102 overlap "cvs_code" 97-102'
    )


def test_toml_syntax_error_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("name = \n", encoding="utf-8")
    with pytest.raises(ProfileError) as caught:
        profiles.load_profile(path)
    assert caught.value.path == str(path)
    assert str(caught.value).startswith("bad.toml: is not valid TOML")


def test_every_profile_field_says_whether_it_is_verified() -> None:
    for profile in profiles.builtin_profiles():
        for record in profile.records:
            for f in record.fields:
                assert f.source in ("verified", "assumed"), (profile.name, record.name, f.name)
    verified = {f.name for f in BUILTIN_PROFILES["mizuho120"].profile.data.fields if f.source == "verified"}
    assert verified == {"barcode_kind", "barcode", "customer_segment", "cvs_code", "reserve"}
