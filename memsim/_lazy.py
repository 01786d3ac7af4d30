"""Lazy package attributes (PEP 562), shared by :mod:`memsim` and :mod:`memsim.learning`.

A package lists which module defines each public name; the module is imported
when the name is first used, so importing the package stays cheap (no numba,
scipy or pandas until something needs them).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence


def lazy_attributes(package: str, exports: Mapping[str, Sequence[str]], submodules: Sequence[str],
                    namespace: dict) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``: ``exports`` maps a module to the names it defines.

    ``submodules`` are reachable as attributes too. A resolved name is stored
    in ``namespace`` (the package's ``globals()``), so it is looked up once.

    Examples
    --------
    >>> ns = {"__all__": ["sqrt"]}
    >>> getattr_, dir_ = lazy_attributes("pkg", {"math": ("sqrt",)}, ("json",), ns)
    >>> getattr_("sqrt")(4.0), "sqrt" in ns, dir_()
    (2.0, True, ['__all__', 'json', 'sqrt'])
    """
    where = {name: module for module, names in exports.items() for name in names}

    def __getattr__(name: str):
        if name in where:
            value = getattr(importlib.import_module(where[name]), name)
        elif name in submodules:
            value = importlib.import_module(f"{package}.{name}")
        else:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(namespace.get("__all__", ())) | set(submodules))

    return __getattr__, __dir__
