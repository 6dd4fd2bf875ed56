"""Training: the ``fit`` loop, callbacks, metrics and History."""

from .callbacks import (
    Callback,
    CSVLogger,
    EarlyStopping,
    LearningRateScheduler,
    ModelCheckpoint,
    TensorBoard,
    TerminateOnNaN,
)
from .fit import FitRun, TrainingDivergedError, evaluate, fit
from .history import History
from .metrics import accuracy, confusion_matrix, mae, mse, r2

__all__ = [
    "fit", "evaluate", "History", "FitRun", "TrainingDivergedError", "Callback",
    "EarlyStopping", "ModelCheckpoint", "TerminateOnNaN", "LearningRateScheduler", "CSVLogger",
    "TensorBoard",
    "accuracy", "mse", "mae", "r2", "confusion_matrix",
]  # fmt: skip
