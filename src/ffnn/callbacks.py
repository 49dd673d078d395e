"""Public module ``ffnn.callbacks``: every callback of :mod:`ffnn.training`."""

from .training.callbacks import (
    Callback,
    CallbackList,
    CSVLogger,
    EarlyStopping,
    History,
    TerminateOnNaN,
)
from .training.checkpoint_callback import ModelCheckpoint
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
