"""The app's one door into helsesim: every call the app makes to the model, the runner, the data,
the outcome metadata and the figures goes through this package, so that re-pointing the app at a
restructured helsesim means editing this package only. It is three modules, imported here:
:mod:`.choices` (what can be chosen), :mod:`.runs` (one analysis: its setup and its run) and
:mod:`.views` (what the app shows, and the step mode).

What it uses of helsesim (and nothing else in ``helsesim.app`` imports helsesim):

* configuration: ``helsesim.config`` (the parameter dataclasses' field metadata: unit, doc,
  lo, hi), ``helsesim.api.build_config`` (a validated configuration for the step mode);
* runs: ``helsesim.runner.compose_config`` and ``run_experiment`` (the same runner as the
  ``helsesim`` command: paired seeds, worker processes, a job folder with its tables);
  progress is read from the finished parts the runner saves in ``<job>/parts``;
* step mode: ``helsesim.model.HealthSystem`` (``step()`` is one year) and its tables;
* data: ``helsesim.data`` (communities, municipality positions);
* outcomes: ``helsesim.outcomes`` (``Outcome``, ``outcome_info``, ``OUTCOMES``,
  ``DEFAULT_OUTCOMES``); the allocation designs ``helsesim.allocation.DESIGNS``;
* figures: ``helsesim.report.plots`` and ``helsesim.report.maps`` (the map data:
  ``map_nodes``, ``project_ties``, ``positions``; the map: ``plot_map``); the decision brief:
  ``helsesim.brief``.
"""

from helsesim.app.adapter.choices import (
    LEVER_GROUPS,
    MAX_SEEDS,
    MAX_YEARS,
    NOT_LEVERS,
    OPEN_RANGE_FACTOR,
    TIME_SERIES,
    Community,
    Param,
    communities,
    default_outcomes,
    design_doc,
    designs,
    levers,
    municipality_positions,
    outcome_choices,
    outcome_label,
)
from helsesim.app.adapter.runs import (
    MAP_COLUMNS,
    TIE_COLUMNS,
    Analysis,
    Setup,
    SetupError,
    arm_changes,
    describe,
    discard,
    experiment_config,
    run,
    runs_done,
)
from helsesim.app.adapter.views import (
    Row,
    brief_markdown,
    differences_figure,
    distribution_figure,
    download_files,
    map_figure,
    side_by_side,
    step_map_figure,
    step_model_class,
    step_parameters,
    step_series_figure,
    step_state,
    time_series_figure,
)

__all__ = ["LEVER_GROUPS", "MAP_COLUMNS", "MAX_SEEDS", "MAX_YEARS", "NOT_LEVERS",
           "OPEN_RANGE_FACTOR", "TIE_COLUMNS", "TIME_SERIES", "Analysis", "Community", "Param",
           "Row", "Setup", "SetupError", "arm_changes", "brief_markdown", "communities",
           "default_outcomes", "describe", "design_doc", "designs", "differences_figure",
           "discard", "distribution_figure", "download_files", "experiment_config", "levers",
           "map_figure", "municipality_positions", "outcome_choices", "outcome_label", "run",
           "runs_done", "side_by_side", "step_map_figure", "step_model_class",
           "step_parameters", "step_series_figure", "step_state", "time_series_figure"]
