"""The package's face: what `import descent` loads, and what it reaches on first use."""

import subprocess
import sys

import descent as ds


def test_import_descent_loads_only_the_core_and_reaches_the_rest_on_first_use():
    code = (
        "import sys, descent as ds\n"
        "heavy = ['descent.models', 'descent.viz', 'descent.lessons', 'descent.train', "
        "'matplotlib', 'sklearn', 'safetensors', 'torch']\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
        "print(ds.models.LinearRegression.__name__, ds.viz.graph.__name__)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded, reached = out.stdout.strip().splitlines()
    assert loaded == "[]"
    assert reached == "LinearRegression graph"


def test_an_unknown_attribute_is_an_attribute_error():
    try:
        ds.no_such_thing  # noqa: B018
    except AttributeError as e:
        assert "no_such_thing" in str(e)
    else:
        raise AssertionError("ds.no_such_thing did not raise")
