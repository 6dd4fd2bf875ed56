"""Small helpers shared by several test files."""

from html.parser import HTMLParser

import numpy as np
import torch

import descent as ds


def assert_plain(value, where="state_dict") -> None:
    """Only arrays, Python numbers, bools, strings, None, and lists/dicts of those."""
    if isinstance(value, dict):
        for k, v in value.items():
            assert isinstance(k, (str, int)), f"{where}: key {k!r} is {type(k).__name__}"
            assert_plain(v, f"{where}[{k!r}]")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            assert_plain(v, f"{where}[{i}]")
    else:
        plain = (np.ndarray, bool, int, float, str, type(None))
        assert type(value) in plain, f"{where} is a {type(value).__name__}: {value!r}"


def f64(values, requires_grad=True) -> ds.Tensor:
    """A float64 descent tensor (requiring grad by default)."""
    return ds.tensor(values, dtype=ds.float64, requires_grad=requires_grad)


def as_torch(values, requires_grad=True) -> torch.Tensor:
    """The same values as a float64 torch tensor."""
    return torch.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


def assert_close(actual, expected, rtol=1e-12, atol=1e-12):
    """Same shape and values; either side a descent tensor, a torch tensor or an array."""
    a = actual.numpy() if isinstance(actual, ds.Tensor) else np.asarray(actual)
    e = expected.detach().numpy() if isinstance(expected, torch.Tensor) else np.asarray(expected)
    assert a.shape == e.shape, f"shape {a.shape} != {e.shape}"
    np.testing.assert_allclose(a, e, rtol=rtol, atol=atol)


class PageParts(HTMLParser):
    """The start tags of an HTML page, in order, and the ``src`` of each ``<img>``."""

    def __init__(self, text: str):
        super().__init__()
        self.tags: list[str] = []
        self.images: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "img":
            self.images.append(dict(attrs)["src"])
