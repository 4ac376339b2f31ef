"""The plugin registry: plugin NAME → factory, and argument validation.

A factory is a callable `(handle, args) -> Plugin`; the in-tree plugins are their own
factories (the class), validating their arguments in `__init__` and raising `ArgsError`
with upstream's wording when they are wrong. Out-of-tree plugins register the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from openeks.kube.scheduler.framework.interface import Handle, Plugin

PluginFactory = Callable[[Handle, "Mapping[str, Any] | None"], Plugin]


class ArgsError(ValueError):
    """A plugin's configuration arguments are invalid."""


class Registry:
    def __init__(self, factories: Mapping[str, PluginFactory] | None = None) -> None:
        self._factories: dict[str, PluginFactory] = dict(factories or {})

    def register(self, name: str, factory: PluginFactory) -> None:
        if name in self._factories:
            raise ValueError(f"a plugin named {name} already exists")
        self._factories[name] = factory

    def unregister(self, name: str) -> None:
        if name not in self._factories:
            raise ValueError(f"no plugin named {name} exists")
        del self._factories[name]

    def new(self, name: str, handle: Handle, args: Mapping[str, Any] | None = None) -> Plugin:
        factory = self._factories.get(name)
        if factory is None:
            raise ValueError(f"plugin {name!r} does not exist")
        return factory(handle, args)

    def merge(self, other: Registry) -> Registry:
        merged = Registry(self._factories)
        for name, factory in other._factories.items():
            merged.register(name, factory)
        return merged

    def __contains__(self, name: object) -> bool:
        return name in self._factories

    def __iter__(self) -> Iterator[str]:
        return iter(self._factories)


def int_arg(args: Mapping[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = args.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ArgsError(f"{key}: Invalid value: {value!r}: must be an integer")
    if not low <= value <= high:
        raise ArgsError(f"{key}: Invalid value: {value}: not in valid range [{low}-{high}]")
    return value
