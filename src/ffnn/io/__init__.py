"""Model files and checkpoints: one ``.safetensors`` file, no pickle anywhere.

A model file holds the weights as tensors named ``<layer name>/<param name>`` (e.g.
``dense_1/kernel``), the optimiser's state arrays as ``optimizer/<param index>/<slot>``,
and one JSON document under the key ``"ffnn"`` of the safetensors ``__metadata__``:
the format version, the architecture (each layer's registry class name and
``get_config()``), the model's name, seed, dtype and input width, the compile settings,
the optimiser's scalar state, the training history, the caller's ``metadata`` and, for
checkpoints, the epoch and the generators' states. See ``docs/model_files.md``.

Saving and loading are in :mod:`.model_file`, checkpoints in :mod:`.checkpoint`, the
rebuilding from JSON in :mod:`.schema` and the raw container checks in :mod:`.container`.
Loading looks every name up in ffnn's registries (a closed allowlist), rebuilds the
model from its config and checks every tensor against it; any failure raises
:class:`~ffnn.exceptions.ModelFileError`. Writes are atomic.
"""

from ..exceptions import ModelFileError
from .checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from .checkpoint_callback import ModelCheckpoint
from .model_file import FORMAT_VERSION, load, save

__all__ = [
    "FORMAT_VERSION",
    "Checkpoint",
    "ModelCheckpoint",
    "ModelFileError",
    "load",
    "load_checkpoint",
    "save",
    "save_checkpoint",
]
