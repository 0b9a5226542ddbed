"""Keys, configuration, the audit chain, the business calendar and the public process."""

from __future__ import annotations

import base64
import datetime
import io

import pytest
import sqlalchemy as sa

from gateway import audit
from gateway import business_calendar as cal
from gateway import create_app
from gateway.config import load_settings
from gateway.crypto import DecryptionError
from gateway.crypto import Keyring
from gateway.crypto import KeyUnavailable
from gateway.errors import ConfigError
from gateway.runtime import Runtime
from tests.helpers import make_claim

D = datetime.date
OTHER_KEY = base64.urlsafe_b64encode(b"o" * 32).decode()


def test_a_different_data_key_is_refused(settings):
    from dataclasses import replace

    with pytest.raises(ConfigError) as info:
        Runtime.load(replace(settings, data_key=OTHER_KEY))
    assert "GATEWAY_DATA_KEY" in info.value.message


def test_postgres_requires_keys(tmp_path):
    with pytest.raises(ConfigError):
        load_settings(environ={"GATEWAY_DATABASE_URL": "postgresql+psycopg://x@localhost/db"})


def test_sqlite_generates_keys_once_into_the_instance_folder(tmp_path):
    env = {"GATEWAY_INSTANCE_DIR": str(tmp_path / "inst")}
    first = load_settings(environ=env)
    second = load_settings(environ=env)
    assert first.data_key and first.data_key == second.data_key
    assert first.secret_key == second.secret_key != first.data_key
    assert oct((tmp_path / "inst" / "data_key").stat().st_mode)[-3:] == "600"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("GATEWAY_ISSUER_PREFIX", "812345"),
        ("GATEWAY_CONSIGNOR_CODE", "12"),
        ("GATEWAY_SLIP_AMOUNT_CAP", "x"),
        ("GATEWAY_MODE", "other"),
    ],
)
def test_bad_settings_are_refused(tmp_path, key, value):
    with pytest.raises(ConfigError):
        load_settings(environ={"GATEWAY_INSTANCE_DIR": str(tmp_path), key: value})


def test_field_encryption_binds_the_field_name():
    keys = Keyring.from_data_key(base64.urlsafe_b64encode(b"k" * 32).decode())
    token = keys.encrypt_field("見本 花子", "debtor.name")
    assert token and "見本" not in token
    assert keys.decrypt_field(token, "debtor.name") == "見本 花子"
    with pytest.raises(DecryptionError):
        keys.decrypt_field(token, "debtor.address")
    with pytest.raises(DecryptionError):
        Keyring.from_data_key(OTHER_KEY).decrypt_field(token, "debtor.name")


def test_archive_stream_round_trip_and_tamper_detection():
    keys = Keyring.from_data_key(base64.urlsafe_b64encode(b"k" * 32).decode())
    original = bytes(range(256)) * 9000  # 2.3 MB: several segments
    sealed = io.BytesIO()
    writer = keys.archive_writer(sealed)
    writer.write(original[:1000])
    writer.write(original[1000:])
    writer.close()
    assert b"".join(keys.archive_reader(io.BytesIO(sealed.getvalue()))) == original
    truncated = sealed.getvalue()[: len(sealed.getvalue()) // 2]
    with pytest.raises(DecryptionError):
        b"".join(keys.archive_reader(io.BytesIO(truncated)))
    flipped = bytearray(sealed.getvalue())
    flipped[100] ^= 1
    with pytest.raises(DecryptionError):
        b"".join(keys.archive_reader(io.BytesIO(bytes(flipped))))


def test_public_keyring_cannot_read_personal_data_or_archives():
    full = Keyring.from_data_key(base64.urlsafe_b64encode(b"k" * 32).decode())
    public = Keyring.from_public(full.export_public())
    assert public.fingerprint == full.fingerprint
    token = full.encrypt_field("見本", "debtor.name")
    with pytest.raises(KeyUnavailable):
        public.decrypt_field(token, "debtor.name")
    secret = full.encrypt_secret("s3cret", "key-1")
    assert public.decrypt_secret(secret, "key-1") == "s3cret"
    sealed = io.BytesIO()
    writer = public.archive_writer(sealed)
    writer.write(b"agent file")
    writer.close()
    with pytest.raises(KeyUnavailable):
        list(public.archive_reader(io.BytesIO(sealed.getvalue())))
    assert b"".join(full.archive_reader(io.BytesIO(sealed.getvalue()))) == b"agent file"


def test_public_process_serves_only_public_parts(settings, runtime):
    from dataclasses import replace

    public_settings = replace(
        settings, mode="public", data_key="", public_keyring=runtime.keys.export_public()
    )
    app = create_app(runtime=Runtime.load(public_settings))
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    assert client.get("/p/whatever").status_code == 404
    assert client.get("/login").status_code == 404
    assert client.get("/api/v1/claims").status_code == 404


def test_audit_chain_verifies_and_detects_tampering(ctx):
    make_claim(ctx, "T-0001")
    make_claim(ctx, "T-0002")
    result = audit.verify(ctx.session)
    assert result.ok and result.events >= 2
    ctx.session.execute(sa.text("UPDATE audit_events SET detail = '{\"amount\": 1}' WHERE id = 2"))
    ctx.session.commit()
    broken = audit.verify(ctx.session)
    assert not broken.ok and broken.first_bad_id == 2


def test_audit_chain_detects_a_removed_event(ctx):
    for n in range(3):
        make_claim(ctx, f"T-000{n}")
    ctx.session.execute(sa.text("DELETE FROM audit_events WHERE id = 2"))
    ctx.session.commit()
    assert not audit.verify(ctx.session).ok


def test_every_mutation_leaves_an_audit_event(ctx):
    from gateway.issuing import slips as slip_service

    make_claim(ctx)
    (slip,) = slip_service.issue_slips(ctx, "T-0001")
    slip_service.void_slip(ctx, slip.slip_number, "x")
    actions = ctx.session.execute(sa.text("SELECT action FROM audit_events ORDER BY id")).scalars().all()
    assert actions == ["claim.create", "slip.issue", "slip.void"]


def test_a_failed_mutation_leaves_nothing(ctx):
    from gateway.errors import Conflict

    make_claim(ctx)
    with pytest.raises(Conflict):
        make_claim(ctx)
    assert ctx.session.execute(sa.text("SELECT count(*) FROM audit_events")).scalar_one() == 1


@pytest.mark.parametrize(
    ("day", "open_"),
    [
        (D(2026, 11, 23), False),  # 勤労感謝の日 (Monday)
        (D(2026, 11, 24), True),
        (D(2026, 11, 28), False),  # Saturday
        (D(2026, 12, 29), False),  # year-end closure
        (D(2027, 1, 3), False),
        (D(2027, 1, 4), True),
        (D(2026, 5, 6), False),  # 振替休日
        (D(2026, 9, 22), False),  # 国民の休日
    ],
)
def test_office_days(day, open_):
    assert cal.is_office_day(day) is open_


def test_business_date_is_japan_time_whatever_the_machine(ctx, clock, monkeypatch):
    monkeypatch.setenv("TZ", "America/Los_Angeles")
    clock.set(datetime.datetime(2026, 11, 27, 23, 30, tzinfo=datetime.UTC))  # 08:30 on the 28th in Tokyo
    assert ctx.today() == D(2026, 11, 28)


def test_env_example_lists_every_setting():
    from dataclasses import fields
    from pathlib import Path

    from gateway.config import Settings

    text = (Path(__file__).parent.parent / ".env.example").read_text()
    listed = {line.split("=", 1)[0].lstrip("# ").strip() for line in text.splitlines() if "=" in line}
    for f in fields(Settings):
        if f.name != "extra":
            assert f"GATEWAY_{f.name.upper()}" in listed, f.name


def test_inbox_and_archive_default_under_the_instance_folder(tmp_path):
    settings = load_settings(environ={"GATEWAY_INSTANCE_DIR": str(tmp_path / "x")})
    assert settings.inbox_dir == str(tmp_path / "x" / "inbox")
    assert settings.archive_dir == str(tmp_path / "x" / "archive")
