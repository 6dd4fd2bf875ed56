"""The file fuzzer (tools/fuzz), short: a few thousand mutants of valid files, each read in
a bounded child process; any unclear error, crash, hang or silent misreading fails.
``make fuzz`` runs the long campaign."""

import io
import json
import signal
import subprocess
import sys

import pytest

from tools.fuzz import __main__ as fuzz
from tools.fuzz import campaign


def run_campaign(tmp_path, *argv) -> tuple:
    out = io.StringIO()
    args = fuzz.parse([*argv, "--save", str(tmp_path / "failures")])
    counts = campaign.run(args, out=out)
    return counts, out.getvalue()


def bad_outcomes(counts) -> int:
    return sum(n for (_, outcome), n in counts.items() if outcome in campaign.BAD)


def test_data_readers_survive_mutants(tmp_path):
    counts, report = run_campaign(tmp_path, "--inputs", "3000", "--formats", "csv,idx,npz")
    print(report)
    assert sum(counts.values()) == 3000
    assert bad_outcomes(counts) == 0, report
    for fmt in ("csv", "idx", "npz"):
        assert counts[(fmt, "clear")] > 500, report  # the mutants do reach the checks


def test_checkpoints_survive_mutants(tmp_path):
    counts, report = run_campaign(tmp_path, "--inputs", "1000", "--formats", "checkpoint")
    print(report)
    assert sum(counts.values()) == 1000
    assert bad_outcomes(counts) == 0, report


def test_replay_runs_saved_inputs_again(tmp_path):
    saved = tmp_path / "saved"
    saved.mkdir()
    (saved / "a.csv").write_text("sepal_length,sepal_width,label\n1_000,2,0\n")
    (saved / "b.csv").write_text("sepal_length,sepal_width,label\n5.1,3.5,0\n")
    jobs = [
        {"id": 0, "format": "csv", "seed": "classes.csv", "mutation": "by hand", "file": "a.csv"},
        {"id": 1, "format": "csv", "seed": "classes.csv", "mutation": "by hand", "file": "b.csv"},
    ]
    (saved / "manifest.jsonl").write_text("".join(json.dumps(j) + "\n" for j in jobs))
    counts, report = run_campaign(tmp_path, "--replay", str(saved))
    assert counts == {("csv", "clear"): 1, ("csv", "changed"): 1}, report


def test_a_worker_that_falls_silent_is_a_hang(tmp_path):
    counts, report = run_campaign(
        tmp_path, "--inputs", "4", "--formats", "idx", "--timeout", "1e-6"
    )
    assert counts == {("idx", "hang"): 4}, report
    assert (tmp_path / "failures" / "manifest.jsonl").read_text().count("\n") == 4


@pytest.mark.parametrize(
    "code, outcome",
    [
        ("import os; os.kill(os.getpid(), 11)", ("crash", "killed by signal SIGSEGV")),
        ("import os; os.kill(os.getpid(), signal.SIGXCPU)", ("hang", "ran out of CPU time")),
        ("raise SystemExit(3)", ("crash", "exited with status 3")),
    ],
    ids=["segfault", "cpu-limit", "exit"],
)
def test_how_a_worker_died_is_classified(code, outcome):
    proc = subprocess.Popen([sys.executable, "-c", f"import signal; {code}"])
    got = campaign._death(proc)
    assert got[0] == outcome[0] and got[1].startswith(outcome[1])
    assert signal.SIGXCPU  # the limit the workers run under


def test_options_are_checked():
    with pytest.raises(SystemExit):
        fuzz.parse(["--formats", "csv,pdf"])
    with pytest.raises(SystemExit):
        fuzz.parse(["--inputs", "0"])
    args = fuzz.parse(["--formats", "npz, idx", "--jobs", "1"])
    assert args.formats == ["npz", "idx"] and args.jobs == 1
