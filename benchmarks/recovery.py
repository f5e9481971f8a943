"""Recovery: calibrate to synthetic targets made from known parameter values and check that the
truth lies in the 90 % credible intervals (issue 11: >= 80 % of the fitted parameters, in
<= 20 minutes on 2 cores).

    python benchmarks/recovery.py                 # the full recovery (results/recovery/)
    python benchmarks/recovery.py --small         # a quick look (~1 minute)
    python benchmarks/recovery.py --out DIR -- experiment.population_size=200   # more overrides

The same as ``helsesim experiment=calibrate targets=synthetic`` with the settings below; the
truth is ``targets.truth`` in conf/targets/synthetic.yaml, the fitted parameters
conf/calibration/default.yaml. Rerunning with the same folder resumes the ABC database.
Prints the recovery table, the share recovered and the time.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

FULL = ["experiment.population_size=100", "experiment.max_generations=6",
        "experiment.n_seeds=2", "experiment.n_predictive=20", "targets.truth_seeds=20"]
SMALL = ["experiment.population_size=16", "experiment.max_generations=2",
         "experiment.n_seeds=1", "experiment.n_predictive=4", "targets.truth_seeds=6",
         "years=5"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--small", action="store_true", help="a quick look instead of the full run")
    ap.add_argument("--out", type=Path, default=None, help="job folder (default results/recovery"
                    "[-small])")
    ap.add_argument("overrides", nargs="*", help="more Hydra overrides")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    from helsesim import analysis
    from helsesim.runner import compose_config

    settings = SMALL if args.small else FULL
    out = args.out or Path("results") / ("recovery-small" if args.small else "recovery")
    cfg = compose_config(["experiment=calibrate", "targets=synthetic", "experiment.progress=false",
                          *settings, *args.overrides])
    t0 = time.perf_counter()
    info = analysis.run(cfg, out)
    seconds = time.perf_counter() - t0
    s = info["summary"]
    print(f"recovery ({'small' if args.small else 'full'}): {' '.join(settings + args.overrides)}")
    print(f"{info['generations']} generations, {info['evaluations']} model evaluations, "
          f"{seconds:.0f} s ({seconds / 60:.1f} min) on this machine")
    print(f"{'parameter':42s} {'truth':>9s} {'median':>9s} {'90 % interval':>22s} {'width':>6s} in")
    for r in s.itertuples():
        print(f"{r.parameter:42s} {r.truth:9.4g} {r.median:9.4g} "
              f"[{r.q05:9.4g}, {r.q95:9.4g}] {r.width_ratio:6.2f} "
              f"{'yes' if r.truth_in_90 else 'NO'}")
    share = float(s["truth_in_90"].mean())
    print(f"truth inside the 90 % interval: {int(s['truth_in_90'].sum())} of {len(s)} "
          f"({share:.0%}; target >= 80 %); report: {out / 'calibration.md'}")
    return 0 if share >= 0.8 else 1


if __name__ == "__main__":
    sys.exit(main())
