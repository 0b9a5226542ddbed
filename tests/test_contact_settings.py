"""The office's contact settings (GATEWAY_CONTACT_*, GATEWAY_COUNTER_BANK): checked when the configuration
loads, synthetic only for the demo, required for a real office, never a word that tells why money is owed."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config import DEMO_CONTACT
from gateway.config import load_settings
from gateway.errors import ConfigError

OFFICE = {
    "GATEWAY_ISSUER_NAME": "試験市",
    "GATEWAY_CONTACT_NAME": "試験市 会計課 収納係",
    "GATEWAY_CONTACT_PHONE": "０１２－３４５－６７８９",
    "GATEWAY_CONTACT_HOURS": "平日 9時〜17時",
    "GATEWAY_COUNTER_BANK": "指定金融機関(試験銀行)の窓口",
}


def _load(tmp_path: Path, environ: dict[str, str]):  # type: ignore[no-untyped-def]
    # keys given, so nothing is written into an instance folder
    overrides = {"secret_key": "s", "data_key": "d", "instance_dir": str(tmp_path)}
    return load_settings(environ=environ, overrides=overrides)


def test_the_demo_gets_the_synthetic_contact(tmp_path: Path) -> None:
    settings = _load(tmp_path, {})
    assert settings.issuer_name == "見本市"
    assert settings.contact_name == DEMO_CONTACT["contact_name"] == "見本市 会計課 収納係"
    assert settings.contact_phone == "000-0000-0000"
    assert settings.contact_hours == "平日 8時30分〜17時15分"
    assert settings.counter_bank == "指定金融機関(見本銀行)の窓口"


def test_an_office_contact_is_read_and_the_phone_normalised(tmp_path: Path) -> None:
    settings = _load(tmp_path, OFFICE)
    assert settings.contact_name == "試験市 会計課 収納係"
    assert settings.contact_phone == "012-345-6789"
    assert settings.contact_hours == "平日 9時〜17時"
    assert settings.counter_bank == "指定金融機関(試験銀行)の窓口"


@pytest.mark.parametrize(
    "missing",
    ["GATEWAY_CONTACT_NAME", "GATEWAY_CONTACT_PHONE", "GATEWAY_CONTACT_HOURS", "GATEWAY_COUNTER_BANK"],
)
def test_a_real_office_must_set_every_contact_setting(tmp_path: Path, missing: str) -> None:
    environ = {k: v for k, v in OFFICE.items() if k != missing}
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, environ)
    assert info.value.field == missing
    # the same with the demo issuer: half a contact is never completed with the demo's values
    environ.pop("GATEWAY_ISSUER_NAME")
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, environ)
    assert info.value.field == missing


def test_an_issuer_without_a_contact_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, {"GATEWAY_ISSUER_NAME": "試験市"})
    assert info.value.field == "GATEWAY_CONTACT_NAME"


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("GATEWAY_CONTACT_NAME", "試験市 保護課"),
        ("GATEWAY_CONTACT_NAME", "試験市 生活保護担当"),
        ("GATEWAY_CONTACT_NAME", "試験市福祉事務所"),
        ("GATEWAY_CONTACT_NAME", "試験市 ｹｰｽﾜｰｶｰ"),
        ("GATEWAY_CONTACT_NAME", "試験市 徴収金係"),
        ("GATEWAY_CONTACT_HOURS", "平日(福祉の日を除く)"),
        ("GATEWAY_COUNTER_BANK", "扶助銀行の窓口"),
    ],
)
def test_a_welfare_word_in_a_contact_setting_is_refused(tmp_path: Path, setting: str, value: str) -> None:
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, {**OFFICE, setting: value})
    assert info.value.field == setting


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("GATEWAY_CONTACT_PHONE", "012-345-678"),  # 9 digits
        ("GATEWAY_CONTACT_PHONE", "012-3456-78901"),  # 12 digits
        ("GATEWAY_CONTACT_PHONE", "012(345)6789"),
        ("GATEWAY_CONTACT_PHONE", "+81-12-345-6789"),
        ("GATEWAY_CONTACT_PHONE", "012-345-6789 内線12"),
        ("GATEWAY_CONTACT_PHONE", "-012-345-6789"),
        ("GATEWAY_CONTACT_NAME", "試" * 25),
        ("GATEWAY_CONTACT_HOURS", "平日" * 13),
        ("GATEWAY_COUNTER_BANK", "試" * 31),
        ("GATEWAY_CONTACT_NAME", "試験市\n会計課"),
        ("GATEWAY_CONTACT_HOURS", "   "),
    ],
)
def test_a_contact_that_does_not_fit_the_slip_is_refused(tmp_path: Path, setting: str, value: str) -> None:
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, {**OFFICE, setting: value})
    assert info.value.field == setting


def test_the_longest_accepted_contact_loads(tmp_path: Path) -> None:
    environ = {
        **OFFICE,
        "GATEWAY_CONTACT_NAME": "試" * 24,
        "GATEWAY_CONTACT_HOURS": "試" * 24,
        "GATEWAY_COUNTER_BANK": "試" * 30,
        "GATEWAY_CONTACT_PHONE": "090-1234-5678",
    }
    assert _load(tmp_path, environ).contact_name == "試" * 24


def test_env_example_contact_is_synthetic_and_loads(tmp_path: Path) -> None:
    text = (Path(__file__).parent.parent / ".env.example").read_text()
    example = dict(
        line.split("=", 1)
        for line in text.splitlines()
        if line.startswith(("GATEWAY_CONTACT_", "GATEWAY_COUNTER_BANK", "GATEWAY_ISSUER_NAME"))
    )
    assert set(example) == {*OFFICE}
    settings = _load(tmp_path, example)
    assert {name: getattr(settings, name) for name in DEMO_CONTACT} == DEMO_CONTACT
