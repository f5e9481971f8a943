"""The grouped metrics (all communities in one pass) equal the plain metrics per group."""

import numpy as np
import pytest

from helsesim.outcomes import metrics as M


@pytest.mark.parametrize("trial", range(50))
def test_grouped_metrics_equal_per_group_metrics(trial):
    rng = np.random.default_rng(trial)
    n, groups = int(rng.integers(1, 40)), int(rng.integers(1, 6))
    x = rng.exponential(size=n) * (rng.random(n) < 0.7)
    w = rng.integers(1, 1000, size=n).astype(float)
    g = rng.integers(0, groups, size=n)
    members = rng.random(n) < 0.4
    gini = M.gini_by_group(x, w, g, groups)
    theil = M.theil_by_group(x, w, g, groups)
    hoover = M.hoover_by_group(x, w, g, groups)
    ratio = M.representation_ratio_by_group(x, w, members, g, groups)
    for k in range(groups):
        s = g == k
        if not s.any():
            assert gini[k] == theil[k] == hoover[k] == 0 and np.isnan(ratio[k])
            continue
        assert gini[k] == pytest.approx(M.gini(x[s], w[s]), abs=1e-12)
        assert theil[k] == pytest.approx(M.theil(x[s], w[s]), abs=1e-12)
        assert hoover[k] == pytest.approx(M.hoover(x[s], w[s]), abs=1e-12)
        expected = M.representation_ratio(x[s], w[s], members[s])
        assert (np.isnan(expected) and np.isnan(ratio[k])) or ratio[k] == pytest.approx(
            expected, abs=1e-12)
