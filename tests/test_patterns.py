"""Pattern-oriented validation: the brief's patterns P1-P4 (model brief §7, seed 000) under the
default parameters on Nordland, as statistical tests over paired seeds with medians.

These are acceptance criteria of the calibration: do not weaken them to make them pass.
"""

from __future__ import annotations

import numpy as np
import pytest

import helsesim

SEEDS = range(1, 11)
YEARS = 10
DESIGNS = ("open_call", "governance_led")


@pytest.fixture(scope="module")
def summaries() -> dict[str, list[dict]]:
    """End-of-run summaries of the default Nordland scenario, the same seeds for each design."""
    return {d: [helsesim.simulate("nordland", d, seed=s, years=YEARS).summary for s in SEEDS]
            for d in DESIGNS}


def median(rows, key) -> float:
    return float(np.median([r[key] for r in rows]))


def big_two(row, prefix) -> float:
    """Share of the trust plus the large municipalities."""
    return row[f"{prefix}_trust"] + row[f"{prefix}_large"]


def test_p1_few_projects_target_recruitment(summaries):
    """P1: fewer than 10 % of funded projects primarily target recruitment (open call)."""
    share = median(summaries["open_call"], "recruitment_project_share")
    assert share < 0.10, f"median recruitment_project_share {share:.3f}"


@pytest.mark.parametrize("design", DESIGNS)
def test_p2_trust_and_large_lead_more_than_their_member_share(summaries, design):
    """P2: the trust and large municipalities lead a larger share of projects than their
    share of members."""
    rows = summaries[design]
    members = float(np.median([big_two(r, "member_share") for r in rows]))
    leads = float(np.median([big_two(r, "lead_share") for r in rows]))
    assert leads > members, f"{design}: lead share {leads:.3f} vs member share {members:.3f}"


@pytest.mark.parametrize("design", DESIGNS)
def test_p2_trust_and_large_hold_more_influence_than_their_member_share(summaries, design):
    """P2: ... and hold more influence on the board than their share of members."""
    rows = summaries[design]
    members = float(np.median([big_two(r, "member_share") for r in rows]))
    influence = float(np.median([big_two(r, "influence_share") for r in rows]))
    assert influence > members, \
        f"{design}: influence share {influence:.3f} vs member share {members:.3f}"


def test_p3_governance_led_gives_fewer_projects(summaries):
    """P3: governance-led allocation gives fewer projects than the open call (paired seeds)."""
    diff = [g["n_projects"] - o["n_projects"]
            for g, o in zip(summaries["governance_led"], summaries["open_call"], strict=True)]
    assert np.median(diff) < 0, f"n_projects governance_led - open_call by seed: {diff}"


def test_p3_governance_led_gives_larger_projects(summaries):
    """P3: ... and larger ones (mean project budget, paired seeds)."""
    diff = [g["mean_project_budget"] - o["mean_project_budget"]
            for g, o in zip(summaries["governance_led"], summaries["open_call"], strict=True)]
    assert np.median(diff) > 0, \
        f"mean_project_budget governance_led - open_call by seed: {np.round(diff, -3)}"


@pytest.mark.parametrize("design", DESIGNS)
def test_p4_most_municipalities_keep_high_trust(summaries, design):
    """P4: most municipalities keep high trust despite criticism."""
    rows = summaries[design]
    high = median(rows, "share_high_trust")
    mean = median(rows, "mean_trust")
    assert high >= 0.5, f"{design}: median share_high_trust {high:.3f}"
    assert mean >= 0.6, f"{design}: median mean_trust {mean:.3f}"
