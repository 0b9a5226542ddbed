"""Payments recorded by staff (counter, bank counter, transfer, deduction) and refunds due."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("staff_payments", __name__, url_prefix="/staff")
