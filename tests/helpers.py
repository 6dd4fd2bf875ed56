"""Small helpers shared by several test files."""

import inspect
import re
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


# ---- lessons whose numbers include measurements (times), different in every run ----------------

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


def measured_keys(name: str) -> tuple:
    """The results keys of lesson ``name`` that it measures when it runs (its module's
    ``MEASURED``, e.g. ('timing',)); () for a lesson whose every number is computed."""
    from descent import lessons

    return tuple(getattr(inspect.getmodule(lessons.LESSONS[name]), "MEASURED", ()))


def steady(text: str) -> str:
    """``text`` with every number replaced by '#', and the padding of table columns (runs of
    spaces and of dashes, whose widths follow the numbers) made one wide: two runs of a
    lesson that measures times print the same text in this form."""
    text = _NUMBER.sub("#", text)
    return re.sub(r"-{2,}", "--", re.sub(r" {2,}", " ", text))


def computed_results(results: dict, name: str) -> dict:
    """``results`` without the keys lesson ``name`` measures (what must repeat exactly)."""
    return {k: v for k, v in results.items() if k not in measured_keys(name)}
