"""Fixtures of the staff-page tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from gateway.context import Context
from tests.pages import pagetools


@pytest.fixture
def login(app: Any, ctx: Context) -> Callable[..., FlaskClient]:
    """``login(role, name=None)``: a test client signed in as a new account with ``role``."""

    def sign_in(role: str, name: str | None = None) -> FlaskClient:
        return pagetools.sign_in(app, ctx, role, name)

    return sign_in
