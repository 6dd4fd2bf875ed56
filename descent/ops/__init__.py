"""The differentiable primitives, one file per kind, each forward beside its backward.

- ``elementwise``: arithmetic, exp/log, activations, comparisons' companions (where, clamp)
- ``reduce``: sum, mean, var, max/min, logsumexp, softmax, log_softmax
- ``shape``: reshape, transpose/permute, expand, indexing, cat/stack, pad
- ``linalg``: matmul
- ``nn``: linear, conv2d, pooling, one_hot and the fused losses of ``ds.nn.functional``
"""
