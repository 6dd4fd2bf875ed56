"""Small helpers shared by several test files."""

import numpy as np


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
