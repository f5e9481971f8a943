"""The options of ``helsesim-report`` that act on a job's tables before its report is drawn
(:func:`helsesim.report.main` parses them with its own through :func:`parse_args`).

    helsesim-report results/compare_allocation/<time> --recompute   # outcomes from the tables
    helsesim-report results/multirun/<time> --recompute             # each job, then gathered

``--recompute`` rewrites the outcome columns of the runs table and the summaries of a job (of
every job of a multirun folder) from its stored tables (:mod:`helsesim.runner.recompute`),
without running the model again, e.g. after an outcome was added or its function changed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from helsesim.runner.manifest import ManifestError
from helsesim.runner.recompute import recompute_job

#: Exit status of a folder that cannot be recomputed (as ``helsesim-report``'s other errors).
REFUSED_STATUS = 2


def parse_args(parser: argparse.ArgumentParser, argv: Sequence[str] | None = None
               ) -> argparse.Namespace:
    """Add this module's options to ``helsesim-report``'s parser, parse the command line, and
    do what they ask (recompute first); returns the parsed arguments.

    A folder that cannot be recomputed ends the command with one line on stderr and exit
    status 2, before anything is written.
    """
    parser.add_argument("--recompute", action="store_true",
                        help="first rewrite the outcome columns of runs.parquet and the "
                             "summaries from the stored tables (of each job of a multirun), "
                             "without running the model")
    args = parser.parse_args(argv)
    if args.recompute:
        try:
            for job in jobs(Path(args.path)):
                n = recompute_job(job)
                print(f"recomputed the outcomes of {n} runs in {job}")
        except (FileNotFoundError, ValueError, ManifestError) as e:
            print(f"{parser.prog}: {e}", file=sys.stderr)
            sys.exit(REFUSED_STATUS)
    return args


def jobs(path: Path) -> list[Path]:
    """The job folders of ``path`` as ``helsesim-report`` reads it: the jobs of a multirun
    folder (its sub-folders with a runs table), else the folder itself.

    Raises:
        FileNotFoundError: ``path`` holds no job.
    """
    if not path.is_dir():
        raise FileNotFoundError(f"{path} is not a folder")
    found = [d for d in path.iterdir() if d.is_dir() and (d / "runs.parquet").exists()]
    if found:
        return sorted(found, key=lambda d: (0, int(d.name)) if d.name.isdigit() else (1, d.name))
    if (path / "runs.parquet").exists():
        return [path]
    raise FileNotFoundError(f"no results under {path}: expected runs.parquet (a job folder) or "
                            "job sub-folders (a multirun folder)")
