"""The file fuzzer: mutations of valid checkpoint, CSV, IDX and NPZ files, each read in a
bounded child process, every outcome classified (``python -m tools.fuzz --help``).

- ``seeds.py`` builds the valid files and says how each is read;
- ``mutate.py`` turns a seed into a mutant (generic byte edits and edits that know the
  format);
- ``worker.py`` is the child: it reads mutants under time and memory limits and says what
  happened;
- ``campaign.py`` runs the workers, classifies, prints the table and saves the bad inputs.
"""
