"""Public module ``ffnn.callbacks``: the callbacks of :mod:`ffnn.training` and :mod:`ffnn.io`
(``ModelCheckpoint``)."""

from .io.checkpoint_callback import ModelCheckpoint
from .training.callbacks import (
    Callback,
    CallbackList,
    CSVLogger,
    EarlyStopping,
    History,
    TerminateOnNaN,
)
from .training.diagnostics_callback import DiagnosticsCallback
from .training.lr_callbacks import LearningRateScheduler, ReduceLROnPlateau

__all__ = [
    "CSVLogger",
    "Callback",
    "CallbackList",
    "DiagnosticsCallback",
    "EarlyStopping",
    "History",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "ReduceLROnPlateau",
    "TerminateOnNaN",
]
