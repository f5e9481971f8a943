"""Typed schemas of the workbench's configuration groups: ``targets`` and ``calibration``.

They are part of the job's configuration (:class:`helsesim.hydra_schema.HelsesimConfig`), so a
misspelt key in ``conf/targets/*.yaml`` or ``conf/calibration/*.yaml`` fails when Hydra
composes the command, before any run. This module imports no analysis library.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from helsesim.config import p

#: How a target judges its statistic.
TARGET_KINDS = ("value", "interval", "upper", "lower", "sign", "order")
#: What a target is for: a term of the calibration distance, a prior (reported: the statistic
#: is close to one parameter), or a check (reported, never fitted).
TARGET_ROLES = ("distance", "prior", "check")


@dataclass
class TargetSpec:
    """One empirical pattern as a summary statistic of a run (``conf/targets/*.yaml``)."""

    name: str = p("", "-", "-", "The statistic's name: a function of the same name in "
                  "`helsesim.analysis.targets.STATISTICS` computes it from a run's tables.")
    pattern: str = p("", "-", "-", "The pattern of the model brief (P1-P9) or another label.")
    statistic: str = p("", "-", "-", "What is counted, over which years and agents.")
    design: list[str] = p([], "-", "-", "Designs under which the statistic is measured (each "
                          "one separately).")
    scenario: list[str] = p([], "-", "-", "Scenarios in which the statistic is identifiable.")
    kind: str = p("interval", "-", "-", "value (|x - value| / tolerance), interval (distance "
                  "to [low, high]), upper (x <= high), lower (x >= low), sign or order (the "
                  "statistic is a difference that must lie on the side given by bounds).",
                  choices=TARGET_KINDS)
    value: float | None = p(None, "-", "-", "Central value (kind value; reported otherwise).",
                            allow_none=True)
    bounds: list[Any] = p([], "-", "-", "[low, high]; null for an open side.")
    tolerance: float | None = p(None, "-", "-", "Scale of the distance term; empty: the "
                                "target is judged, never scaled (sign, order).",
                                allow_none=True)
    status: str = p("assumed", "-", "-", "sourced, derived, directional or assumed.")
    role: str = p("distance", "-", "-", "distance, prior or check.", choices=TARGET_ROLES)
    needs: list[str] = p([], "-", "-", "Model outputs the statistic needs that the model does "
                         "not produce yet: the target is skipped, with this list, until "
                         "they exist.")
    source: list[dict[str, Any]] = p([], "-", "-", "Where the figure comes from: seed file "
                                     "and lines, or a web page, with a quote.")
    notes: str = p("", "-", "-", "Caveats.")


@dataclass
class TargetsConfig:
    """A set of targets (``targets=seeds``) or the instruction to make them from known
    parameters (``targets=synthetic``)."""

    name: str = p("", "-", "-", "Name of the target set (its file in conf/targets/).")
    description: str = p("", "-", "-", "Where the targets come from.")
    synthetic: bool = p(False, "-", "-", "Make the targets' values from a run of `truth` "
                        "instead of taking them from the file (recovery).")
    truth: dict[str, Any] = p({}, "-", "-", "Synthetic targets: the known parameter values "
                              "(dotted paths); the others stay at their defaults.")
    truth_seeds: int = p(20, "runs", "-", "Synthetic targets: seeds over which the truth's "
                         "statistics are averaged; their spread over seeds, divided by the "
                         "square root of the seeds per particle, is each term's tolerance.",
                         lo=2, hi=10_000)
    groups: dict[str, Any] = p({}, "-", "-", "Named groups the statistics use (e.g. the "
                               "seed's regions as health communities).")
    targets: list[TargetSpec] = p([], "-", "-", "The targets.")


@dataclass
class CalibrationConfig:
    """What ABC-SMC fits (``conf/calibration/*.yaml``)."""

    name: str = p("", "-", "-", "Name of the parameter set (its file in conf/calibration/).")
    parameters: list[str] = p([], "-", "-", "Parameters to fit (dotted paths); their priors "
                              "are their plausible ranges (helsesim.config).")
    designs: list[str] = p(["open_call"], "-", "-", "Designs each particle runs (a target "
                           "measured under another design is skipped, and said so).")
    min_acceptance: float = p(0.02, "share", "-", "Stop when fewer than this share of "
                              "proposed particles is accepted.", lo=0.0, hi=1.0)


@dataclass
class Question:
    """A scenario-discovery question: in which worlds does ``design`` beat ``rival`` on
    ``outcome``?"""

    design: str = p("two_stream", "-", "-", "The design that should win.")
    rival: str = p("governance_led", "-", "-", "The design it is compared with.")
    outcome: str = p("vacancy_rate_small", "-", "-", "The outcome (its registry direction "
                     "says which way is better).")




