"""PyTorch's parameter names: each op called by keyword, the same line under torch and descent.

Each row is one call written once for both frameworks (``fn(m, F, *xs)`` with ``m`` the
module and ``F`` its functional module, as in descent/optable.py) that names its arguments
the way torch's signatures do. The outputs (a tensor, a tuple of tensors or a number) must
agree, and so must the gradient of their sum where one is defined.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass

import numpy as np
import pytest
import torch

import descent as ds
import descent.nn.functional as F
from descent.optable import (
    away_from_zero,
    binary_targets,
    distinct,
    labels,
    normal,
    positive,
    probabilities,
)


@dataclass
class Call:
    name: str
    fn: object
    shapes: tuple
    make: tuple | object = normal
    constant: tuple = ()  # inputs that torch refuses to differentiate (class weights)


def _permutation_rows(rng, shape):
    return np.stack([rng.permutation(shape[1]) for _ in range(shape[0])]).astype(np.int64)


M = (3, 4)
MM = ((3, 4), (3, 4))
# fmt: off
CALLS = [
    # ---- elementwise: input, other, exponent, min/max, condition
    Call("exp", lambda m, F, a: m.exp(input=a), (M,)),
    Call("log", lambda m, F, a: m.log(input=a), (M,), positive),
    Call("sqrt", lambda m, F, a: m.sqrt(input=a), (M,), positive),
    Call("abs", lambda m, F, a: m.abs(input=a), (M,), away_from_zero),
    Call("sin", lambda m, F, a: m.sin(input=a), (M,)),
    Call("cos", lambda m, F, a: m.cos(input=a), (M,)),
    Call("tanh", lambda m, F, a: m.tanh(input=a), (M,)),
    Call("sigmoid", lambda m, F, a: m.sigmoid(input=a), (M,)),
    Call("relu", lambda m, F, a: m.relu(input=a), (M,), away_from_zero),
    Call("erf", lambda m, F, a: m.erf(input=a), (M,)),
    Call("Tensor.erf", lambda m, F, a: a.erf(), (M,)),
    Call("special.erf", lambda m, F, a: m.special.erf(input=a), (M,)),
    Call("clamp", lambda m, F, a: m.clamp(input=a, min=-0.5, max=0.5), (M,), away_from_zero),
    Call("clamp min", lambda m, F, a: m.clamp(a, min=0.4), (M,), away_from_zero),
    Call("clip", lambda m, F, a: m.clip(input=a, max=0.5), (M,), away_from_zero),
    Call("Tensor.clamp", lambda m, F, a: a.clamp(min=-0.5, max=0.5), (M,), away_from_zero),
    Call("pow", lambda m, F, a, b: m.pow(input=a, exponent=b), MM, (positive, normal)),
    Call("Tensor.pow", lambda m, F, a: a.pow(exponent=2), (M,)),
    Call("maximum", lambda m, F, a, b: m.maximum(input=a, other=b), MM),
    Call("minimum", lambda m, F, a, b: m.minimum(input=a, other=b), MM),
    Call("Tensor.maximum", lambda m, F, a, b: a.maximum(other=b), MM),
    Call("Tensor.minimum", lambda m, F, a, b: a.minimum(other=b), MM),
    Call("where", lambda m, F, a, b: m.where(condition=a > 0, input=a, other=b), MM),
    Call("add", lambda m, F, a, b: m.add(input=a, other=b, alpha=2), MM),
    Call("sub", lambda m, F, a, b: m.sub(input=a, other=b, alpha=0.5), MM),
    Call("mul", lambda m, F, a, b: m.mul(input=a, other=b), MM),
    Call("div", lambda m, F, a, b: m.div(input=a, other=b), MM, (normal, away_from_zero)),
    Call("Tensor.add", lambda m, F, a, b: a.add(other=b, alpha=3), MM),
    Call("Tensor.sub", lambda m, F, a, b: a.sub(other=b), MM),
    Call("Tensor.mul", lambda m, F, a, b: a.mul(other=b), MM),
    Call("Tensor.div", lambda m, F, a, b: a.div(other=b), MM, (normal, away_from_zero)),
    Call("masked_fill", lambda m, F, a, b: m.masked_fill(input=a, mask=b > 0, value=1.5), MM),
    Call("Tensor.masked_fill", lambda m, F, a, b: a.masked_fill(mask=b > 0, value=-1.0), MM),
    # ---- reductions: dim, keepdim, dtype, unbiased, correction
    Call("sum", lambda m, F, a: m.sum(input=a, dim=1, keepdim=True), (M,)),
    Call("sum dims", lambda m, F, a: m.sum(a, dim=(0, 2)), ((2, 3, 4),)),
    Call("sum dtype", lambda m, F, a: m.sum(a.float(), dim=0, dtype=m.float64), (M,)),
    Call("Tensor.sum", lambda m, F, a: a.sum(dim=0, keepdim=True), (M,)),
    Call("Tensor.sum dtype", lambda m, F, a: a.float().sum(dtype=m.float64), (M,)),
    Call("mean", lambda m, F, a: m.mean(input=a, dim=0, keepdim=True), (M,)),
    Call("mean dtype", lambda m, F, a: m.mean(a.float(), dim=1, dtype=m.float64), (M,)),
    Call("Tensor.mean", lambda m, F, a: a.mean(dim=-1, keepdim=False), (M,)),
    Call("var", lambda m, F, a: m.var(input=a, dim=0, unbiased=False, keepdim=True), (M,)),
    Call("var correction", lambda m, F, a: m.var(a, dim=1, correction=0, keepdim=True), (M,)),
    Call("var positional unbiased", lambda m, F, a: m.var(a, 0, False, True), (M,)),
    Call("var unbiased only", lambda m, F, a: m.var(a, False), (M,)),
    Call("Tensor.var", lambda m, F, a: a.var(dim=1, unbiased=True), (M,)),
    Call("std", lambda m, F, a: m.std(input=a, dim=1, unbiased=False), (M,)),
    Call("std correction", lambda m, F, a: m.std(a, dim=0, correction=2, keepdim=True), (M,)),
    Call("Tensor.std", lambda m, F, a: a.std(dim=0, keepdim=True, unbiased=False), (M,)),
    Call("Tensor.std positional", lambda m, F, a: a.std(1, False), (M,)),
    Call("max", lambda m, F, a: m.max(input=a, dim=1, keepdim=True), (M,), distinct),
    Call("max all", lambda m, F, a: m.max(input=a), (M,), distinct),
    Call("max other", lambda m, F, a, b: m.max(a, other=b), MM, distinct),
    Call("min", lambda m, F, a: m.min(input=a, dim=0), (M,), distinct),
    Call("Tensor.max", lambda m, F, a: a.max(dim=0, keepdim=True), (M,), distinct),
    Call("Tensor.min", lambda m, F, a: a.min(dim=-1), (M,), distinct),
    Call("argmax", lambda m, F, a: m.argmax(input=a, dim=1, keepdim=True), (M,), distinct),
    Call("argmin", lambda m, F, a: m.argmin(input=a, dim=0), (M,), distinct),
    Call("Tensor.argmax", lambda m, F, a: a.argmax(dim=0, keepdim=True), (M,), distinct),
    Call("logsumexp", lambda m, F, a: m.logsumexp(input=a, dim=1, keepdim=True), (M,)),
    Call("Tensor.logsumexp", lambda m, F, a: a.logsumexp(dim=0), (M,)),
    Call("softmax", lambda m, F, a: m.softmax(input=a, dim=0), (M,)),
    Call("softmax dtype", lambda m, F, a: m.softmax(a.float(), dim=1, dtype=m.float64), (M,)),
    Call("log_softmax", lambda m, F, a: m.log_softmax(input=a, dim=1), (M,)),
    Call("Tensor.softmax", lambda m, F, a: a.softmax(dim=0), (M,)),
    Call("Tensor.log_softmax", lambda m, F, a: a.log_softmax(dim=-1), (M,)),
    Call("F.softmax", lambda m, F, a: F.softmax(input=a, dim=-1, dtype=m.float64), (M,)),
    Call("F.log_softmax", lambda m, F, a: F.log_softmax(input=a, dim=0), (M,)),
    Call("F.softmax implicit dim", lambda m, F, a: F.softmax(a), (M,)),
    # ---- shape: shape, size, dims, dim0/dim1, start_dim/end_dim, tensors, ...
    Call("reshape", lambda m, F, a: m.reshape(input=a, shape=(4, 3)), (M,)),
    Call("Tensor.reshape shape=", lambda m, F, a: a.reshape(shape=(2, 6)), (M,)),
    Call("Tensor.reshape tuple", lambda m, F, a: a.reshape((6, -1)), (M,)),
    Call("Tensor.reshape sizes", lambda m, F, a: a.reshape(2, 6), (M,)),
    Call("Tensor.view", lambda m, F, a: a.view(2, 3, 2), (M,)),
    Call("Tensor.view tuple", lambda m, F, a: a.view((2, 6)), (M,)),
    Call("Tensor.view size=", lambda m, F, a: a.view(size=(-1,)), (M,)),
    Call("flatten", lambda m, F, a: m.flatten(input=a, start_dim=1, end_dim=2), ((2, 3, 4),)),
    Call("Tensor.flatten", lambda m, F, a: a.flatten(start_dim=0, end_dim=1), ((2, 3, 4),)),
    Call("transpose", lambda m, F, a: m.transpose(input=a, dim0=0, dim1=1), (M,)),
    Call("Tensor.transpose", lambda m, F, a: a.transpose(dim0=-1, dim1=0), ((2, 3, 4),)),
    Call("permute", lambda m, F, a: m.permute(input=a, dims=(2, 0, 1)), ((2, 3, 4),)),
    Call("Tensor.permute dims=", lambda m, F, a: a.permute(dims=(1, 2, 0)), ((2, 3, 4),)),
    Call("Tensor.permute tuple", lambda m, F, a: a.permute((1, 0, 2)), ((2, 3, 4),)),
    Call("Tensor.permute ints", lambda m, F, a: a.permute(2, 1, 0), ((2, 3, 4),)),
    Call("squeeze", lambda m, F, a: m.squeeze(input=a, dim=1), ((3, 1, 4),)),
    Call("squeeze dims", lambda m, F, a: m.squeeze(a, dim=(0, 2)), ((1, 3, 1, 4),)),
    Call("Tensor.squeeze", lambda m, F, a: a.squeeze(dim=-1), ((3, 1),)),
    Call("unsqueeze", lambda m, F, a: m.unsqueeze(input=a, dim=0), (M,)),
    Call("Tensor.unsqueeze", lambda m, F, a: a.unsqueeze(dim=-1), (M,)),
    Call("Tensor.expand size=", lambda m, F, a: a.expand(size=(2, 3, 4)), ((3, 1),)),
    Call("Tensor.expand ints", lambda m, F, a: a.expand(2, -1, 4), ((3, 1),)),
    Call("matmul", lambda m, F, a, b: m.matmul(input=a, other=b), ((3, 4), (4, 2))),
    Call("Tensor.matmul", lambda m, F, a, b: a.matmul(other=b), ((3, 4), (4, 2))),
    Call("mm", lambda m, F, a, b: m.mm(input=a, mat2=b), ((3, 4), (4, 2))),
    Call("Tensor.mm", lambda m, F, a, b: a.mm(mat2=b), ((3, 4), (4, 2))),
    Call("einsum list", lambda m, F, a, b: m.einsum("ij,jk->ik", [a, b]), ((3, 4), (4, 2))),
    Call("cat", lambda m, F, a, b: m.cat(tensors=[a, b], dim=1), ((3, 4), (3, 2))),
    Call("stack", lambda m, F, a, b: m.stack(tensors=(a, b), dim=-1), MM),
    Call("t", lambda m, F, a: m.t(input=a), (M,)),
    Call("Tensor.t", lambda m, F, a: a.t(), (M,)),
    Call("numel", lambda m, F, a: m.numel(input=a), (M,)),
    Call("sort", lambda m, F, a: m.sort(input=a, dim=0, descending=True, stable=True), (M,),
         distinct),
    Call("sort positional", lambda m, F, a: m.sort(a, 0, True), (M,), distinct),
    Call("Tensor.sort", lambda m, F, a: a.sort(dim=-1, descending=False), (M,), distinct),
    Call("Tensor.sort stable", lambda m, F, a: a.sort(stable=True), (M,), distinct),
    Call("topk", lambda m, F, a: m.topk(input=a, k=2, dim=0, largest=False, sorted=True), (M,),
         distinct),
    Call("Tensor.topk", lambda m, F, a: a.topk(k=3, largest=True), (M,), distinct),
    Call("gather", lambda m, F, a, i: m.gather(input=a, dim=1, index=i), ((3, 4), (3, 2)),
         (normal, labels(4))),
    Call("gather sparse_grad", lambda m, F, a, i: m.gather(a, 1, i, sparse_grad=False),
         ((3, 4), (3, 2)), (normal, labels(4))),
    Call("Tensor.gather", lambda m, F, a, i: a.gather(dim=0, index=i), ((3, 4), (2, 4)),
         (normal, labels(3))),
    Call("scatter", lambda m, F, a, b, i: m.scatter(input=a, dim=1, index=i, src=b),
         ((3, 4), (3, 4), (3, 4)), (normal, normal, _permutation_rows)),
    Call("scatter value", lambda m, F, a, i: m.scatter(input=a, dim=1, index=i[:, :2], value=0.5),
         ((3, 4), (3, 4)), (normal, _permutation_rows)),
    Call("Tensor.scatter", lambda m, F, a, b, i: a.scatter(dim=1, index=i, src=b),
         ((3, 4), (3, 4), (3, 4)), (normal, normal, _permutation_rows)),
    Call("scatter_add", lambda m, F, a, b, i: m.scatter_add(input=a, dim=0, index=i, src=b),
         ((3, 4), (2, 4), (2, 4)), (normal, normal, labels(3))),
    Call("Tensor.scatter_add", lambda m, F, a, b, i: a.scatter_add(dim=0, index=i, src=b),
         ((3, 4), (2, 4), (2, 4)), (normal, normal, labels(3))),
    Call("split", lambda m, F, a: m.split(tensor=a, split_size_or_sections=3, dim=1), (M,)),
    Call("split sections", lambda m, F, a: m.split(a, split_size_or_sections=[1, 2]), (M,)),
    Call("Tensor.split", lambda m, F, a: a.split(split_size=[1, 3], dim=1), (M,)),
    Call("chunk", lambda m, F, a: m.chunk(input=a, chunks=2, dim=1), (M,)),
    Call("Tensor.chunk", lambda m, F, a: a.chunk(chunks=3), (M,)),
    # ---- stacking, picking, diagonals, products, moments
    Call("hstack", lambda m, F, a, b: m.hstack(tensors=[a, b]), MM),
    Call("vstack", lambda m, F, a, b: m.vstack(tensors=(a, b)), MM),
    Call("dstack", lambda m, F, a, b: m.dstack(tensors=[a, b]), MM),
    Call("column_stack", lambda m, F, a, b: m.column_stack(tensors=[a, b]), MM),
    Call("roll", lambda m, F, a: m.roll(input=a, shifts=(1, -1), dims=(0, 1)), (M,)),
    Call("Tensor.roll", lambda m, F, a: a.roll(shifts=2, dims=1), (M,)),
    Call("repeat_interleave", lambda m, F, a: m.repeat_interleave(input=a, repeats=2, dim=0,
         output_size=6), (M,)),
    Call("Tensor.repeat_interleave", lambda m, F, a: a.repeat_interleave(repeats=3, dim=1), (M,)),
    Call("take_along_dim", lambda m, F, a, i: m.take_along_dim(input=a, indices=i, dim=1),
         ((3, 4), (3, 2)), (normal, labels(4))),
    Call("Tensor.take_along_dim", lambda m, F, a, i: a.take_along_dim(indices=i, dim=0),
         ((3, 4), (2, 4)), (normal, labels(3))),
    Call("masked_select", lambda m, F, a, b: m.masked_select(input=a, mask=b > 0), MM),
    Call("Tensor.masked_select", lambda m, F, a, b: a.masked_select(mask=b > 0), MM),
    Call("select", lambda m, F, a: m.select(input=a, dim=1, index=2), (M,)),
    Call("unbind", lambda m, F, a: m.unbind(input=a, dim=1), (M,)),
    Call("tensor_split", lambda m, F, a: m.tensor_split(input=a, sections=3, dim=1), (M,)),
    Call("tensor_split indices", lambda m, F, a: m.tensor_split(a, indices=[1, 2]), (M,)),
    Call("Tensor.tensor_split", lambda m, F, a: a.tensor_split(2, dim=0), (M,)),
    Call("index_add", lambda m, F, a, s: m.index_add(input=a, dim=0, index=m.tensor([2, 0]),
         source=s, alpha=2.0), ((3, 4), (2, 4))),
    Call("index_fill", lambda m, F, a: m.index_fill(input=a, dim=1, index=m.tensor([1]),
         value=0.5), (M,)),
    Call("diag", lambda m, F, a: m.diag(input=a, diagonal=1), (M,)),
    Call("diagonal", lambda m, F, a: m.diagonal(input=a, offset=-1, dim1=1, dim2=0), (M,)),
    Call("Tensor.diagonal", lambda m, F, a: a.diagonal(offset=1, dim1=-2, dim2=-1), ((2, 3, 4),)),
    Call("trace", lambda m, F, a: m.trace(input=a), (M,)),
    Call("meshgrid", lambda m, F, a, b: m.meshgrid(a[0], b[:, 0], indexing="xy"), MM),
    Call("meshgrid list", lambda m, F, a, b: m.meshgrid([a[0], b[:, 0]], indexing="ij"), MM),
    Call("addmm", lambda m, F, c, a, b: m.addmm(input=c, mat1=a, mat2=b, beta=0.5, alpha=2),
         ((3, 2), (3, 4), (4, 2))),
    Call("baddbmm", lambda m, F, c, a, b: m.baddbmm(input=c, batch1=a, batch2=b, beta=0, alpha=3),
         ((2, 3, 2), (2, 3, 4), (2, 4, 2))),
    Call("cross", lambda m, F, a, b: m.cross(input=a, other=b, dim=1), ((4, 3), (4, 3))),
    Call("kron", lambda m, F, a, b: m.kron(input=a, other=b), ((2, 3), (3, 2))),
    Call("lerp", lambda m, F, a, b, w: m.lerp(input=a, end=b, weight=w), ((3, 4),) * 3),
    Call("Tensor.lerp", lambda m, F, a, b: a.lerp(end=b, weight=0.25), MM),
    Call("nan_to_num", lambda m, F, a: m.nan_to_num(input=a / 0.0, nan=0.5, posinf=1.0,
         neginf=-1.0), (M,)),
    Call("atan2", lambda m, F, a, b: m.atan2(input=a, other=b), MM, (normal, away_from_zero)),
    Call("Tensor.atan2", lambda m, F, a, b: a.atan2(other=b), MM, (normal, away_from_zero)),
    Call("cumprod", lambda m, F, a: m.cumprod(input=a.float(), dim=1, dtype=m.float64), (M,)),
    Call("Tensor.cumprod", lambda m, F, a: a.cumprod(dim=0), (M,)),
    Call("var_mean", lambda m, F, a: m.var_mean(input=a, dim=1, correction=0, keepdim=True), (M,)),
    Call("var_mean unbiased", lambda m, F, a: m.var_mean(a, 0, False), (M,)),
    Call("std_mean", lambda m, F, a: m.std_mean(input=a, dim=0, unbiased=False), (M,)),
    Call("median", lambda m, F, a: m.median(input=a, dim=1, keepdim=True), (M,), distinct),
    Call("median all", lambda m, F, a: m.median(input=a), (M,), distinct),
    Call("Tensor.median", lambda m, F, a: a.median(dim=0), (M,), distinct),
    Call("unique", lambda m, F, y: m.unique(input=y, sorted=True, return_inverse=True,
         return_counts=True), ((12,),), labels(4)),
    Call("unique dim", lambda m, F, y: m.unique(y, dim=0, return_inverse=True), ((6, 2),),
         labels(2)),
    Call("bincount", lambda m, F, y, w: m.bincount(input=y, weights=w, minlength=6), ((8,), (8,)),
         (labels(4), normal), constant=(1,)),
    Call("nonzero", lambda m, F, a: m.nonzero(input=a > 0, as_tuple=True), (M,)),
    Call("Tensor.nonzero", lambda m, F, a: (a > 0).nonzero(), (M,)),
    Call("argwhere", lambda m, F, a: m.argwhere(input=a > 0), (M,)),
    # ---- nn.functional
    Call("F.relu", lambda m, F, a: F.relu(input=a, inplace=False), (M,), away_from_zero),
    Call("F.leaky_relu", lambda m, F, a: F.leaky_relu(input=a, negative_slope=0.2, inplace=False),
         (M,), away_from_zero),
    Call("F.sigmoid", lambda m, F, a: F.sigmoid(input=a), (M,)),
    Call("F.tanh", lambda m, F, a: F.tanh(input=a), (M,)),
    Call("F.gelu", lambda m, F, a: F.gelu(input=a), (M,)),
    Call("F.gelu none", lambda m, F, a: F.gelu(a, approximate="none"), (M,)),
    Call("F.gelu tanh", lambda m, F, a: F.gelu(input=a, approximate="tanh"), (M,)),
    Call("F.pad", lambda m, F, a: F.pad(input=a, pad=(1, 2), mode="constant", value=0.5), (M,)),
    Call("F.pad no value", lambda m, F, a: F.pad(a, pad=(0, 1, 1, 0)), (M,)),
    Call("F.linear", lambda m, F, x, w, b: F.linear(input=x, weight=w, bias=b),
         ((3, 4), (5, 4), (5,))),
    Call("F.conv2d", lambda m, F, x, w, b: F.conv2d(input=x, weight=w, bias=b, stride=2,
         padding=1, dilation=1, groups=1), ((2, 3, 6, 5), (4, 3, 3, 3), (4,))),
    Call("F.max_pool2d", lambda m, F, x: F.max_pool2d(input=x, kernel_size=2, stride=1, padding=1,
         dilation=1, ceil_mode=False, return_indices=False), ((2, 3, 5, 4),), distinct),
    Call("F.avg_pool2d", lambda m, F, x: F.avg_pool2d(input=x, kernel_size=(3, 2), stride=2,
         padding=1, ceil_mode=False, count_include_pad=False, divisor_override=None),
         ((2, 3, 5, 4),)),
    Call("F.dropout", lambda m, F, a: F.dropout(input=a, p=0.3, training=False, inplace=False),
         (M,)),
    Call("F.one_hot", lambda m, F, y: F.one_hot(input=y, num_classes=5), ((4,),), labels(5)),
    Call("F.mse_loss", lambda m, F, a, b: F.mse_loss(input=a, target=b, reduction="sum"), MM),
    Call("F.mse_loss weight", lambda m, F, a, b, w: F.mse_loss(a, b, reduction="none", weight=w),
         ((3, 4), (3, 4), (3, 4)), (normal, normal, positive)),
    Call("F.mse_loss reduce", lambda m, F, a, b: F.mse_loss(a, b, reduce=False), MM),
    Call("F.l1_loss", lambda m, F, a, b: F.l1_loss(input=a, target=b, reduction="none"), MM),
    Call("F.l1_loss size_average", lambda m, F, a, b: F.l1_loss(a, b, size_average=False), MM),
    Call("F.binary_cross_entropy", lambda m, F, p, t, w: F.binary_cross_entropy(
         input=p, target=t, weight=w, reduction="sum"), ((3, 4), (3, 4), (4,)),
         (probabilities, binary_targets, positive), constant=(2,)),
    Call("F.binary_cross_entropy_with_logits", lambda m, F, x, t, w, q:
         F.binary_cross_entropy_with_logits(input=x, target=t, weight=w, reduction="mean",
                                            pos_weight=q),
         ((3, 4), (3, 4), (4,), (4,)), (normal, binary_targets, positive, positive),
         constant=(2, 3)),
    Call("F.cross_entropy", lambda m, F, x, y, w: F.cross_entropy(
         input=x, target=y, weight=w, ignore_index=1, reduction="sum", label_smoothing=0.1),
         ((5, 3), (5,), (3,)), (normal, labels(3), positive), constant=(2,)),
    Call("F.cross_entropy reduce", lambda m, F, x, y: F.cross_entropy(x, y, reduce=False),
         ((5, 3), (5,)), (normal, labels(3))),
    Call("F.nll_loss", lambda m, F, x, y, w: F.nll_loss(
         input=x, target=y, weight=w, ignore_index=0, reduction="mean"),
         ((5, 3), (5,), (3,)), (normal, labels(3), positive), constant=(2,)),
    Call("F.multi_margin_loss", lambda m, F, x, y, w: F.multi_margin_loss(
         input=x, target=y, p=2, margin=0.5, weight=w, reduction="sum"),
         ((5, 3), (5,), (3,)), (normal, labels(3), positive), constant=(2,)),
]
# fmt: on


def _arrays(call: Call, seed=0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    makers = call.make if isinstance(call.make, tuple) else (call.make,) * len(call.shapes)
    return [make(rng, shape) for make, shape in zip(makers, call.shapes)]


def _leaves(values) -> list:
    """The tensors and numbers of an output: itself, or the items of a tuple."""
    if isinstance(values, (tuple, list)):
        return [v for item in values for v in _leaves(item)]
    return [values]


def _grad_inputs(call: Call, arrays: list[np.ndarray]) -> list[bool]:
    return [a.dtype.kind == "f" and i not in call.constant for i, a in enumerate(arrays)]


@pytest.mark.parametrize("call", CALLS, ids=lambda c: c.name)
def test_keyword_call_agrees_with_torch(call):
    arrays = _arrays(call)
    flags = _grad_inputs(call, arrays)
    xs = [ds.tensor(a, dtype=a.dtype, requires_grad=f) for a, f in zip(arrays, flags)]
    ts = [torch.tensor(a, requires_grad=f) for a, f in zip(arrays, flags)]
    out = _leaves(call.fn(ds, F, *xs))
    tout = _leaves(call.fn(torch, torch.nn.functional, *ts))
    assert len(out) == len(tout), f"{call.name}: {len(out)} outputs, torch gives {len(tout)}"
    for o, t in zip(out, tout):
        if isinstance(t, torch.Tensor):
            assert isinstance(o, ds.Tensor), f"{call.name}: a {type(o).__name__}, not a Tensor"
            assert o.shape == tuple(t.shape), f"{call.name}: shape {o.shape} != {tuple(t.shape)}"
            assert o.dtype == np.dtype(str(t.dtype).removeprefix("torch.")), call.name
            np.testing.assert_allclose(o.numpy(), t.detach().numpy(), rtol=1e-6, atol=1e-7)
        else:
            assert o == t, f"{call.name}: {o!r} != {t!r}"
    floats = [(o, t) for o, t in zip(out, tout) if isinstance(t, torch.Tensor) and t.requires_grad]
    if not floats:
        return
    total = ds.cat([o.reshape(-1) for o, _ in floats]).sum()
    ttotal = torch.cat([t.reshape(-1) for _, t in floats]).sum()
    diff = [x for x in xs if x.requires_grad]
    grads = ds.grad(total, diff, allow_unused=True)
    tgrads = torch.autograd.grad(ttotal, [t for t in ts if t.requires_grad], allow_unused=True)
    for g, tg in zip(grads, tgrads):
        if tg is None:
            assert g is None or not np.any(g.numpy())
            continue
        np.testing.assert_allclose(g.numpy(), tg.numpy(), rtol=1e-6, atol=1e-7)


# ---- the signatures stay plain -------------------------------------------------------------


def _public_functions():
    for name in ds.__all__:
        obj = getattr(ds, name)
        if inspect.isfunction(obj):
            yield f"ds.{name}", obj
    for name in F.__all__:
        yield f"F.{name}", getattr(F, name)
    for name, obj in vars(ds.Tensor).items():
        if inspect.isfunction(obj) and not name.startswith("_"):
            yield f"Tensor.{name}", obj


# uniform_'s ``from`` is a Python keyword, so it reads its bounds from **kwargs, and
# refuses any other name itself
TAKES_KWARGS = {"Tensor.uniform_"}


def test_no_signature_swallows_unknown_keywords():
    swallowing = [
        name
        for name, fn in _public_functions()
        if any(p.kind is p.VAR_KEYWORD for p in inspect.signature(fn).parameters.values())
        and name not in TAKES_KWARGS
    ]
    assert not swallowing, f"these take **kwargs, so a misspelt keyword passes: {swallowing}"


@pytest.mark.parametrize(
    "call",
    [
        lambda x: ds.sum(x, dims=0),
        lambda x: x.sum(keep_dim=True),
        lambda x: ds.matmul(x, other=x, out=None),
        lambda x: x.reshape(2, 2, size=(4,)),
        lambda x: x.view(2, 2, size=(4,)),
        lambda x: x.permute(1, 0, dims=(1, 0)),
        lambda x: F.cross_entropy(x, ds.tensor([0, 1]), smoothing=0.1),
        lambda x: ds.clamp(x, lo=0),
    ],
    ids=["sum dims", "keep_dim", "out", "reshape twice", "view twice", "permute twice",
         "smoothing", "lo"],
)  # fmt: skip
def test_a_wrong_keyword_is_a_type_error(call):
    with pytest.raises(TypeError):
        call(ds.ones(2, 2))


# ---- keywords that act, and keywords that refuse what descent does not do ----------------


def test_uniform_refuses_a_wrong_keyword():
    with pytest.raises(TypeError, match="lo"):
        ds.zeros(2).uniform_(lo=0.0)


def test_inplace_relu_changes_a_tensor_outside_the_graph():
    x = ds.tensor([-1.0, 2.0])
    assert F.relu(x, inplace=True) is x
    assert x.tolist() == [0.0, 2.0]
    y = ds.tensor([-1.0, 2.0])
    assert F.leaky_relu(y, 0.5, inplace=True) is y and y.tolist() == [-0.5, 2.0]


def test_inplace_relu_in_a_graph_gives_the_same_values_and_gradient():
    x = ds.tensor([-1.0, 2.0], requires_grad=True)
    h = x * 1.0
    out = F.relu(h, inplace=True)
    out.sum().backward()
    assert out.tolist() == [0.0, 2.0] and x.grad.tolist() == [0.0, 1.0]


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda x, w: F.conv2d(x, w, dilation=2), "dilation"),
        (lambda x, w: F.conv2d(x, w, groups=3), "groups"),
        (lambda x, w: F.max_pool2d(x, 2, ceil_mode=True), "ceil_mode"),
        (lambda x, w: F.max_pool2d(x, 2, dilation=2), "dilation"),
        (lambda x, w: F.max_pool2d(x, 2, return_indices=True), "return_indices"),
        (lambda x, w: F.avg_pool2d(x, 2, divisor_override=3), "divisor_override"),
        (lambda x, w: F.avg_pool2d(x, 2, ceil_mode=True), "ceil_mode"),
    ],
)
def test_unsupported_settings_are_refused_by_name(call, words):
    x, w = ds.ones(1, 3, 6, 6), ds.ones(3, 3, 3, 3)
    with pytest.raises(NotImplementedError, match=words):
        call(x, w)


def test_softmax_without_dim_on_more_than_two_dims_asks_for_one():
    with pytest.raises(ValueError, match="dim"):
        F.softmax(ds.ones(2, 3, 4))
