"""What the `descent` command prints: --version, help for every option, --quiet, wrapping."""

from __future__ import annotations

import argparse
import io
import json
import re

import pytest

import descent as ds
from descent import lessons, runs
from descent.cli import build_parser, main

pytest.importorskip("sklearn")


def test_version_prints_the_package_version(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"descent {ds.__version__}"


def _options(parser: argparse.ArgumentParser, path: str = "descent"):
    """(the command, the option) for every option of the parser and its subcommands."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _options(sub, f"{path} {name}")
        elif not isinstance(action, argparse._HelpAction):
            yield path, action


def test_every_option_of_every_command_has_a_help_line():
    found = list(_options(build_parser()))
    commands = {path for path, _ in found}
    assert {"descent demo", "descent train", "descent lesson", "descent bench"} <= commands
    missing = [f"{path} {'/'.join(a.option_strings) or a.dest}" for path, a in found if not a.help]
    assert missing == []


RESULT_ONLY = re.compile(
    r"test accuracy: (\d\.\d{4}) on \d+ examples run folder: (\S+)/ \(metrics\.csv, "
    r"history\.json, model\.safetensors, results\.json, report\.html\)"
)


def _result_only(out: str) -> re.Match:
    """The test accuracy and the run folder, if ``out`` is those two lines and nothing else."""
    shown = RESULT_ONLY.fullmatch(" ".join(out.split()))
    assert shown, out
    return shown


def test_quiet_prints_the_test_result_and_the_run_folder_only(tmp_path, capsys):
    assert main(["train", "--dataset", "iris", "--model", "linear", "--epochs", "3",
                 "--runs-dir", str(tmp_path), "--name", "q", "--quiet"]) == 0  # fmt: skip
    captured = capsys.readouterr()
    shown = _result_only(captured.out)
    accuracy = json.loads((tmp_path / "q" / "results.json").read_text())["test"]["accuracy"]
    assert shown.group(1) == f"{accuracy:.4f}" and shown.group(2) == str(tmp_path / "q")
    assert captured.err == ""


def test_demo_quiet_prints_its_result_not_its_introduction(tmp_path, capsys):
    assert main(["demo", "--runs-dir", str(tmp_path), "--quiet"]) == 0
    assert _result_only(capsys.readouterr().out).group(2) == str(tmp_path / "demo-seed0")


def test_a_regression_says_which_scale_each_number_is_on(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "300")
    assert main(["train", "--dataset", "diabetes", "--model", "linear", "--epochs", "4",
                 "--runs-dir", str(tmp_path), "--name", "d"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "the target is standardised for training" in out
    line = next(line for line in out.splitlines() if line.startswith("test: mse"))
    mse = json.loads((tmp_path / "d" / "results.json").read_text())["test"]["mse"]
    std = float(ds.load(tmp_path / "d" / "model.safetensors")["target"]["std"])
    shown = re.search(r"\(([\d.e+-]+) on the standardised scale of loss and val_loss\)", line)
    assert float(shown.group(1)) == pytest.approx(mse / std**2, rel=1e-3)
    assert f"mse {mse:.4g} in the target's units" in line


def test_gradcheck_suggests_the_closest_op_names(capsys):
    assert main(["gradcheck", "tanhh"]) == 2
    err = capsys.readouterr().err
    assert "no op named tanhh; did you mean tanh" in err
    assert main(["gradcheck", "exp", "sigmod"]) == 2  # one unknown name is enough to refuse
    assert "no op named sigmod; did you mean sigmoid" in capsys.readouterr().err


@pytest.mark.parametrize("width", [60, 80])
def test_lesson_paragraphs_are_wrapped_to_the_terminal(width, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", str(width))
    assert main(["lesson", "secret-number"]) == 0
    out = capsys.readouterr().out
    lesson = lessons.run("secret-number")
    table_lines = {line for t in lesson.tables() for line in t.render().splitlines()}
    long = [line for line in out.splitlines() if len(line) > width and line not in table_lines]
    assert long == []
    assert out.split() == lesson.render().split()  # the same words, none broken
    assert max(len(line) for line in lesson.render().splitlines()) > width  # it was needed


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_a_runs_lines_are_wrapped_on_a_terminal_and_whole_in_a_file(tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")
    config = runs.RunConfig(dataset="iris", model="linear", epochs=2, runs_dir=str(tmp_path))
    term, log = _Terminal(), io.StringIO()
    runs.run(config, verbose=1, out=term)
    runs.run(config, verbose=1, out=log)
    shown = [line for line in term.getvalue().splitlines() if not line.startswith(" ")]
    assert all(len(line) <= 60 or " " not in line for line in shown)  # a long path alone
    assert max(len(line) for line in log.getvalue().splitlines()) > 60
    assert term.getvalue().split()[:12] == log.getvalue().split()[:12]
