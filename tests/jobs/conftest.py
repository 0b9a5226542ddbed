"""Fixtures for the scheduler, inbox and fetch tests: the fetched_files table, a stand-in for the ingest
service (the contract of ``gateway.intake.ingest.ingest_file``), and a local HTTPS server."""

from __future__ import annotations

import hashlib
import importlib
import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from gateway import jobs
from gateway.db import get_engine
from gateway.models.fetch import FetchedFile
from gateway.operations import jobdefs  # the office's jobs, registered on import
from tests.jobs.https_server import CertFiles
from tests.jobs.https_server import Server
from tests.jobs.https_server import make_ca
from tests.jobs.https_server import serving


@pytest.fixture(autouse=True)
def fetched_files_table(db_url: str) -> None:
    """``fetched_files`` until its migration exists (then this is a no-op)."""
    FetchedFile.__table__.create(get_engine(db_url), checkfirst=True)  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def job_registry() -> Iterator[None]:
    """Jobs registered by a test disappear after it (the office's own, from :mod:`jobdefs`, stay)."""
    assert jobdefs.names()
    before = dict(jobs.JOBS)
    yield
    jobs.JOBS.clear()
    jobs.JOBS.update(before)


@dataclass
class FakeResult:
    doc: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return dict(self.doc)


@dataclass
class FakeIngest:
    """Stands in for ``ingest_file``: content starting with ``BAD`` is rejected (line 2, field amount),
    content seen before is ``duplicate_file``, the rest is accepted. ``fail_on`` names raise."""

    calls: list[dict[str, Any]] = field(default_factory=list)
    stored: dict[str, str] = field(default_factory=dict)
    fail_on: set[str] = field(default_factory=set)

    def __call__(self, ctx: Any, path: Path, **options: Any) -> FakeResult:
        data = Path(path).read_bytes()
        name = options.get("original_name") or Path(path).name
        self.calls.append({"path": Path(path), "name": name, "data": data, **options})
        if name in self.fail_on:
            raise RuntimeError(f"database went away while ingesting {name}")
        sha = hashlib.sha256(data).hexdigest()
        doc: dict[str, Any] = {
            "file": name,
            "adapter": "fake",
            "sha256": sha,
            "records": 1,
            "new_records": 0,
            "duplicate_records": 0,
            "amount": 100,
            "counts_by_kind": {},
            "amounts_by_kind": {},
            "error": None,
        }
        if data.startswith(b"BAD"):
            doc.update(status="rejected", error={"line": 2, "field": "amount", "message": "not a number"})
        elif sha in self.stored:
            doc.update(status="duplicate_file", duplicate_records=1)
        else:
            self.stored[sha] = name
            doc.update(status="accepted", new_records=1)
        return FakeResult(doc)

    def names(self) -> list[str]:
        return [c["name"] for c in self.calls]


@pytest.fixture
def fake_ingest(monkeypatch: pytest.MonkeyPatch) -> FakeIngest:
    """Replace ``gateway.intake.ingest.ingest_file`` (a stub module while the real one does not exist)."""
    fake = FakeIngest()
    try:
        module = importlib.import_module("gateway.intake.ingest")
    except ModuleNotFoundError:
        module = types.ModuleType("gateway.intake.ingest")
        monkeypatch.setitem(sys.modules, "gateway.intake.ingest", module)
        import gateway.services

        monkeypatch.setattr(gateway.services, "ingest", module, raising=False)
    monkeypatch.setattr(module, "ingest_file", fake, raising=False)
    return fake


@pytest.fixture(scope="session")
def certs(tmp_path_factory: pytest.TempPathFactory) -> CertFiles:
    return make_ca(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def server(certs: CertFiles) -> Iterator[Server]:
    with serving(certs) as s:
        yield s


def run_rows(db_url: str, job: str | None = None) -> list[dict[str, Any]]:
    """The job_runs rows (oldest first)."""
    table = jobs.RUNS
    stmt = sa.select(table).order_by(table.c.id)
    if job:
        stmt = stmt.where(table.c.job == job)
    with get_engine(db_url).connect() as conn:
        return [dict(r) for r in conn.execute(stmt).mappings()]
