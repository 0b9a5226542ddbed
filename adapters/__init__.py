"""Settlement-file adapters: agents' payment files and banks' files in, plain records out.

Pure code: no web framework, no database, no gateway imports. Each format is one module exposing
``Adapter`` (and a ``write`` function that generates files for tests, demos and benchmarks):

* ``fixed120`` — the gateway's reference 120-byte settlement format
* ``dsk_csv`` — the agent CSV daily file
* ``zengin_transfer`` — the bank's transfer notice (振込入金通知)
* ``zengin_statement`` — the bank's account statement (入出金取引明細)

and the fixed-length agent layouts declared as data (:mod:`adapters.profiles`): every built-in profile
in ``adapters/data/profiles/`` (``fixed120.toml``, whose compiled parser is ``fixed120.Adapter``, and
``mizuho120.toml``) and, with :func:`use_profile_dir`, an office's own ``*.toml`` profiles. Each compiles to
an ``Adapter`` subclass registered under the profile's name.

And ``agent_post``, an agent's posted JSON batch: not a file, so it has no ``Adapter`` and is not detected,
but it turns the body into the same payment records, with the same barcode checks.

Adapters are plugged in like django-payments variants: a list of ``(dotted path, kwargs)`` built lazily by
:func:`load_adapters`; :func:`detect` picks the one adapter that claims a file (beangulp rules: none or two
is an error).

>>> sorted(ADAPTERS)
['bank_counter', 'dsk_csv', 'fixed120', 'mizuho120', 'zengin_statement', 'zengin_transfer']
>>> get_adapter("fixed120")
<adapters.fixed120.Adapter 'fixed120'>
>>> get_adapter("nope")
Traceback (most recent call last):
    ...
adapters.errors.UnknownAdapter: unknown adapter 'nope'; available: bank_counter, dsk_csv, ...
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from adapters import bank_counter
from adapters import dsk_csv
from adapters import fixed120
from adapters import profiles
from adapters import zengin_statement
from adapters import zengin_transfer
from adapters.base import Adapter
from adapters.errors import AmbiguousFileFormat
from adapters.errors import ProfileError
from adapters.errors import UnknownAdapter
from adapters.errors import UnknownFileFormat

ADAPTERS: dict[str, type[Adapter]] = {
    cls.name: cls
    for cls in (fixed120.Adapter, dsk_csv.Adapter, zengin_transfer.Adapter, zengin_statement.Adapter)
}
"""The built-in adapters by name (the name is stored with every ingested file).

Office profiles (:func:`use_profile_dir`) are added to and removed from this same dict, so every reader of
it (``detect``, ``get_adapter``, the agent and CLI choices) sees them."""

BUILTIN_PROFILES: dict[str, type[profiles.ProfileAdapter]] = {
    profile.name: fixed120.Adapter
    if profile.name == fixed120.Adapter.name
    else profiles.compile_profile(profile)
    for profile in profiles.builtin_profiles()
}
"""Every shipped profile, compiled (``fixed120``'s compiled class is :class:`adapters.fixed120.Adapter`)."""
ADAPTERS.update({name: cls for name, cls in BUILTIN_PROFILES.items() if name not in ADAPTERS})
_OFFICE_PROFILES: set[str] = set()


def use_profile_dir(directory: Path | str | None) -> list[str]:
    """Register the office's profiles: every ``*.toml`` of ``directory`` (``None``: none).

    Replaces the office profiles registered before (so a process, or a test, that configures another
    directory does not keep the old ones). All profiles are checked before any is registered.

    Returns:
        The names of the registered office profiles.

    Raises:
        ProfileError: the directory is missing, a profile is invalid, two profiles share a name, or a profile
            takes the name of a built-in adapter (each names the profile file).
    """
    compiled: list[type[profiles.ProfileAdapter]] = []
    if directory is not None and str(directory):
        seen: dict[str, str] = {}
        for profile in profiles.load_profile_dir(directory):
            if profile.name in seen:  # pragma: no cover - file names are unique and the name is the stem
                raise ProfileError("two profiles have this name", path=profile.path, key="name")
            if profile.name in ADAPTERS and profile.name not in _OFFICE_PROFILES:
                raise ProfileError(
                    f"{profile.name!r} is the name of a built-in adapter; choose another",
                    path=profile.path,
                    key="name",
                )
            seen[profile.name] = profile.path
            compiled.append(profiles.compile_profile(profile))
    for name in _OFFICE_PROFILES:
        ADAPTERS.pop(name, None)
    _OFFICE_PROFILES.clear()
    for cls in compiled:
        ADAPTERS[cls.name] = cls
        _OFFICE_PROFILES.add(cls.name)
    return sorted(_OFFICE_PROFILES)


def adapter_labels() -> dict[str, str]:
    """The staff-page label of every registered profile adapter (``{name: label}``)."""
    return {
        name: cls.label
        for name, cls in ADAPTERS.items()
        if isinstance(cls, type) and issubclass(cls, profiles.ProfileAdapter)
    }


def get_adapter(name: str) -> Adapter:
    """A default-configured instance of the built-in adapter ``name``.

    ``bank_counter:<mapping>`` is the bank-counter adapter with that one mapping (``adapters.bank_counter``).

    Raises:
        UnknownAdapter: no such adapter (an ``UnknownFileFormat``); it lists the available names.
    """
    base_name, _, option = name.partition(":")
    if option and base_name == bank_counter.NAME:
        return bank_counter.Adapter(mapping=option)
    try:
        cls = ADAPTERS[name]
    except KeyError:
        raise UnknownAdapter(name, sorted(ADAPTERS)) from None
    return cls()


def _import(path: str) -> type[Adapter]:
    """``package.module.Class``, ``package.module`` (its ``Adapter``) or a built-in name → the class."""
    if "." not in path:
        if path in ADAPTERS:
            return ADAPTERS[path]
        raise UnknownAdapter(path, sorted(ADAPTERS))
    target: Any
    try:
        target = getattr(importlib.import_module(path), "Adapter", None)
    except ModuleNotFoundError as ex:
        if ex.name != path:  # a module that exists but fails to import: report that, not a guess
            raise ImportError(f"adapter {path!r} cannot be imported: {ex}") from ex
        module_name, _, attribute = path.rpartition(".")
        try:
            target = getattr(importlib.import_module(module_name), attribute, None)
        except ModuleNotFoundError as ex2:
            raise ImportError(f"adapter {path!r} cannot be imported: {ex2}") from ex2
    if not (isinstance(target, type) and issubclass(target, Adapter)):
        raise ImportError(f"adapter {path!r} is not an adapters.base.Adapter subclass")
    return target


def load_adapters(spec: Iterable[tuple[str, dict[str, Any]]]) -> list[Adapter]:
    """Build adapter instances from ``(dotted path, kwargs)`` pairs, importing each module only now.

    >>> [a.name for a in load_adapters([("adapters.fixed120.Adapter", {}),
    ...                                 ("adapters.dsk_csv", {"encoding": "cp932"})])]
    ['fixed120', 'dsk_csv']

    Raises:
        ImportError: a path that does not name an ``Adapter`` subclass.
        UnknownAdapter: a bare name that is not a built-in.
        TypeError: kwargs the adapter does not take.
    """
    return [_import(path)(**dict(kwargs)) for path, kwargs in spec]


def detect(path: Path, adapters: Iterable[Adapter] | None = None) -> Adapter:
    """The one adapter that identifies ``path`` (from ``adapters``, default: all built-ins).

    Raises:
        UnknownFileFormat: no adapter claims the file.
        AmbiguousFileFormat: more than one does (``candidates`` names them).
    """
    pool = list(adapters) if adapters is not None else [cls() for cls in ADAPTERS.values()]
    candidates = [adapter for adapter in pool if adapter.identify(Path(path))]
    if not candidates:
        names = ", ".join(adapter.name for adapter in pool)
        raise UnknownFileFormat(f"no adapter recognises this file (tried {names})", path=path)
    if len(candidates) > 1:
        raise AmbiguousFileFormat([adapter.name for adapter in candidates], path=path)
    return candidates[0]


__all__ = [
    "ADAPTERS",
    "BUILTIN_PROFILES",
    "Adapter",
    "adapter_labels",
    "detect",
    "get_adapter",
    "load_adapters",
    "use_profile_dir",
]

ADAPTERS[bank_counter.NAME] = bank_counter.Adapter  # H3: bank-counter OCR data by column mapping
