"""The printing rule comes from the settings: the printer's resolution, dots per module, bar height."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from gateway.config import ConfigError
from gateway.config import load_settings
from gateway.context import Context
from gateway.errors import InvalidInput
from gateway.issuing import documents


@pytest.mark.parametrize(
    ("dpi", "dots", "module_mm"), [(300, 2, 0.16933), (400, 3, 0.1905), (600, 4, 0.16933)]
)
def test_the_printer_resolution_sets_the_module(
    overrides: dict[str, Any], ctx: Context, dpi: int, dots: int, module_mm: float
) -> None:
    overrides["printer_dpi"] = dpi
    options = documents.symbol_options(dataclasses.replace(ctx, settings=load_settings({}, overrides)))
    assert options.module_dots == dots
    assert options.module_width_mm == pytest.approx(module_mm, abs=1e-5)


def test_settings_that_break_the_rule_are_refused_naming_the_option(
    overrides: dict[str, Any], ctx: Context
) -> None:
    overrides.update(printer_dpi=600, barcode_module_dots=5)  # 66 mm with quiet zones
    bad = dataclasses.replace(ctx, settings=load_settings({}, overrides))
    with pytest.raises(InvalidInput) as raised:
        documents.symbol_options(bad)
    assert raised.value.field == "module_dots"


def test_the_old_module_width_setting_is_refused_with_what_replaces_it() -> None:
    with pytest.raises(ConfigError, match="GATEWAY_PRINTER_DPI"):
        load_settings({"GATEWAY_BARCODE_MODULE_WIDTH_MM": "0.19"})
