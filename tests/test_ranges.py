"""Every uncertain parameter has a plausible range with a source (issue 11), and the ranges are
usable: inside the validity bounds, with a prior the workbench can sample."""

from __future__ import annotations

import pytest

from helsesim.config import KINDS, parameter_table

ROWS = parameter_table()


def test_parameter_table_has_the_range_columns():
    for column in ("name", "default", "unit", "low", "high", "prior", "kind", "source"):
        assert all(column in r for r in ROWS), column


def test_every_numeric_uncertainty_has_a_range():
    """A new numeric parameter needs `low`/`high` (and `range_source`) in config.py, or to be
    marked kind="lever" or kind="setting"; this names every one that has neither."""
    from helsesim.analysis.space import missing_ranges

    missing = missing_ranges()
    assert not missing, ("numeric parameters without a plausible range (add low=, high=, "
                         "range_source= to their p(...) in config.py, or mark them "
                         f"kind='lever' / kind='setting'): {missing}")


@pytest.mark.parametrize("row", [r for r in ROWS if r["low"] is not None], ids=lambda r: r["name"])
def test_range_is_inside_the_validity_bounds_and_has_a_source(row):
    assert row["low"] <= row["high"]
    if row["lo"] is not None:
        assert row["low"] >= row["lo"], "plausible low below the validity bound"
    if row["hi"] is not None:
        assert row["high"] <= row["hi"], "plausible high above the validity bound"
    assert row["range_source"].strip(), "a range says where it comes from, or 'assumed'"
    assert row["kind"] in KINDS


def test_uncertainties_without_a_range_are_marked():
    unmarked = [r["name"] for r in ROWS if r["low"] is None and r["kind"] == "uncertainty"
                and isinstance(r["default"], (int, float)) and not isinstance(r["default"], bool)]
    assert not unmarked


def test_every_sampled_prior_maps_the_unit_interval_into_the_range():
    np = pytest.importorskip("numpy")
    pytest.importorskip("scipy")
    from helsesim.analysis.space import uncertainties

    for u in uncertainties():
        values = u.from_unit(np.linspace(0, 1, 11))
        assert np.all(np.isfinite(values)), u.name
        assert np.all(np.diff(values) >= 0), u.name  # a quantile function
        if not u.prior.startswith("beta"):
            assert values[0] == pytest.approx(u.low) and values[-1] == pytest.approx(u.high)
        else:  # a Beta prior spans its central 95 %: about [low, high]
            assert abs(values[0] - u.low) < 0.05 and abs(values[-1] - u.high) < 0.05
