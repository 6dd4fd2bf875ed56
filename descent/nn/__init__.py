"""Neural networks: Module and Parameter, layers, init, ``functional`` (F.*) and ``utils``."""

from . import functional, init, utils
from .layers import (
    GELU,
    AvgPool2d,
    Conv2d,
    Dropout,
    Embedding,
    Flatten,
    Identity,
    LeakyReLU,
    Linear,
    LogSoftmax,
    MaxPool2d,
    ModuleDict,
    ModuleList,
    ReLU,
    Sequential,
    Sigmoid,
    Softmax,
    Softplus,
    Tanh,
)
from .loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    L1Loss,
    MSELoss,
    MulticlassHingeLoss,
    MultiMarginLoss,
    NLLLoss,
)
from .module import Module, Parameter
from .norm import BatchNorm1d, BatchNorm2d, LayerNorm

# ---- everyday activations, structure layers, losses and distances
# isort: off
from .layers import (
    CELU,
    ELU,
    SELU,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    LogSigmoid,
    Mish,
    PReLU,
    ReLU6,
    SiLU,
    Softmin,
    Softsign,
    Threshold,
)
from .layers import (
    AdaptiveAvgPool2d,
    AvgPool1d,
    ConstantPad2d,
    Conv1d,
    Dropout1d,
    Dropout2d,
    MaxPool1d,
    ParameterDict,
    ParameterList,
    Unflatten,
    ZeroPad2d,
)
from .loss import (
    CosineSimilarity,
    GaussianNLLLoss,
    HingeEmbeddingLoss,
    HuberLoss,
    KLDivLoss,
    MarginRankingLoss,
    PairwiseDistance,
    PoissonNLLLoss,
    SmoothL1Loss,
    SoftMarginLoss,
)
# isort: on

__all__ = [
    "functional", "init", "utils", "Module", "Parameter", "Linear", "Conv2d", "MaxPool2d",
    "AvgPool2d", "Flatten", "Dropout", "ReLU", "Sigmoid", "Tanh", "LeakyReLU", "Softmax",
    "LogSoftmax",
    "Identity", "Sequential", "GELU", "Softplus", "ModuleList", "ModuleDict", "Embedding",
    "BatchNorm1d", "BatchNorm2d", "LayerNorm", "MSELoss", "L1Loss", "CrossEntropyLoss",
    "NLLLoss", "BCELoss", "BCEWithLogitsLoss", "MultiMarginLoss", "MulticlassHingeLoss",
]  # fmt: skip
__all__ += [
    "ELU", "CELU", "SELU", "SiLU", "Mish", "Hardsigmoid", "Hardswish", "Hardtanh", "ReLU6",
    "Softsign", "LogSigmoid", "Threshold", "Softmin", "PReLU",
    "SmoothL1Loss", "HuberLoss", "KLDivLoss", "MarginRankingLoss", "HingeEmbeddingLoss",
    "SoftMarginLoss", "GaussianNLLLoss", "PoissonNLLLoss", "CosineSimilarity", "PairwiseDistance",
    "Unflatten", "ParameterList", "ParameterDict", "Dropout1d", "Dropout2d", "ZeroPad2d",
    "ConstantPad2d", "AdaptiveAvgPool2d", "Conv1d", "MaxPool1d", "AvgPool1d",
]  # fmt: skip
