"""One registry per family of named objects (activations, losses, optimisers, ...).

The same registry backs every place a name is accepted: layer arguments,
``compile``, the estimators' parameter validation, the command line's choices and the
model-file loader's allowlist. A name appears once; aliases point at the same entry.
"""

from __future__ import annotations

import inspect
import math
import numbers
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Generic, TypeVar, cast

import numpy as np

T = TypeVar("T")

__all__ = ["Registry", "bind_params", "split_config"]


class Registry(Generic[T]):
    """A closed mapping from lower-case names to objects of one family.

    Parameters
    ----------
    family : str
        What the entries are ("activation", "loss", ...), used in error messages.
    """

    def __init__(self, family: str) -> None:
        self.family = family
        self._entries: dict[str, T] = {}
        self._canonical: dict[str, str] = {}

    def register(self, name: str, obj: T, aliases: tuple[str, ...] = ()) -> T:
        """Add ``obj`` under ``name`` (and ``aliases``); a name may be taken only once."""
        for key in (name, *aliases):
            key = key.lower()
            if key in self._entries:
                raise ValueError(f"{self.family} name {key!r} is already registered")
            self._entries[key] = obj
            self._canonical[key] = name.lower()
        return obj

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def names(self, aliases: bool = True) -> list[str]:
        """Sorted valid names (with aliases unless ``aliases=False``)."""
        if aliases:
            return sorted(self._entries)
        return sorted(set(self._canonical.values()))

    def canonical(self, name: str) -> str:
        """The primary name of ``name`` (an alias maps to its entry's first name)."""
        self.lookup(name)
        return self._canonical[name.lower()]

    def lookup(self, name: str) -> T:
        """Return the entry for ``name`` or raise a ValueError listing the valid names."""
        if not isinstance(name, str):
            raise TypeError(f"{self.family} name must be a string, got {type(name).__name__}")
        try:
            return self._entries[name.lower()]
        except KeyError:
            valid = ", ".join(self.names())
            raise ValueError(
                f"unknown {self.family} {name!r}; valid {self.family} names are: {valid}"
            ) from None

    def build(self, config: Mapping[str, Any]) -> Any:
        """Instantiate the class registered under ``config["name"]`` with the config's other
        entries, checked against the class's keyword parameters (see :func:`bind_params`)."""
        name, params = split_config(config, self.family)
        cls: Any = self.lookup(name)
        return cls(**bind_params(self.family, self.canonical(name), cls.__init__, params, skip=1))

    def resolve(self, identifier: Any, base: type, wrap: Callable[[Any], Any], article: str,
                others: str, prefix: str = "") -> Any:
        """The usual ``get(identifier)`` of a family whose entries are classes.

        An instance of ``base`` is returned as is, a name is looked up and instantiated
        with its defaults, a config dict is built (:meth:`build`) and any other callable
        that is not a class is wrapped with ``wrap``. Anything else raises a TypeError
        that lists the valid names; ``article`` ("a"/"an"), ``prefix`` and ``others``
        complete its wording.
        """
        if isinstance(identifier, base):
            return identifier
        if isinstance(identifier, str):
            return cast(Callable[[], Any], self.lookup(identifier))()
        if isinstance(identifier, Mapping):
            return self.build(identifier)
        if callable(identifier) and not isinstance(identifier, type):
            return wrap(identifier)
        raise TypeError(
            f"cannot interpret {identifier!r} as {article} {self.family}: pass {prefix}one of "
            f"{', '.join(self.names())}, a config dict, {others}"
        )

    def configure(self, identifier: Any, overrides: Mapping[str, Any], base: type,
                  article: str) -> Any:
        """The ``get(identifier, **overrides)`` of a family whose classes have
        ``name`` and ``from_config`` (optimisers, learning-rate schedules).

        An instance of ``base`` is returned as is (overrides are refused), a name gives a
        new instance with the overrides, a config dict updated with the overrides is
        rebuilt by its class. Anything else raises a TypeError.
        """
        if isinstance(identifier, base):
            if overrides:
                raise TypeError(
                    f"options {sorted(overrides)} cannot be applied to an existing "
                    f"{self.family} instance; pass a name or a config dict instead"
                )
            return identifier
        if isinstance(identifier, str):
            return cast(Any, self.lookup(identifier)).from_config(dict(overrides))
        if isinstance(identifier, Mapping):
            config = {**identifier, **overrides}
            if "name" not in config:
                raise ValueError(f"{article} {self.family} config needs a 'name' key, got keys "
                                 f"{sorted(config)}")
            cls: Any = self.lookup(config["name"])
            config["name"] = cls.name
            return cls.from_config(config)
        raise TypeError(
            f"{article} {self.family} must be a name, a config dict or an instance of "
            f"{base.__name__}, got {type(identifier).__name__}"
        )


def split_config(config: Mapping[str, Any], family: str) -> tuple[str, dict[str, Any]]:
    """Split ``{"name": ..., **params}`` into the name and the parameters."""
    if "name" not in config or not isinstance(config["name"], str):
        raise ValueError(
            f"a {family} config must be a dict with a string 'name' entry, got {dict(config)!r}"
        )
    params = {k: v for k, v in config.items() if k != "name"}
    return config["name"], params


def bind_params(family: str, name: str, factory: Callable[..., Any], params: Mapping[str, Any],
          skip: int = 0, choices: Mapping[str, tuple[str, ...]] | None = None) -> dict[str, Any]:
    """Check ``params`` against ``factory``'s keyword parameters and coerce their values.

    Unknown names raise ValueError listing the accepted ones; a value must match the
    type of the parameter's default: float (finite real), int or str (one of
    ``choices[key]`` when given). ``skip`` leading parameters (the input ``x``) are not
    parameters. Returns the full parameter dict, defaults included.
    """
    sig = list(inspect.signature(factory).parameters.values())[skip:]
    accepted = {p.name: p.default for p in sig if p.name not in ("self", "args", "kwargs")}
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        takes = ", ".join(accepted) if accepted else "no parameters"
        raise ValueError(
            f"{family} {name!r} got unexpected parameter(s) {', '.join(map(repr, unknown))}; "
            f"it takes: {takes}"
        )
    out = {k: v for k, v in accepted.items() if v is not inspect.Parameter.empty}
    for key, value in params.items():
        default = accepted[key]
        ok = not isinstance(value, (bool, np.bool_))
        if isinstance(default, bool):
            ok = isinstance(value, (bool, np.bool_))
            value = bool(value) if ok else value
        elif isinstance(default, float):
            ok = ok and isinstance(value, numbers.Real) and math.isfinite(value)
            value = float(value) if ok else value
        elif isinstance(default, int):
            ok = ok and isinstance(value, numbers.Integral)
            value = int(value) if ok else value
        elif isinstance(default, str):
            allowed = (choices or {}).get(key)
            ok = isinstance(value, str) and (allowed is None or value in allowed)
        if not ok:
            want = type(default).__name__
            if isinstance(default, str) and choices and key in choices:
                want = " or ".join(map(repr, choices[key]))
            raise ValueError(f"{family} {name!r}: {key} must be {want}, got {value!r}")
        out[key] = value
    return out
