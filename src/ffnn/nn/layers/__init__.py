"""Layers: the building blocks of a :class:`~ffnn.Sequential` network.

The contract every layer follows is documented on :class:`~.base.Layer`. This package's
``LAYERS`` registry holds every layer class, once: the common layers of :mod:`.core`
(``Dense``, ``Activation``, ``Dropout``) and the less common ones of :mod:`.special`
(``Maxout``, ``RBF``, ``PReLU``) and the preprocessing layers of :mod:`.preprocessing`
(``MapMinMax``, ``MapStd``, ``RemoveConstantRows``), fitted to data by ``adapt``.
"""

from __future__ import annotations

from ..._registry import Registry
from .base import JacobianRule, Layer, Shape
from .core import Activation, Dense, Dropout
from .preprocessing import MapMinMax, MapStd, RemoveConstantRows
from .special import RBF, Maxout, PReLU

__all__ = [
    "LAYERS",
    "RBF",
    "Activation",
    "Dense",
    "Dropout",
    "JacobianRule",
    "Layer",
    "MapMinMax",
    "MapStd",
    "Maxout",
    "PReLU",
    "RemoveConstantRows",
    "Shape",
    "get",
]

LAYERS: Registry[type[Layer]] = Registry("layer")
for _cls in (Dense, Activation, Dropout, Maxout, RBF, PReLU, MapMinMax, MapStd,
             RemoveConstantRows):
    LAYERS.register(_cls.__name__, _cls)


def get(name: str) -> type[Layer]:
    """The layer class registered under ``name`` (case-insensitive)."""
    return LAYERS.lookup(name)
