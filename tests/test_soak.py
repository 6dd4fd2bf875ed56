"""The kill -9 soak, short: three runs killed with SIGKILL and resumed (``make soak`` runs 20)."""

from __future__ import annotations

import pytest

from tools import soak

pytest.importorskip("sklearn")  # ds.datasets.load_digits reads scikit-learn's copy


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("soak")
    return soak.soak(kills=3, epochs=3, hidden=512, seed=0, folder=folder, log=lambda line: None)


def test_killed_runs_resume_bit_identical_with_whole_checkpoints_and_equal_logs(report):
    table = report.table()
    assert report.kills == 3
    assert report.count("loadable") == 3, table
    assert report.count("identical") == 3, table
    assert report.count("logs_identical") == 3, table
    assert all(t.checkpoints <= 3 for t in report.trials)


def test_killed_runs_leave_no_temporary_file(report):
    assert report.temp_files_left == 0, report.table()
