"""The staff templates' formatting filters: the functions of :mod:`gateway.formats`, registered on the app."""

from __future__ import annotations

from flask import Flask

from gateway.formats import EMPTY
from gateway.formats import FILTERS
from gateway.formats import count
from gateway.formats import jst
from gateway.formats import nendo
from gateway.formats import wareki
from gateway.formats import yen
from gateway.formats import ymd

__all__ = ["EMPTY", "FILTERS", "count", "init_app", "jst", "nendo", "wareki", "yen", "ymd"]


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(FILTERS)
