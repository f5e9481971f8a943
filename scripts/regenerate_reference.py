"""Regenerate the reference results under results/reference/ -- on purpose.

    python scripts/regenerate_reference.py            # every reference experiment
    python scripts/regenerate_reference.py way_forward

tests/test_reference.py reruns each reference experiment and requires the same results. When a
change of the model or its calibration is meant to change them, run this script, review the
differences (``git diff results/reference``) and commit them with the change that caused them.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
import time

from helsesim.runner.manifest import git_info, versions
from helsesim.runner.reference import (
    REFERENCE_DIR,
    REFERENCE_RUN,
    REFERENCES,
    run_reference,
    to_reference_csv,
)
from helsesim.runner.store import write_text


def regenerate(name: str) -> None:
    overrides = REFERENCES[name]
    t0 = time.perf_counter()
    res, tables = run_reference(overrides)
    out = REFERENCE_DIR / name
    for table, df in tables.items():
        write_text(out / f"{table}.csv", to_reference_csv(df))
    meta = {
        "name": name,
        "overrides": overrides,
        "run_with": REFERENCE_RUN,
        "regenerate": f"python scripts/regenerate_reference.py {name}",
        "experiment": res.plan.info(),
        "config": dataclasses.asdict(res.plan.config),
        "versions": versions(),
        "git": git_info(),
    }
    write_text(out / "config.json", json.dumps(meta, indent=2, default=str) + "\n")
    print(f"REGENERATED reference results of {name!r} in {out} "
          f"({len(tables['runs'])} runs, {time.perf_counter() - t0:.1f} s)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("names", nargs="*",
                    help=f"reference experiments (default: all of {', '.join(REFERENCES)})")
    args = ap.parse_args(argv)
    unknown = [n for n in args.names if n not in REFERENCES]
    if unknown:
        ap.error(f"unknown reference {unknown}; allowed: {', '.join(REFERENCES)}")
    logging.basicConfig(level=logging.WARNING)
    for name in args.names or list(REFERENCES):
        regenerate(name)
    print("The expected results under results/reference/ were rewritten on purpose. Review them "
          "with `git diff results/reference` and commit them with the change that caused them.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
