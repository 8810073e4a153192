"""One typed plug-in registry for every kind of plug-in: layer variants, agents, strategies,
task families, checkers, world operations, executors and loops.

A registry maps a name to a factory and the pydantic model of the factory's options::

    TOOL_LAYERS: Registry[ToolLayer] = Registry("tools variant", plugins="harness.runtime.tools")

    @TOOL_LAYERS.register("typed", options=ToolOptions)
    class TypedTools: ...

    layer = TOOL_LAYERS.build("typed", {"timeout": 5}, where="layers.tools.config")

Plug-ins register themselves with the decorator; the registry finds them by importing
every module of its ``plugins`` package (a folder scan, on first lookup), so a registry
module never imports its plug-ins by name and no import circle forms between the two.
A name registered twice is refused. Options are checked by the plug-in's model, and a
bad value is a ``ConfigError`` naming the full config key (``where`` plus the field).
"""

from __future__ import annotations

import contextlib
import importlib
import pkgutil
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from harness.core.errors import ConfigError, HarnessError

T = TypeVar("T")


class PluginError(HarnessError):
    """A plug-in declared wrongly (a name registered twice): the harness's bug, not the user's."""


class NoOptions(BaseModel):
    """The options model of a plug-in that takes none: any key given is refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")


@dataclass(frozen=True)
class Entry(Generic[T]):
    """One registered plug-in: its name, what builds it, its options model and any
    registry-specific facts (``meta``, e.g. whether an agent's code is trusted)."""

    name: str
    factory: Callable[..., T]
    options: type[BaseModel]
    meta: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


def config_error(exc: ValidationError, where: str) -> ConfigError:
    """A pydantic error as one line naming the config key (``layers.tools.config.timeout``)."""
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"])
    key = ".".join(p for p in (where, loc) if p)
    got = err.get("input")
    shown = "" if err["type"] == "missing" or isinstance(got, dict) else f" (got {got!r})"
    return ConfigError(f"invalid config value at {key or 'the top level'}: {err['msg']}{shown}")


class Registry(Generic[T]):
    """Name -> ``Entry``; ``kind`` names the plug-ins in messages ("tools variant")."""

    def __init__(self, kind: str, plugins: str | Iterable[str] | None = None, *, skip: Iterable[str] = ()):
        self.kind = kind
        self._plugins = (plugins,) if isinstance(plugins, str) else tuple(plugins or ())
        self._skip = frozenset(skip)
        self._entries: dict[str, Entry[T]] = {}
        self._discovered = not self._plugins
        self._lock = threading.RLock()

    # -- declaring ---------------------------------------------------------------------------
    def register(self, name: str, *, options: type[BaseModel] = NoOptions,
                 **meta: Any) -> Callable[[Callable[..., T]], Callable[..., T]]:
        def decorate(factory: Callable[..., T]) -> Callable[..., T]:
            self.add(Entry(name, factory, options, MappingProxyType(dict(meta))))
            return factory

        return decorate

    def add(self, entry: Entry[T]) -> None:
        with self._lock:
            old = self._entries.get(entry.name)
            if old is not None and old.factory is not entry.factory:
                raise PluginError(f"{self.kind} {entry.name!r} is registered twice "
                                  f"({_origin(old.factory)} and {_origin(entry.factory)})")
            self._entries[entry.name] = entry

    @contextlib.contextmanager
    def substituted(self, entry: Entry[T]) -> Iterator[Entry[T]]:
        """``entry`` in place of any plug-in of its name until the block ends: for tests,
        which register throw-away plug-ins under names an earlier test used."""
        self.discover()
        with self._lock:
            old = self._entries.get(entry.name)
            self._entries[entry.name] = entry
        try:
            yield entry
        finally:
            with self._lock:
                if old is None:
                    self._entries.pop(entry.name, None)
                else:
                    self._entries[entry.name] = old

    # -- finding -------------------------------------------------------------------------------
    def discover(self) -> None:
        """Import every module of the plug-in packages (once), so their decorators run."""
        if self._discovered:
            return
        with self._lock:
            if self._discovered:
                return
            for package in self._plugins:
                for module in plugin_modules(package, self._skip):
                    importlib.import_module(module)
            self._discovered = True

    def names(self) -> list[str]:
        self.discover()
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        self.discover()
        return name in self._entries

    def entries(self) -> list[Entry[T]]:
        self.discover()
        return [self._entries[n] for n in sorted(self._entries)]

    def entry(self, name: str, *, where: str = "") -> Entry[T]:
        self.discover()
        try:
            return self._entries[name]
        except KeyError:
            at = f"{where}: " if where else ""
            known = ", ".join(sorted(self._entries)) or "none"
            raise ConfigError(f"{at}unknown {self.kind} {name!r}; known: {known}") from None

    # -- using ---------------------------------------------------------------------------------
    def options(self, name: str, raw: Mapping[str, Any] | BaseModel | None = None, *, where: str = "") -> BaseModel:
        """The plug-in's validated options; a bad or unknown key is a ConfigError naming it."""
        model = self.entry(name, where=where).options
        if isinstance(raw, model):
            return raw
        if isinstance(raw, BaseModel):
            raw = raw.model_dump()
        try:
            return model.model_validate(dict(raw or {}))
        except ValidationError as exc:
            raise config_error(exc, where) from None

    def build(self, name: str, raw: Mapping[str, Any] | BaseModel | None = None, /, *args: Any,
              where: str = "", **context: Any) -> T:
        """``factory(options, *args, **context)`` with the options validated first."""
        options = self.options(name, raw, where=where)
        return self.entry(name).factory(options, *args, **context)


def plugin_modules(package: str, skip: Iterable[str] = ()) -> list[str]:
    """The dotted names of the modules in ``package``'s folder (not subpackages' modules),
    sorted, leaving out private ones (``_x``) and those named in ``skip``."""
    pkg = importlib.import_module(package)
    skipped = set(skip)
    return [f"{package}.{m.name}" for m in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name)
            if not m.name.startswith("_") and m.name not in skipped]


def _origin(obj: Any) -> str:
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', repr(obj))}"
