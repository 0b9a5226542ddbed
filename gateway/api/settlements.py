"""Settlement ingestion over HTTP: agents' posts and files (both processes), agent registration (full only).

``bp`` serves the agent API and is registered in both modes (``GATEWAY_MODE=public`` included): agent
clients sign their requests (``gateway.access.clients``) and may only post settlements, deliver their own
payment files and read their own batches. ``agents_bp`` is staff-only and registered in full mode.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import marshmallow as ma
from flask import Response
from flask import request
from flask_smorest import Blueprint
from marshmallow import fields
from marshmallow import validate

from adapters import agent_post
from gateway.access import agents as agent_service
from gateway.api.schemas import Strict
from gateway.errors import Forbidden
from gateway.errors import InvalidInput
from gateway.intake import ingest
from gateway.intake import posts
from gateway.models import Agent
from gateway.models import ApiClient
from gateway.web import ctx
from gateway.web import require

bp = Blueprint(
    "settlements", __name__, url_prefix="/api/v1", description="Settlement data from agents and banks"
)
agents_bp = Blueprint("agents", __name__, url_prefix="/api/v1/agents", description="Collection agents")


class IngestResult(ma.Schema):
    file = fields.String()
    adapter = fields.String(allow_none=True)
    status = fields.String(validate=validate.OneOf(("accepted", "duplicate_file", "rejected")))
    sha256 = fields.String()
    records = fields.Integer()
    new_records = fields.Integer()
    duplicate_records = fields.Integer()
    amount = fields.Integer()
    counts_by_kind = fields.Dict(keys=fields.String(), values=fields.Integer())
    amounts_by_kind = fields.Dict(keys=fields.String(), values=fields.Integer())
    error = fields.Dict(allow_none=True)
    skipped = fields.Dict(
        keys=fields.String(),
        values=fields.Dict(),
        metadata={"description": "rows skipped as the agent's options say (DSK type 81), when some were"},
    )


class BatchResult(ma.Schema):
    batch_id = fields.String()
    records = fields.Integer()
    new_records = fields.Integer()
    duplicate_records = fields.Integer()


class BatchRecord(ma.Schema):
    record_id = fields.String()
    kind = fields.String()
    state = fields.String(metadata={"description": "the record's kind for now; reconciliation refines it"})
    barcode = fields.String()
    payment_number = fields.String()
    amount = fields.Integer()
    paid_at = fields.String()
    channel_code = fields.String()
    store_code = fields.String()
    transfer_date = fields.String(allow_none=True)


class Batch(BatchResult):
    key_id = fields.String()
    agent_code = fields.String(allow_none=True)
    received_at = fields.String()
    received_date = fields.String()
    amount = fields.Integer()
    items = fields.List(fields.Nested(BatchRecord))


class BatchQuery(ma.Schema):
    key_id = fields.String(metadata={"description": "the client, when several used this batch_id (staff)"})


_POST_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["batch_id", "records"],
                "properties": {
                    "batch_id": {"type": "string", "maxLength": 128},
                    "records": {
                        "type": "array",
                        "maxItems": posts.MAX_POST_RECORDS,
                        "items": {
                            "type": "object",
                            "required": list(agent_post.REQUIRED_FIELDS),
                            "properties": {
                                "record_id": {"type": "string", "maxLength": 128},
                                "kind": {
                                    "type": "string",
                                    "enum": ["preliminary", "confirmed", "cancellation"],
                                },
                                "barcode": {"type": "string", "pattern": "^[0-9]{44}$"},
                                "amount": {"type": "integer", "minimum": 1},
                                "paid_at": {"type": "string", "format": "date-time"},
                                "channel_code": {"type": "string", "pattern": "^[0-9]{3,4}$"},
                                "store_code": {"type": "string", "pattern": "^[0-9]{1,16}$"},
                                "transfer_date": {"type": "string", "format": "date"},
                                "accounting_date": {"type": "string", "format": "date"},
                                "capture_date": {"type": "string", "format": "date"},
                            },
                        },
                    },
                },
            }
        }
    },
}

_FILE_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {"type": "string", "format": "binary"},
                    "adapter": {"type": "string", "description": "adapter name; detected when absent"},
                },
            }
        }
    },
}


@bp.post("/settlements")
@require()
@bp.doc(requestBody=_POST_BODY, security=[{"agentSignature": []}])
@bp.response(201, BatchResult)
def post_settlements() -> dict[str, Any]:
    """An agent's batch of records: stored whole (201) or rejected with one error per bad record (422)."""
    c = ctx()
    return posts.receive_post(c, c.actor, request.get_data(cache=True))


@bp.get("/settlements/<batch_id>")
@require()
@bp.arguments(BatchQuery, location="query")
@bp.response(200, Batch)
def show_batch(query: dict[str, Any], batch_id: str) -> dict[str, Any]:
    """The batch and its records' states; a client reads only its own batches."""
    c = ctx()
    return posts.show_batch(c, c.actor, batch_id, key_id=query.get("key_id"))


@bp.post("/settlement-files")
@require()
@bp.doc(requestBody=_FILE_BODY, responses={422: {"description": "rejected: error and result"}})
@bp.response(201, IngestResult)
@bp.alt_response(200, schema=IngestResult, description="a file already ingested (duplicate_file)")
def upload_file() -> Any:
    """Ingest one settlement or bank file (an agent client: payment files of its own agent only)."""
    c = ctx()
    upload = request.files.get("file")
    if upload is None:
        raise InvalidInput("send the file as multipart field 'file'", field="file")
    adapter = (request.form.get("adapter") or "").strip() or None
    client_agent = None
    if c.actor.kind == "client":
        client = c.session.get(ApiClient, c.actor.client_id)
        agent = c.session.get(Agent, client.agent_id) if client and client.agent_id else None
        if agent is None:
            raise Forbidden("this API client is not registered for a contracted agent")
        client_agent = agent.code
    folder = Path(c.settings.instance_dir) / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix="upload-", dir=folder)
    os.close(fd)
    try:
        upload.save(name)
        result = ingest.ingest_file(
            c,
            Path(name),
            adapter=adapter,
            source="api",
            original_name=upload.filename or "upload",
            client_agent_code=client_agent,
        )
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)
    doc = result.as_json()
    if result.rejected:
        assert result.error is not None
        body = {
            "error": {
                "code": "rejected_file",
                "message": result.located(),
                "details": {"line": result.error["line"], "field": result.error["field"]},
            },
            "result": doc,
        }
        return Response(json.dumps(body, ensure_ascii=False), 422, mimetype="application/json")
    return doc, 201 if result.status == "accepted" else 200


# -- agents (staff, full mode)


class FeeSchema(ma.Schema):
    channel_code = fields.String(allow_none=True)
    fee_per_item = fields.Integer()
    tax_rate_bp = fields.Integer()
    valid_from = fields.String()


class AgentSchema(ma.Schema):
    code = fields.String()
    name = fields.String()
    adapters = fields.List(fields.String())
    delegation_basis = fields.String()
    delegation_date = fields.String(allow_none=True)
    remitter_name = fields.String(allow_none=True)
    remittance_mode = fields.String()
    channels = fields.List(fields.String())
    consignor_code = fields.String()
    enabled = fields.Boolean()
    fees = fields.List(fields.Nested(FeeSchema))


class AgentList(ma.Schema):
    items = fields.List(fields.Nested(AgentSchema))


class AgentCreate(Strict):
    code = fields.String(required=True, validate=validate.Regexp(r"^\d{5}$"))
    name = fields.String(required=True, validate=validate.Length(1, 128))
    adapters = fields.List(fields.String(), load_default=None, allow_none=True)
    remittance_mode = fields.String(load_default="gross", validate=validate.OneOf(("gross", "net")))
    fee_per_item = fields.Integer(
        strict=True, load_default=None, allow_none=True, validate=validate.Range(min=0)
    )
    tax_rate = fields.Decimal(
        load_default=None, allow_none=True, metadata={"description": "percent, e.g. 10"}
    )
    fee_valid_from = fields.Date(load_default=None, allow_none=True)
    fee_channel = fields.String(load_default=None, allow_none=True)
    channels = fields.List(fields.String(), load_default=list)
    remitter_name = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=128))
    delegation_basis = fields.String(
        load_default="designated", validate=validate.OneOf(("art78_3", "designated"))
    )
    delegation_date = fields.Date(load_default=None, allow_none=True)
    consignor_code = fields.String(load_default=None, allow_none=True)
    enabled = fields.Boolean(load_default=True)


@agents_bp.post("")
@require()
@agents_bp.arguments(AgentCreate)
@agents_bp.response(201, AgentSchema)
def create_agent(body: dict[str, Any]) -> dict[str, Any]:
    """Register a contracted collection agent."""
    c = ctx()
    values = dict(body)
    if values["adapters"] is not None:
        values["adapters"] = tuple(values["adapters"])
    values["channels"] = tuple(values["channels"])
    agent = agent_service.add_agent(c, agent_service.AgentInput(**values))
    return agent_service.agent_json(c, agent)


@agents_bp.get("")
@require()
@agents_bp.response(200, AgentList)
def list_agents() -> dict[str, Any]:
    """Every registered agent with its fees."""
    c = ctx()
    return {"items": [agent_service.agent_json(c, a) for a in agent_service.list_agents(c)]}
