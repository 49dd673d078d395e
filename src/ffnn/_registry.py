"""One registry per family of named objects (activations, losses, optimisers, ...).

The same registry backs every place a name is accepted: layer arguments,
``compile``, the estimators' parameter validation, the command line's choices and the
model-file loader's allowlist. A name appears once; aliases point at the same entry.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, TypeVar

T = TypeVar("T")

__all__ = ["Registry"]


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
