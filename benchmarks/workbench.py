"""How long the researcher's workbench takes (issue 11), on this machine.

    python benchmarks/workbench.py                  # Morris screen + Sobol estimate (~10 min)
    python benchmarks/workbench.py --recovery       # ... and the full recovery (~20 min more)
    python benchmarks/workbench.py --sobol-n 32     # the base sample the Sobol time is measured on
    python benchmarks/workbench.py --out DIR        # keep the Morris and Sobol job folders

Prints:

* the Morris screen of every uncertain parameter (10 trajectories, 3 seeds, nordland, one
  design, 10 years) -- target <= 5 minutes on 2 cores;
* a Sobol run of 10 parameters with N = 512, two designs paired, 3 seeds: measured with a
  smaller N (``--sobol-n``) and extrapolated linearly in the number of runs (the runs dominate;
  said so in the output);
* with ``--recovery``: the full recovery of benchmarks/recovery.py -- target <= 20 minutes.

Timings on a shared machine are noisy; run it when nothing else runs.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from pathlib import Path


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def timed(overrides: list[str], out: Path) -> tuple[float, dict]:
    from helsesim import analysis
    from helsesim.runner import compose_config

    cfg = compose_config([*overrides, "experiment.progress=false"])
    t0 = time.perf_counter()
    info = analysis.run(cfg, out)
    return time.perf_counter() - t0, info


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sobol-n", type=int, default=16, help="base sample of the measured Sobol run")
    ap.add_argument("--recovery", action="store_true", help="also run the full recovery")
    ap.add_argument("--out", type=Path, default=None, help="keep the Morris and Sobol job "
                    "folders here (DIR/morris, DIR/sobol; default: a temporary folder)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    print(f"helsesim workbench benchmark on {_cores()} cores")
    with tempfile.TemporaryDirectory(prefix="hs-workbench-") as scratch:
        tmp = str(args.out or scratch)
        seconds, info = timed(["experiment=sensitivity", "experiment.designs=[open_call]",
                               "experiment.n_trajectories=10", "experiment.n_seeds=3",
                               "experiment.top_k=0"], Path(tmp) / "morris")
        m = info["stages"]["morris"]
        print(f"Morris screen: {m['parameters']} parameters, 10 trajectories, {m['points']} "
              f"points x 3 seeds = {m['runs']} runs (nordland, open_call, 10 years): "
              f"{seconds:.0f} s = {seconds / 60:.1f} min (target <= 5 min on 2 cores)")
        import pandas as pd

        from helsesim.analysis.sensitivity import top_parameters

        table = pd.read_parquet(Path(tmp) / "morris" / "sensitivity.parquet")
        outcomes = list(table["outcome"].unique())
        names = top_parameters(table, outcomes, 10)
        n = args.sobol_n
        seconds, info = timed(["experiment=sensitivity",
                               "experiment.designs=[open_call,two_stream]",
                               "experiment.n_seeds=3", "experiment.n_trajectories=2",
                               f"experiment.parameters=[{','.join(names)}]",
                               "experiment.top_k=10", f"experiment.n_base={n}"],
                              Path(tmp) / "sobol")
        s = info["stages"]["sobol"]
        morris_part = info["stages"]["morris"]["runs"]
        per_run = seconds / (s["runs"] + morris_part)
        full_runs = 512 * (10 + 2) * 2 * 3
        print(f"Sobol, 10 parameters, two designs paired, 3 seeds: measured N = {n}: "
              f"{s['points']} points, {s['runs']} runs (+ {morris_part} runs of a 2-trajectory "
              f"Morris on the same 10) in {seconds:.0f} s, {per_run * 1000:.0f} ms per run")
        print(f"  N = 512 would be {full_runs} runs: ESTIMATED {full_runs * per_run / 60:.0f} min "
              f"({full_runs * per_run / 3600:.1f} h) by scaling the measured time per run "
              "(not run)")
    if args.recovery:
        import subprocess

        t0 = time.perf_counter()
        rc = subprocess.call([sys.executable, str(Path(__file__).with_name("recovery.py")),
                              "--out", str(Path("results") / "recovery-benchmark")])
        seconds = time.perf_counter() - t0
        print(f"recovery (benchmarks/recovery.py): {seconds:.0f} s = {seconds / 60:.1f} min "
              f"(target <= 20 min on 2 cores); exit status {rc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
