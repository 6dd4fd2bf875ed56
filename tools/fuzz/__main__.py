"""``python -m tools.fuzz``: mutate valid checkpoint, CSV, IDX and NPZ files and read each
mutant in a bounded child process; print the outcomes per format (``make fuzz``).

Exit status 1 when any input ended unclear, crashed, hung or was silently misread.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

from . import campaign
from .seeds import FORMATS


def parse(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tools.fuzz", description=__doc__)
    parser.add_argument("--inputs", type=int, default=10_000, help="mutants to run (10000)")
    parser.add_argument("--seed", type=int, default=0, help="the campaign's random seed (0)")
    parser.add_argument(
        "--formats", default=",".join(FORMATS), help=f"comma-separated, of {', '.join(FORMATS)}"
    )
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (2)")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per input (10)")
    parser.add_argument("--memory", type=int, default=1024, help="MiB per worker (1024)")
    parser.add_argument(
        "--save",
        default=os.path.join(tempfile.gettempdir(), "descent-fuzz-failures"),
        help="folder for the inputs with a bad outcome, to --replay (in the temp folder)",
    )
    parser.add_argument("--replay", help="run again the inputs saved in this folder")
    args = parser.parse_args(argv)
    args.formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    unknown = sorted(set(args.formats) - set(FORMATS))
    if unknown or not args.formats:
        parser.error(f"--formats: unknown {unknown}; choose from {', '.join(FORMATS)}")
    for name in ("inputs", "jobs", "memory"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if args.timeout <= 0:
        parser.error("--timeout must be positive")
    return args


def main(argv=None) -> int:
    counts = campaign.run(parse(argv))
    return 1 if any(n for (_, outcome), n in counts.items() if outcome in campaign.BAD) else 0


if __name__ == "__main__":
    sys.exit(main())
