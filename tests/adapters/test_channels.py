"""The channel table is data (adapters/data/channels.csv): the spec's codes and DSK's published ones."""

from __future__ import annotations

import dataclasses
import datetime
import io
from pathlib import Path

import pytest

from adapters import dsk_csv
from adapters._common import JST
from adapters.channels import CHANNELS
from adapters.errors import UnknownRecordType
from adapters.records import PaymentRecord
from gateway import catalogue

# spec/settlement-formats.md, "Channel codes", copied literally
SPEC = {
    "0010": "Seven-Eleven",
    "0020": "Lawson",
    "0030": "FamilyMart",
    "0050": "Daily Yamazaki",
    "0080": "Ministop",
    "0760": "Seicomart",
    "0730": "Poplar",
    "0820": "PayPay",
    "0780": "au PAY",
    "0800": "d払い",
    "0910": "postal transfer",
    "0911": "postal transfer",
}
# DSK's published channel list, the codes the spec lacks (background: agents-channels-printing.md §3)
DSK = {
    "0530": "PayB",
    "0680": "クレジットカード集信代行(自治体専用)",
    "0750": "J-Coin",
    "0810": "LINE Pay",
    "0830": "楽天銀行",
    "0840": "銀行Pay",
    "0890": "MMK設置店",
}


def test_every_code_of_the_spec_and_of_dsk_is_in_the_table() -> None:
    assert set(SPEC) | set(DSK) <= set(CHANNELS)
    for code, name in DSK.items():
        assert CHANNELS[code].name == name


@pytest.mark.parametrize(("code", "label"), [("0840", "銀行Pay"), ("0820", "PayPay"), ("0999", "その他")])
def test_staff_pages_label_channels_from_the_table(code: str, label: str) -> None:
    assert catalogue.label("channel", code) == label


def test_the_dsk_writer_names_chains_as_the_agent_spells_them() -> None:
    row = PaymentRecord(
        line_no=1,
        kind="preliminary",
        kind_code="01",
        barcode="91912345001232600000123400300026013100100001",
        issuer_prefix="912345",
        agent_code="12345",
        consignor_code="00123",
        payment_number="2600000123400300",
        reissue_count=0,
        barcode_expiry=datetime.date(2026, 1, 31),
        amount=10000,
        paid_at=datetime.datetime(2026, 1, 12, 11, 45, tzinfo=JST),
        channel_code="0010",
        store_code="0110002",
        transfer_date=None,
        accounting_date=None,
        capture_date=datetime.date(2026, 1, 13),
        postal_correction=False,
    )
    out = io.BytesIO()
    dsk_csv.write(out, [row, dataclasses.replace(row, channel_code="0530")], encoding="utf-8")
    lines = out.getvalue().decode("utf-8").splitlines()
    assert '"セブン－イレブン"' in lines[1] and '"PayB"' in lines[2]


def test_a_dsk_file_with_record_type_81_is_rejected_at_its_line(tmp_path: Path) -> None:
    sample = (
        "01,20240112,1145,EAN91929023252070000010123499900299999900154357,000001,01234999002,0,15435,020,"
    )
    row = sample + '"ローソン",110002,0,20240117'
    path = tmp_path / "syuno.csv"
    path.write_text(",".join(dsk_csv.HEADER) + "\n" + row + "\n" + "81" + row[2:] + "\n", encoding="utf-8")
    with pytest.raises(UnknownRecordType) as raised:
        list(dsk_csv.Adapter().parse(path))
    assert (raised.value.line_no, raised.value.field, raised.value.value) == (3, "kind", "81")
    assert "DSK does not publish" in str(raised.value)
