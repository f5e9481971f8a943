"""Typed configuration of helsesim: every parameter, its default, unit and source, in one place.

The dataclasses below are the single source of defaults. Hydra registers them as structured
configs (see :func:`register_configs`), so a misspelt key or a wrong type fails when a config is
composed; :func:`validate` then checks ranges, choices and NaN. The parameter table in
``docs/ODD.md`` is generated from the field metadata (:func:`parameter_table`).

Every leaf name is unique across the whole tree, so ``simulate(compensation=0.5)`` is
unambiguous; the same parameter is ``levers.compensation`` in Hydra.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from omegaconf import DictConfig, ListConfig, Node, OmegaConf
from omegaconf.errors import OmegaConfBaseException
from omegaconf.nodes import BooleanNode, FloatNode, IntegerNode, StringNode

SCENARIOS_SPECIAL = ("norway", "synthetic")
COMMUNITY_KEYS = ("per_capita", "equal", "need_weighted")
#: The largest seed: seeds are stored as 64-bit signed integers in the result tables.
MAX_SEED = 2**63 - 1


class ConfigError(ValueError):
    """An invalid parameter: the message names the parameter and what is allowed."""


#: What a parameter is to an analysis (``kind`` in its metadata): an ``uncertainty`` (a fact
#: about the world nobody knows exactly: varied by sensitivity analysis, robustness and
#: calibration over its plausible range), a ``lever`` (a design choice analysts sweep) or a
#: ``setting`` (scenario, run or definition; fixed per study).
KINDS = ("uncertainty", "lever", "setting")
#: Prior shapes of a plausible range (``prior``): see :mod:`helsesim.analysis.space`.
PRIORS = ("uniform", "loguniform", "int", "beta(a,b)", "dirichlet(a,...)")
_PRIOR = re.compile(r"uniform|loguniform|int|beta\([0-9.]+,[0-9.]+\)|dirichlet\([0-9.,]+\)")


def p(
    default: Any,  # noqa: ANN401 - of the field's type, whatever it is
    unit: str,
    source: str,
    doc: str,
    lo: float | None = None,
    hi: float | None = None,
    choices: tuple | None = None,
    allow_none: bool = False,
    low: float | None = None,
    high: float | None = None,
    prior: str | None = None,
    kind: str = "uncertainty",
    range_source: str = "",
) -> Any:  # noqa: ANN401 - what dataclasses.field returns
    """A dataclass field with its documentation, validity bounds and plausible range.

    ``lo``/``hi`` are hard validity bounds (a value outside is refused). ``low``/``high`` are
    the plausible range, a modelling claim that sensitivity analysis, robustness runs and
    calibration priors use; ``prior`` its shape (``uniform`` when omitted), ``range_source``
    where it comes from (or "assumed"), ``kind`` whether the parameter is an uncertainty, a
    lever or a setting (:data:`KINDS`).
    """
    if kind not in KINDS:
        raise ValueError(f"kind {kind!r}: allowed {', '.join(KINDS)}")
    if (low is None) != (high is None) or (low is not None and not low <= high):
        raise ValueError(f"plausible range [{low}, {high}]: give both, low <= high")
    if prior is not None and not _PRIOR.fullmatch(prior):
        raise ValueError(f"prior {prior!r}: allowed {', '.join(PRIORS)}")
    meta = dict(unit=unit, source=source, doc=doc, lo=lo, hi=hi, choices=choices,
                allow_none=allow_none, low=low, high=high,
                prior=prior or ("uniform" if low is not None else None), kind=kind,
                range_source=range_source)
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda d=default: type(d)(d), metadata=meta)
    return field(default=default, metadata=meta)


# --- scenario ---------------------------------------------------------------------------------

@dataclass
class ScenarioConfig:
    """Which health communities are simulated, and with how much money."""

    name: str = p("nordland", "-", "model brief §8", "Scenario: `nordland`, any health community "
                  "key (e.g. `st_olavs`), `norway` (all 19) or `synthetic`.",
                  kind="setting",
                  range_source="scenario choice (brief §8) (parameter-ranges §1)")
    budget: float | None = p(None, "NOK/yr", "regjeringen.no 2024: RS grant 280 MNOK nationally",
                             "Yearly RS grant: for one community its own grant, for `norway` the "
                             "national total. Empty: the community's per-capita share of "
                             "`national_budget`.", lo=0.0, allow_none=True, hi=1e12,
                             kind="setting",
                             range_source="The key between communities was not found "
                                          "(anchors-domain.md:71) (parameter-ranges §1)")
    national_budget: float = p(280e6, "NOK/yr", "regjeringen.no 2024 (anchors-domain §1.2)",
                               "National RS grant from which a community's default budget is "
                               "derived by `community_key`.", lo=0.0, hi=1e12,
                               low=250000000.0, high=320000000.0, kind="setting",
                               range_source="280 MNOK in 2024 is sourced (regjeringen.no) "
                                            "(parameter-ranges §1)")
    community_key: str = p("per_capita", "-", "not public (anchors-domain §1.2): a lever",
                           "Key that splits the national grant between communities.",
                           choices=COMMUNITY_KEYS,
                           kind="lever",
                           range_source="The key is not public: The Østfold point is inconsistent "
                                        "with per_capita (targets T16) (parameter-ranges §1)")
    n_municipalities: int = p(20, "count", "design choice", "Municipalities in `synthetic`.",
                              lo=1, hi=100_000,
                              low=5.0, high=100.0, prior="int", kind="setting",
                              range_source="synthetic only; design choice (parameter-ranges §1)")
    synthetic_size_median: float = p(5322.0, "inhabitants", "computed: median of the 357 "
                                     "municipalities, 2024", "Median population in `synthetic`.",
                                     lo=1.0, hi=1e6,
                                     low=3000.0, high=10000.0, prior="loguniform", kind="setting",
                                     range_source="computed median of the 357 municipalities; the "
                                                  "range is for synthetic stress tests "
                                                  "(parameter-ranges §1)")
    synthetic_size_sigma: float = p(1.45, "log-sd", "computed: lognormal with Gini 0.70, the Gini "
                                    "of Norway's municipal populations", "Spread of population "
                                    "sizes in `synthetic` (heavy-tailed).", lo=0.0, hi=5.0,
                                    low=1.0, high=1.8, kind="setting",
                                    range_source="computed to give Gini 0.70 (parameter-ranges "
                                                 "§1)")
    synthetic_area_km: float = p(300.0, "km", "design choice (Nordland spans ~300 km)",
                                 "Side of the square on which `synthetic` municipalities lie.",
                                 lo=1.0, hi=1e4,
                                 low=100.0, high=600.0, kind="setting",
                                 range_source="design choice (parameter-ranges §1)")


# --- allocation design --------------------------------------------------------------------------

@dataclass
class AllocationConfig:
    """The allocation design and its own parameters."""

    design: str = p("open_call", "-", "seed 000: two models in use; per_capita and lottery are "
                    "reference designs", "Allocation design (see `helsesim.allocation.DESIGNS`).",
                    kind="lever",
                    range_source="seed 000:38 (two models in use); the others are reference "
                                 "designs (parameter-ranges §1)")
    stream_share: float = p(0.5, "share", "seed 000 recommends two streams; split not given",
                            "Share of the budget through the open call in `two_stream`.",
                            lo=0.0, hi=1.0,
                            low=0.2, high=0.8, kind="lever",
                            range_source="000:48 recommends two streams; the split is not given "
                                         "(parameter-ranges §1)")
    governance_projects: float = p(2.5, "items/yr", "derived: secretariat ~0.65 FTE per "
                                   "community (9.5-11.1 MNOK nationally, anchors-domain line 21) "
                                   "x ~4 items per FTE-year (assumed); range 1-6",
                                   "The board's capacity under `governance_led`: agenda items it "
                                   "can develop into projects in a year (a fractional part is "
                                   "the chance of one more); how many it develops and how large "
                                   "follows from its members' needs, their influence and the "
                                   "money.", lo=0.0, hi=100.0,
                                   low=1.0, high=5.0,
                                   range_source="assumed: Today it sets P3 by construction; it "
                                                "should be replaced by board capacity (CCE §7) "
                                                "(parameter-ranges §2.1)")
    governance_breadth: float = p(0.6, "share", "seed 000: community-wide projects",
                                  "Share of the community's other municipalities that join a "
                                  "governance-developed project.", lo=0.0, hi=1.0,
                                  low=0.25, high=1.0,
                                  range_source="derived/assumed: The seed-004 project began with "
                                               "the Vesterålen municipalities (5 of 20 ≈ 0.25) "
                                               "and is being extended to all three regions "
                                               "(004:23, 79–81) (parameter-ranges §2.1)")
    lottery_bar: float = p(0.5, "quantile", "Gross & Bergstrom 2019 (partial lottery)",
                           "Score quantile a proposal must reach to enter the `lottery` draw.",
                           lo=0.0, hi=1.0,
                           low=0.25, high=0.75, kind="lever",
                           range_source="design parameter of the partial lottery (Gross & "
                                        "Bergstrom 2019) (parameter-ranges §1)")
    carry_over_share: float = p(1.0, "share", "sourced by analogy: Helsedirektoratet's rule for "
                                "the secretariat grant to the same communities (unused money "
                                "counts toward the next year); RS rule not found; range 0.5-1",
                                "Share of the money not committed in a year that is added to "
                                "the next year's money (the rest lapses).", lo=0.0, hi=1.0,
                                low=0.5, high=1.0, kind="lever",
                                range_source="by analogy: Helsedirektoratet's secretariat-grant "
                                             "rule (unused money counts toward the next year); "
                                             "the RS rule was not found; 0 reproduces lapsing "
                                             "money")
    min_grant_share: float = p(0.5, "share", "assumed (common practice: the marginal proposal "
                               "is offered what is left); range 0.3-0.8",
                               "A proposal that does not fit in the money left is offered the "
                               "rest if that is at least this share of its ask (its budget, and "
                               "so its dose, shrinks); else it is skipped.", lo=0.0, hi=1.0,
                               low=0.3, high=0.8, kind="lever",
                               range_source="assumed: the board's practice for the marginal "
                                            "proposal")


# --- levers (model brief §5) ----------------------------------------------------------------------

@dataclass
class LeverConfig:
    """The report's recommendations and other policy levers."""

    reserved_small_seats: int = p(0, "seats", "seed 000: reduce large actors' dominance",
                                  "Board seats reserved for small municipalities (<5,000).",
                                  lo=0, hi=50,
                                  low=0.0, high=3.0, prior="int", kind="lever",
                                  range_source="000:45 (reduce the dominance of large actors) "
                                               "(parameter-ranges §1)")
    equal_votes: bool = p(False, "-", "seed 000: reduce large actors' dominance",
                          "Every seat counts the same on the board (else weighted by capacity).",
                          kind="lever",
                          range_source="000:45 (parameter-ranges §1)")
    capacity_support: float = p(0.0, "0-1", "seed 000 (strengthen small municipalities' "
                                "capacity); seed 001 (coordinator as catalyst)",
                                "Strength of the inter-municipal coordinator: cuts small "
                                "municipalities' cost of taking part, raises their proposals' "
                                "quality and gives those without a seat a shared board weight "
                                "of this size.",
                                lo=0.0, hi=1.0,
                                low=0.0, high=1.0, kind="lever",
                                range_source="000:46; 001:4 (coordinator as catalyst) "
                                             "(parameter-ranges §1)")
    compensation: float = p(0.25, "share", "seed 000: task shifting 'without corresponding "
                            "resources'; status quo assumed low", "Share of a transferred "
                            "service's yearly cost that the trust pays the municipalities.",
                            lo=0.0, hi=1.0,
                            low=0.0, high=1.0, kind="lever",
                            range_source="As a lever, sweep 0–1: The status-quo value is an "
                                         "uncertainty (parameter-ranges §1)")
    recruitment_earmark: float = p(0.0, "share", "seed 000/004: recruitment is the biggest "
                                   "challenge, <10 % of projects", "Share of the budget reserved "
                                   "for recruitment projects.", lo=0.0, hi=1.0,
                                   low=0.0, high=0.5, kind="lever",
                                   range_source="000:26 (< 10 % recruitment); 004:30 (shortage "
                                                "the biggest challenge) (parameter-ranges §1)")
    recruitment_weight: float = p(0.0, "score", "lever", "Extra board score for recruitment "
                                  "projects.", lo=-5.0, hi=5.0,
                                  low=-1.0, high=2.0, kind="lever",
                                  range_source="lever (parameter-ranges §1)")
    equity_weight: float = p(0.0, "score", "lever", "Extra board score per unit share of small "
                             "municipalities among a proposal's parties.", lo=-5.0, hi=5.0,
                             low=0.0, high=2.0, kind="lever",
                             range_source="lever (parameter-ranges §1)")
    knowledge_base: float = p(0.0, "0-1", "seed 000: 'a shared knowledge base'",
                              "Strength of a shared knowledge base: practice spreads to all, not "
                              "only along ties.", lo=0.0, hi=1.0,
                              low=0.0, high=1.0, kind="lever",
                              range_source="000:47 (a shared knowledge base) (parameter-ranges "
                                           "§1)")


# --- behaviour -----------------------------------------------------------------------------------

@dataclass
class MunicipalityParams:
    small_threshold: int = p(5000, "inhabitants", "SSB definition; seed 002 (lines 3454-3456)",
                             "Municipalities below this are small.", lo=1, hi=10_000_000,
                             kind="setting",
                             range_source="SSB definition; 002:3454 (parameter-ranges §1)")
    large_threshold: int = p(20000, "inhabitants", "seed 002 size classes (lines 3454-3456)",
                             "Municipalities at or above this are large.", lo=1, hi=10_000_000,
                             kind="setting",
                             range_source="002:3454–3456: Changing it changes the definition of "
                                          "the targets, not the world (parameter-ranges §1)")
    capacity_elasticity: float = p(0.6, "-", "brief §2: capacity grows less than proportionally",
                                   "Development capacity = (population/10,000)^elasticity.",
                                   lo=0.0, hi=1.0,
                                   low=0.4, high=0.9,
                                   range_source="derived/assumed: Staff per 1,000 in seed 003's "
                                                "cases falls from 2.88 (4,853 inh.) to ~2.0 "
                                                "(21–40k), i.e. staff ∝ N^0.84 (parameter-ranges "
                                                "§2.2)")
    anchoring_mean: float = p(0.55, "0-1", "seed 002 M7: anchoring the top success factor",
                              "Mean leadership anchoring (Beta-distributed).", lo=0.01, hi=0.99,
                              low=0.35, high=0.75, prior="beta(11,9)",
                              range_source="derived, weak: Union reps involved from the start in "
                                           "«noe under halvparten» (002:1769–1770) "
                                           "(parameter-ranges §2.2)")
    anchoring_concentration: float = p(6.0, "-", "assumption", "Concentration (a+b) of the Beta "
                                       "distribution of anchoring.", lo=0.1, hi=1e4,
                                       low=2.0, high=20.0, prior="loguniform",
                                       range_source="assumed (parameter-ranges §2.2)")
    initial_trust: float = p(0.8, "0-1", "seed 000: most municipalities report high trust",
                             "Mean trust in the health community at the start.", lo=0.0, hi=1.0,
                             low=0.65, high=0.9,
                             range_source="directional: 000:39 \"most municipalities report high "
                                          "trust\" (parameter-ranges §2.2)")
    initial_trust_sd: float = p(0.08, "0-1", "assumption", "Spread of initial trust.", lo=0.0,
                                hi=0.5,
                                low=0.03, high=0.15,
                                range_source="assumed (parameter-ranges §2.2)")
    initial_experience: float = p(0.8, "projects", "seed 002 M16: experienced repeat "
                                  "participants", "Mean earlier projects of a municipality with "
                                  "capacity 1 (Poisson, scaled by capacity).", lo=0.0, hi=100.0,
                                  low=0.3, high=2.0, prior="loguniform",
                                  range_source="derived: Respondents averaged 1.55 of 4 KS "
                                               "programmes (340 participations / 219; "
                                               "002:5287–5288, 5315) (parameter-ranges §2.2)")


@dataclass
class LabourParams:
    nurse_per_1000: float = p(9.0, "FTE/1000 inh.", "assumption: ~122,000 nurses employed "
                              "(Sykepleien 2023), about half in municipal services",
                              "Municipal nurse positions per 1,000 inhabitants at 10,000 "
                              "inhabitants.", lo=0.0, hi=1000.0,
                              low=6.5, high=9.5,
                              range_source="derived: KS PAI (1.12.2023): municipal nurses 22,394 "
                                           "+ specialist 4,839 + public-health 3,182 + midwives "
                                           "591 = 31,006 FTE (nyvev.nsf.no) (parameter-ranges "
                                           "§2.3)")
    doctor_per_1000: float = p(1.1, "FTE/1000 inh.", "SSB 2018 via Nationen: 8-13 GPs per "
                               "10,000", "Municipal doctor positions per 1,000 inhabitants.",
                               lo=0.0, hi=1000.0,
                               low=0.9, high=1.4,
                               range_source="sourced/derived: 9 GPs per 10,000 nationally (2018) "
                                            "plus other municipal doctor work (nursing homes, "
                                            "legevakt, kommuneoverlege; +0.1–0.3, assumed) "
                                            "(parameter-ranges §2.3)")
    health_worker_per_1000: float = p(15.0, "FTE/1000 inh.", "assumption (order of magnitude)",
                                      "Municipal health-worker positions per 1,000 inhabitants.",
                                      lo=0.0, hi=1000.0,
                                      low=10.0, high=20.0,
                                      range_source="assumed: SSB 2020: 44,597 hjelpepleiere in "
                                                   "the labour force; the count of "
                                                   "helsefagarbeidere was not in the excerpt "
                                                   "(parameter-ranges §2.3)")
    staffing_elasticity: float = p(-0.156, "-", "computed: 13.2 GPs/10k in <2,000 vs ~8 in "
                                   ">=50,000 (SSB 2018)", "Elasticity of positions per "
                                   "inhabitant to population: small places need more per head.",
                                   lo=-1.0, hi=0.0,
                                   low=-0.3, high=-0.05,
                                   range_source="computed (GP density 13.2 vs ~8 per 10,000) "
                                                "(parameter-ranges §2.3)")
    hospital_nurse_per_1000: float = p(8.0, "FTE/1000 inh.", "assumption (order of magnitude)",
                                       "Trust nurse positions per 1,000 inhabitants served.",
                                       lo=0.0, hi=1000.0,
                                       low=6.0, high=8.5,
                                       range_source="derived: Trust nurses (1.1.2024): 19,470 + "
                                                    "15,014 specialist + 1,559 midwives = 36,043 "
                                                    "FTE (nyvev.nsf.no), i.e (parameter-ranges "
                                                    "§2.3)")
    hospital_doctor_per_1000: float = p(2.7, "FTE/1000 inh.", "assumption (order of magnitude)",
                                        "Trust doctor positions per 1,000 inhabitants served.",
                                        lo=0.0, hi=1000.0,
                                        low=2.2, high=3.2,
                                        range_source="assumed (no figure read) (parameter-ranges "
                                                     "§2.3)")
    hospital_health_worker_per_1000: float = p(2.0, "FTE/1000 inh.", "assumption",
                                               "Trust health-worker positions per 1,000 "
                                               "inhabitants served.", lo=0.0, hi=1000.0,
                                               low=1.0, high=3.0,
                                               range_source="assumed (parameter-ranges §2.3)")
    need_growth: float = p(0.015, "1/yr", "NOU 2023:4: 80+ grows by 250,000 in 20 years",
                           "Yearly growth of positions needed (ageing).", lo=-0.5, hi=0.5,
                           low=0.005, high=0.03,
                           range_source="derived/assumed: NOU 2023:4: the 80+ group grows by "
                                        "250,000 in 20 years; up to ~100,000 more municipal FTE "
                                        "by 2040 if practice is unchanged (secondary summary, … "
                                        "(parameter-ranges §2.3)")
    initial_fill: float = p(0.965, "share", "NAV 2023: shortage of ~13,000 of >400,000; derived "
                            "0.965 from NAV 2024 (≈3.5 %, CCE §3); plausible 0.93-0.985",
                            "Share of each community's positions (per profession) filled at the "
                            "start; spread over its employers by the labour market's own "
                            "stationary gradient (ODD 7.10).", lo=0.0, hi=1.0,
                            low=0.93, high=0.985,
                            range_source="derived: NAV 2024 shortage ≈ 3.5 % (CCE §3)")
    quit_rate: float = p(0.12, "1/yr", "sourced range: helsesykepleiere 10.7-17.8 %/yr, nurses "
                         "'klart høyere' (KS PAI via helsedirektoratet.no; CCE §3: nurses "
                         "0.12); realised for municipal nurses 0.13 (Nordland), 0.11 (Norway); "
                         "plausible 0.08-0.20",
                         "Yearly share of nurses who leave their employer at the reference "
                         "attractiveness A = 0 (a fully staffed 10,000-inhabitant municipality at "
                         "the hospital); doctors and health workers by their ratios.", lo=0.0,
                         hi=1.0,
                         low=0.08, high=0.2,
                         range_source="sourced range: municipal nurses' turnover (KS PAI; CCE §3)")
    quit_ratio_doctor: float = p(1.6, "ratio", "derived: doctors' turnover 31 % vs care services "
                                 "21.9 % (Kompetanseløft årsrapport 2021 ch. 3.5) gives 1.4; 0.20 "
                                 "vs 0.12 (CCE §3) gives 1.7; plausible 1.0-2.5",
                                 "Doctors' quit hazard relative to nurses'.", lo=0.0, hi=10.0,
                                 low=1.0, high=2.5,
                                 range_source="derived: doctors' turnover 31 % vs care services "
                                              "21.9 % (Kompetanseløft 2021) and 0.20 vs 0.12 (CCE "
                                              "§3)")
    quit_ratio_health_worker: float = p(1.25, "ratio", "derived: 0.15 vs 0.12 (CCE §3); "
                                        "plausible 0.8-1.8", "Health workers' quit hazard "
                                        "relative to nurses'.", lo=0.0, hi=10.0,
                                        low=0.8, high=1.8,
                                        range_source="derived: 0.15 vs 0.12 (CCE §3)")
    exit_share: float = p(0.3, "share", "derived: leaving nursing ≈2.2 %/yr (SSB) + retirement "
                          "2-3 %/yr against quits of 12-15 % gives 0.27-0.45; NOU 2023:4 ch. 6: "
                          "few leave the sector; plausible 0.15-0.5", "Share of nurses' quits "
                          "that leave the sector (retire, other work); for doctors and health "
                          "workers divided by their quit ratio (the same exits per staff).",
                          lo=0.0, hi=1.0,
                          low=0.15, high=0.5,
                          range_source="derived: Leaving nursing ≈ 2.2 %/yr (SSB: 20 % in 10 yr) "
                                       "plus retirement ~2–3 %/yr (assumed) = 4–5.5 % of staff, "
                                       "against quits of 12–15 %, gives 0.27–0.45 "
                                       "(parameter-ranges §2.3)")
    leave_community_share: float = p(0.1, "share", "assumption (no rate found, CCE §3); set "
                                     "with `outside_option` so that ~1 %/yr of staff leave for "
                                     "the rest of the country; plausible 0.05-0.5",
                                     "Share of the quitters who stay in the sector who leave the "
                                     "community for the rest of the country, at A = 0; times "
                                     "exp(-outside_sensitivity x A) of their employer.",
                                     lo=0.0, hi=1.0,
                                     low=0.05, high=0.5,
                                     range_source="assumed: no rate found (CCE §3)")
    inflow_rate: float = p(0.038, "1/yr", "derived: 4,954-6,111 nurse students a year, completion "
                           "75-85 %, against ~122,000 nurses: 3.3-4.3 % (HK-dir; CCE §3), plus "
                           "immigrants; value in the range, with national vacancies rising "
                           "slowly (T8); plausible 0.025-0.05",
                           "New staff from outside the community (graduates, immigrants) "
                           "per position per year at A = 0; times "
                           "exp(outside_sensitivity x the community's mean attractiveness).",
                           lo=0.0, hi=1.0,
                           low=0.025, high=0.05,
                           range_source="derived: 3.3-4.3 % of the nurse stock graduate a year "
                                        "(HK-dir; CCE §3), plus immigrants")
    inflow_ratio_health_worker: float = p(1.3, "ratio", "assumption: health-worker posts are "
                                          "also filled by staff without health education "
                                          "(a group of its own in Kompetanseløft årsrapport "
                                          "2021 ch. 3.5), so their pool is wider than the "
                                          "trained pipeline; sets the order nurses > health "
                                          "workers in vacancies (T8, KS arbeidsgivermonitor); "
                                          "plausible 1-1.5", "New staff from outside for "
                                          "health-worker posts relative to nurses' and doctors' "
                                          "(per position).", lo=0.0, hi=10.0,
                                          low=1.0, high=1.5,
                                          range_source="assumed: health-worker posts are also "
                                                       "filled by staff without health education")
    migration_rate: float = p(0.01, "1/yr", "derived: national balance, as many come from the "
                              "rest of the country as leave for it (on `norway` both 1.0 % of "
                              "staff a year, ODD 9.3); plausible 0.005-0.04",
                              "Staff moving in from the rest of the country (returners, movers) "
                              "per position per year at A = 0; scaled like `inflow_rate`.",
                              lo=0.0, hi=1.0,
                              low=0.005, high=0.04,
                              range_source="derived: national balance of moves to and from the "
                                           "rest of the country (ODD 9.4)")
    fill_chance: float = p(0.83, "share", "derived: SSB posted vacancies in health and care "
                           "≈1.6-3.2 % (2024) with ~12 %/yr turnover: ~2 months to fill a post "
                           "(CCE §3); plausible 0.6-0.95", "Share of an employer's vacancies "
                           "that can be filled within the year (notice periods, time to hire); "
                           "the others wait, even at the most attractive employer.", lo=0.0,
                           hi=1.0,
                           low=0.6, high=0.95,
                           range_source="derived: SSB posted vacancies 1.6-3.2 % with ~12 %/yr "
                                        "turnover (CCE §3)")
    outside_sensitivity: float = p(0.5, "-", "assumption (CCE §3 beta_o); plausible 0.2-1.0",
                                   "How strongly the community's absolute attractiveness "
                                   "raises its draw on the rest of the country and lowers "
                                   "leaving for it.", lo=0.0, hi=10.0,
                                   low=0.2, high=1.0,
                                   range_source="assumed (CCE §3)")
    outside_option: float = p(0.005, "vacancies per position", "assumption: a job seeker who "
                              "lives in the community weighs few jobs elsewhere (moving costs; "
                              "the national "
                              "vacancy rate ≈3.5 %, NAV 2024, is the upper end); plausible "
                              "0.001-0.035", "Weight of the outside option (a job in the "
                              "rest of the country) in the job seekers' choice.", lo=0.0,
                              hi=10.0,
                              low=0.001, high=0.035, prior="loguniform",
                              range_source="assumed: the national vacancy rate ≈3.5 % (NAV 2024) "
                                           "is the upper end")
    retention_sensitivity: float = p(0.5, "-", "directional: ASPE 2014 two-location choice model "
                                     "(self-selection); value assumed, plausible 0.2-1.0",
                                     "How strongly attractiveness lowers quits.",
                                     lo=0.0, hi=100.0,
                                     low=0.2, high=1.0,
                                     range_source="directional (ASPE 2014 self-selection), value "
                                                  "assumed (parameter-ranges §2.3)")
    choice_sensitivity: float = p(0.4, "-", "assumption; set low with `size_attraction`, "
                                  "`remoteness_penalty`, `workload_penalty` so that the "
                                  "small/large vacancy ratio of year 1 is 1.2-2.5 (T7a); "
                                  "plausible 0.3-1.5",
                                  "Logit sensitivity of job seekers to employers' "
                                  "attractiveness.", lo=0.0, hi=100.0,
                                  low=0.3, high=1.5,
                                  range_source="assumed")
    size_attraction: float = p(0.08, "per log-unit", "directional: NOU 2023:4 ch. 5-6, problems "
                               "largest in rural districts; counter-evidence 'uavhengig av "
                               "sentralitet' (CCE §3); value assumed, set low (T7a), "
                               "plausible 0.05-0.35",
                               "Attractiveness of the place per log of population.", lo=0.0,
                               hi=100.0,
                               low=0.05, high=0.35,
                               range_source="directional: NOU 2023:4 ch. 5-6; counter-evidence "
                                            "'uavhengig av sentralitet' (CCE §3)")
    remoteness_penalty: float = p(0.1, "per 100 km", "directional: NOU 2023:4 ch. 6; seed 002 "
                                  "M28 (distance decay); stands in for SSB centrality, not in "
                                  "the data; value assumed, set low (T7a), plausible 0.05-0.5",
                                  "Attractiveness lost per 100 km from the hospital.", lo=0.0,
                                  hi=100.0,
                                  low=0.05, high=0.5,
                                  range_source="directional: NOU 2023:4 ch. 6; seed 002 M28")
    workload_penalty: float = p(1.0, "per vacancy share", "directional: NOU 2023:4 ch. 6 "
                                "(workload drives turnover); value assumed, at the bottom of "
                                "the plausible 1-3 (T7a)",
                                "Attractiveness lost per unit of the employer's own vacancy "
                                "share (workload of those who stay).", lo=0.0, hi=100.0,
                                low=1.0, high=3.0,
                                range_source="directional: NOU 2023:4 ch. 6 (workload drives "
                                             "turnover); value assumed")
    environment_attraction: float = p(1.0, "-", "directional: 'Større fagmiljøer bidrar gjerne "
                                      "til mer attraktive arbeidsplasser' (002:4036-4037); "
                                      "'færre utskiftninger og mer stabile fagmiljøer' "
                                      "(003:1338-1346); value assumed, plausible 0.3-2",
                                      "Attractiveness of a full professional environment "
                                      "(colleagues of the same profession, saturating) against "
                                      "none.", lo=0.0, hi=100.0,
                                      low=0.3, high=2.0,
                                      range_source="directional: 002:4036-4037, 003:1338-1346; "
                                                   "value assumed")
    environment_half: float = p(5.0, "FTE", "assumption: about five colleagues make a "
                                "professional environment (a doctors' rota); plausible 2-15",
                                "Colleagues of the same profession at which the environment "
                                "term is half its full value.", lo=0.01, hi=1e4,
                                low=2.0, high=15.0,
                                range_source="assumed: a professional environment of a few "
                                             "colleagues")
    knowledge_attraction: float = p(0.25, "per knowledge unit", "directional: relevant "
                                    "professional development retains staff (RETAIN element 8, "
                                    "anchors-domain §1.5); value assumed, one of several "
                                    "retention elements: full knowledge cuts quits by ~12 %; "
                                    "plausible 0-0.5",
                                    "Attractiveness per unit of the employer's adopted practice "
                                    "(`knowledge`, 0-1).", lo=0.0, hi=100.0,
                                    low=0.0, high=0.5,
                                    range_source="directional: RETAIN element 8 (anchors-domain "
                                                 "§1.5); value assumed")
    pool_share: float = p(0.5, "share", "assumption: pooled colleagues of a shared personnel "
                          "pool (seed 004 plan-recruit-retain; 003:1338-1346) count less than "
                          "one's own; plausible 0.2-1", "Share of the other pool members' staff "
                          "that counts in an employer's professional environment.", lo=0.0,
                          hi=1.0,
                          low=0.2, high=1.0,
                          range_source="assumed: pooled colleagues count less than one's own")
    trust_attractiveness: float = p(0.0, "-", "directional: NOU 2023:4 ch. 6, hospitals recruit "
                                    "from the same pool; value assumed: the hospital's "
                                    "advantage is its environment (counted apart) and the "
                                    "graduates' "
                                    "preference; plausible -0.3-0.5",
                                    "Attractiveness of the hospital as a place to work, against "
                                    "the reference municipality (its environment counted apart).",
                                    lo=-100.0, hi=100.0,
                                    low=-0.3, high=0.5,
                                    range_source="directional: NOU 2023:4 ch. 6 (the same pool); "
                                                 "value assumed")
    graduate_trust_preference: float = p(1.0, "-", "derived, weak: only 2 of 10 new nurses had "
                                         "municipal care as first choice (NSF 2018 via "
                                         "helsedirektoratet.no) against a municipal share of "
                                         "nurse FTE of 0.46 (KS PAI, Spekter): odds 0.29, i.e. "
                                         "1.75 / choice_sensitivity above the municipalities, "
                                         "of which ~0.7 is general; plausible 0.3-1.5",
                                         "Extra attractiveness of the hospital to new staff from "
                                         "outside (graduates).", lo=-100.0, hi=100.0,
                                         low=0.3, high=1.5,
                                         range_source="derived, weak: 2 of 10 new nurses choose "
                                                      "municipal care first (NSF 2018)")
    placement_yield: float = p(0.2, "graduates per placement", "assumption: practice periods "
                               "matter for where graduates go (NSF 2018 via "
                               "helsedirektoratet.no); plausible 0.05-0.4", "Expected new staff "
                               "per student placement funded by a project, hired where the "
                               "placement was (if it has a vacancy).", lo=0.0, hi=1.0,
                               low=0.05, high=0.4,
                               range_source="assumed: practice periods matter (NSF 2018)")
    placement_lag: int = p(1, "years", "assumption: the last practice period precedes graduation; "
                           "plausible 0-2", "Years from a funded placement to the graduate's "
                           "first job.", lo=0, hi=5,
                           low=0, high=2, prior="int",
                           range_source="assumed: the last practice period precedes graduation")
    transfer_staff_follow: float = p(0.5, "share", "assumption (CCE §3); plausible 0.2-0.8",
                                     "Share of the trust's staff on transferred positions who "
                                     "move with them to the municipalities.", lo=0.0, hi=1.0,
                                     low=0.2, high=0.8,
                                     range_source="assumed (CCE §3)")


@dataclass
class ProjectParams:
    weight_service_development: float = p(0.55, "weight", "seed 000: most projects develop "
                                          "services", "Propensity to propose service "
                                          "development.", lo=0.0, hi=1e6,
                                          low=0.4, high=0.75,
                                          range_source="directional: Content aligns with "
                                                       "patient-group priorities (000:26); \"more "
                                                       "services … within municipalities\" "
                                                       "(000:33) (parameter-ranges §2.4)")
    weight_competence: float = p(0.3, "weight", "seed 000/002", "Propensity to propose a "
                                 "competence project.", lo=0.0, hi=1e6,
                                 low=0.15, high=0.45,
                                 range_source="assumed (parameter-ranges §2.4)")
    weight_personnel_pool: float = p(0.03, "weight", "assumed; seed 004 (plan-recruit-retain, "
                                     "a joint hospital-municipality project), regjeringen.no "
                                     "2024 ('kombinerte stillinger'); range 0-0.1",
                                     "Propensity to propose a shared personnel pool (a "
                                     "recruitment project whose parties share staff); grows "
                                     "with the proposer's vacancy rate like recruitment.",
                                     lo=0.0, hi=1e6,
                                     low=0.0, high=0.1,
                                     range_source="assumed; seed 004 (plan-recruit-retain)")
    weight_recruitment: float = p(0.07, "weight", "seed 000: <10 % of projects target "
                                  "recruitment (P1)", "Propensity to propose recruitment; "
                                  "grows with the proposer's vacancy rate.", lo=0.0, hi=1e6,
                                  low=0.03, high=0.15,
                                  range_source="tuned to P1 (000:26): It sets P1 nearly 1:1 today "
                                               "(validity review) (parameter-ranges §2.4)")
    earmark_alignment: float = p(0.5, "share", "seed 000 line 26: 'project content generally "
                                 "aligns with national criteria and prioritised patient "
                                 "groups' (applicants follow the call's priorities); value "
                                 "assumed, range 0-1",
                                 "How far applicants turn their proposals to a recruitment "
                                 "earmark: the earmarked share of the call times this is added "
                                 "to the recruitment types' share of their type choice.",
                                 lo=0.0, hi=1.0,
                                 low=0.0, high=1.0,
                                 range_source="directional: seed 000 line 26 (content aligns with "
                                              "the call's priorities); value assumed")
    vacancy_pull: float = p(4.0, "per vacancy share", "seed 004: shortage the biggest challenge",
                            "How much a proposer's vacancy rate raises its recruitment "
                            "propensity.", lo=0.0, hi=1e6,
                            low=1.0, high=8.0,
                            range_source="directional (004:30), value assumed (parameter-ranges "
                                         "§2.4)")
    base_budget: float = p(1.75e6, "NOK", "assumed, with `apply_intercept`, `join_intercept`, "
                           "`apply_cost` and `proposals` so that the open call is "
                           "oversubscribed (T15: median 1.1-2.0) and P5 holds; anchors: Hdir "
                           "grants <= 0.5-1 MNOK, 'generally large in the North' (seed 000 "
                           "line 27); range 0.5-3 M",
                           "Budget asked for a project led by a capacity-1 municipality "
                           "without partners, at the national mean money per actor.", lo=0.0,
                           hi=1e12,
                           low=500000.0, high=3000000.0, prior="loguniform",
                           range_source="assumed: Hdir grants <= 0.5-1 MNOK; 'generally large in "
                                        "the North' (seed 000 line 27)")
    budget_elasticity: float = p(0.35, "-", "seed 000: larger municipalities prefer larger "
                                 "projects", "Elasticity of a proposal's budget to its lead's "
                                 "capacity.", lo=0.0, hi=2.0,
                                 low=0.1, high=0.7,
                                 range_source="directional (000:27: larger municipalities prefer "
                                              "larger projects) (parameter-ranges §2.4)")
    budget_per_partner: float = p(0.15, "share", "assumption", "Budget increase per partner.",
                                  lo=0.0, hi=100.0,
                                  low=0.04, high=0.25,
                                  range_source="derived: Coordination per partner is 0.035–0.2 "
                                               "FTE × 0.83 MNOK = 30–170 kNOK, i.e "
                                               "(parameter-ranges §2.4)")
    budget_sd: float = p(0.4, "log-sd", "assumption", "Spread of proposal budgets.", lo=0.0,
                         hi=10.0,
                         low=0.2, high=0.8,
                         range_source="directional: \"substantial variation in the size of RS "
                                      "projects\" (000:27) (parameter-ranges §2.4)")
    duration_weights: list[float] = p([0.3, 0.4, 0.3], "weights of 1,2,3 yr", "brief §2: 1-3 years",
                                      "Distribution of project duration (each weight within the "
                                      "bounds).", lo=0.0, hi=1e6,
                                      low=0.1, high=0.6, prior="dirichlet(3,4,3)",
                                      range_source="directional: Local projects last ~2 years "
                                                   "(002:928–929); measures start only in year 3 "
                                                   "(002:3157–3160) (parameter-ranges §2.4)")
    implement_intercept: float = p(-2.0, "logit", "calibrated by hand to P7 (seed 002: many "
                                   "end before implementation; T12 0.40-0.80, centre 0.55) "
                                   "after knowledge and dose entered the logit",
                                   "Implementation logit at zero anchoring, knowledge and dose.",
                                   lo=-100.0, hi=100.0,
                                   low=-3.0, high=-1.0,
                                   range_source="calibrated by hand to P7 (T12 0.40-0.80)")
    implement_anchoring: float = p(3.0, "logit", "seed 002 M7: anchoring the top success factor",
                                   "Effect of the parties' mean anchoring.", lo=-100.0, hi=100.0,
                                   low=1.0, high=5.0,
                                   range_source="directional (002:366–368; 5860–5862) "
                                                "(parameter-ranges §2.4)")
    implement_capacity: float = p(0.4, "logit per log", "seed 002 M13, M30",
                                  "Effect of the lead's log capacity.", lo=-100.0, hi=100.0,
                                  low=0.0, high=0.8,
                                  range_source="directional (002 M13, M30) (parameter-ranges "
                                               "§2.4)")
    coordination_cost: float = p(1.0, "logit per FTE per capacity", "assumed; direction seed "
                                 "003 (lines 4081-4085, 5123); range 0.3-3",
                                 "Implementation logit lost per FTE of coordination a project "
                                 "needs (`coordination_*_fte`), divided by its lead's capacity "
                                 "(P9 without a per-partner penalty).", lo=0.0, hi=100.0,
                                 low=0.3, high=3.0,
                                 range_source="assumed; direction seed 003 lines 4081-4085, 5123")
    implement_dose: float = p(1.0, "logit", "directional: seed 002 lines 6079-6081 (82 % say "
                              "economic and personnel resources matter for success), seed 004 "
                              "line 67 ('tilstrekkelige ressurser'); value assumed, range 0-2",
                              "Implementation logit gained at full dose (the mean dose response "
                              "of the parties, 0-1).", lo=-100.0, hi=100.0,
                              low=0.0, high=2.0,
                              range_source="directional: seed 002 lines 6079-6081, seed 004 line "
                                           "67; value assumed")
    implement_knowledge: float = p(3.0, "logit per knowledge", "derived, weak: seed 002 Table "
                                   "7.2 (51-62 % better goal attainment) vs ~40 % follow-up "
                                   "(lines 1852-1854); range 1.5-6",
                                   "Implementation logit gained per unit of the parties' mean "
                                   "knowledge.", lo=-100.0, hi=100.0,
                                   low=1.5, high=6.0,
                                   range_source="derived, weak: seed 002 Table 7.2 vs lines "
                                                "1852-1854")
    survive_intercept: float = p(-3.0, "logit", "seed 002 M32: few survive the end of funding",
                                 "Survival after funding at zero anchoring.", lo=-100.0, hi=100.0,
                                 low=-4.0, high=-1.5,
                                 range_source="tuned to P7 (002:1354–1357) (parameter-ranges "
                                              "§2.4)")
    survive_anchoring: float = p(4.0, "logit", "seed 002 M7, M32", "Effect of anchoring on "
                                 "survival after funding.", lo=-100.0, hi=100.0,
                                 low=2.0, high=6.0,
                                 range_source="directional (002 M7, M32) (parameter-ranges §2.4)")
    first_timer_gain: float = p(0.5, "share", "seed 002 M17: first-timers gain most (P6)",
                                "Extra realised benefit for a party with no earlier project.",
                                lo=0.0, hi=100.0,
                                low=0.1, high=1.0,
                                range_source="directional (002:5365–5367), value assumed "
                                             "(parameter-ranges §2.4)")
    trust_benefit_own: float = p(0.5, "share", "seed 000: trust-led projects benefit the trust",
                                 "Share of a trust-led project's benefit to the trust.",
                                 lo=0.0, hi=1.0,
                                 low=0.3, high=0.8,
                                 range_source="assumed (000:32: benefits for both parties) "
                                              "(parameter-ranges §2.4)")
    trust_benefit_partner: float = p(0.2, "share", "seed 000: projects benefit both parties",
                                     "Share of a municipality-led project's benefit to the "
                                     "trust.", lo=0.0, hi=1.0,
                                     low=0.05, high=0.4,
                                     range_source="assumed (parameter-ranges §2.4)")
    lead_benefit: float = p(0.5, "share", "seed 000: leaders shape projects to their needs",
                            "Share of the municipal benefit that goes to the lead municipality; "
                            "the rest is split among partners by population.", lo=0.0, hi=1.0,
                            low=0.3, high=0.7,
                            range_source="assumed (000:33: the trust shapes design; leads shape "
                                         "projects) (parameter-ranges §2.4)")
    recruitment_effect: float = p(0.25, "attractiveness", "assumed; seed 004 lines 42, 45 "
                                  "(single measures have little effect); range 0.05-1",
                                  "Attractiveness to job seekers a recruitment or personnel-pool "
                                  "project adds to a party at full dose (times the dose "
                                  "response).", lo=0.0, hi=100.0,
                                  low=0.05, high=1.0, prior="loguniform",
                                  range_source="assumed: 004:45: single measures have little "
                                               "effect (parameter-ranges §2.4)")
    recruitment_retention_max: float = p(0.4, "share of quit hazard", "assumed; Vesterålen "
                                         "2022-24 (seed 004's project: GP mobility fell, "
                                         "EURIPA case report); range 0.2-0.5",
                                         "Share of a party's nurse and doctor quit hazard a "
                                         "fully dosed recruitment project removes.", lo=0.0,
                                         hi=0.95,
                                         low=0.2, high=0.5,
                                         range_source="assumed; Vesterålen 2022-24 (seed 004's "
                                                      "project)")
    recruitment_placements: float = p(0.02, "placements per target FTE", "assumed; NSF 2018 via "
                                      "helsedirektoratet.no (practice periods matter); range "
                                      "0-0.05", "Student placements a year a fully dosed "
                                      "recruitment project funds per nurse and doctor position "
                                      "of a party.", lo=0.0, hi=1.0,
                                      low=0.0, high=0.05,
                                      range_source="assumed; NSF 2018 (practice periods matter)")
    competence_retention_max: float = p(0.1, "share of quit hazard", "assumed; RETAIN element "
                                        "8, relevant professional development (anchors-domain "
                                        "§1.5); range 0-0.2", "Share of a party's quit hazard a "
                                        "fully dosed competence project removes.", lo=0.0,
                                        hi=0.95,
                                        low=0.0, high=0.2,
                                        range_source="assumed; RETAIN element 8 (anchors-domain "
                                                     "§1.5)")
    setup_cost: float = p(40e3, "NOK/party-yr", "derived: 0.05 FTE x 0.83 MNOK (5 h/month to a "
                          "20 % position, seed 002 lines 3853, 3661, 3617; money spent on "
                          "preparation, lines 415-418); range 15-170 k",
                          "Money a party spends on preparation, meetings and reporting before a "
                          "project's money buys anything.", lo=0.0, hi=1e8,
                          low=15000.0, high=170000.0, prior="loguniform",
                          range_source="derived: 5 h/month to a 20 % position (seed 002 lines "
                                       "3853, 3661, 3617) at 0.83 MNOK/FTE")
    dose_hill: float = p(1.5, "-", "directional: seed 004 lines 42, 45 (single measures little, "
                         "together effective); range 1-2.5", "Steepness of the dose response "
                         "(1: concave from the threshold; > 1: S-shaped).", lo=0.5, hi=5.0,
                         low=1.0, high=2.5,
                         range_source="directional: seed 004 lines 42, 45")
    half_dose_recruitment: float = p(50e3, "NOK per open post-yr", "assumed: a recruitment "
                                     "measure buys packages for the posts to fill (ASPE 2014 "
                                     "retention bonus ~17 % of wage; ~6 % of an FTE's cost a "
                                     "year); range 15-200 k", "Money per open nurse and doctor "
                                     "post of a party (at least one) at which a recruitment "
                                     "project has half its effect.", lo=1.0, hi=1e9,
                                     low=15000.0, high=200000.0, prior="loguniform",
                                     range_source="assumed: ~6 % of an FTE's cost (ASPE 2014 "
                                                  "retention bonus ~17 % of wage)")
    half_dose_service: float = p(20.0, "NOK per inh.-yr", "assumed: the national mean RS money "
                                 "is 50 NOK/inh./yr (derived); range 5-80", "Money per "
                                 "inhabitant of a party at which service development (or "
                                 "transition support) has half its effect.", lo=0.01, hi=1e6,
                                 low=5.0, high=80.0, prior="loguniform",
                                 range_source="assumed: national mean RS money 50 NOK/inh./yr")
    half_dose_competence: float = p(10e3, "NOK per employee-yr", "assumed: seed 002 lines "
                                    "2733-2734 (10-30 kNOK per municipality plus KS support); "
                                    "range 3-40 k", "Money per employee (position) of a party "
                                    "at which a competence project has half its effect.",
                                    lo=1.0, hi=1e9,
                                    low=3000.0, high=40000.0, prior="loguniform",
                                    range_source="assumed: seed 002 lines 2733-2734 (10-30 kNOK "
                                                 "per municipality)")
    competence_reach: float = p(20.0, "employees", "assumed: a competence project trains a "
                                "group of staff (resource persons, a network) in each party, "
                                "not all its employees (seed 002 lines 2733-2734: 10-30 kNOK "
                                "per municipality had effects); range 5-50", "Employees a "
                                "competence project reaches in a party (at most its "
                                "positions).", lo=1.0, hi=1e6,
                                low=5.0, high=50.0,
                                range_source="assumed: a competence project trains a group of "
                                             "staff")
    cost_per_fte: float = p(0.83e6, "NOK/FTE-yr", "derived: SSB nurse pay 53,360 NOK/month "
                            "(Nov 2022) x 12 x 1.3 employer costs; range 0.75-0.95 M",
                            "Yearly cost of one FTE: prices coordination time and staff moved "
                            "with a transferred service.", lo=1e4, hi=1e8,
                            low=750000.0, high=950000.0,
                            range_source="derived: SSB nurse pay x 12 x 1.3 employer costs")
    recruitment_persistence: float = p(0.7, "1/yr", "seed 004", "Yearly retention of a "
                                       "recruitment effect after its project ends, unless it "
                                       "survives.", lo=0.0, hi=1.0,
                                       low=0.4, high=0.9,
                                       range_source="assumed (004:45: long-term work needed) "
                                                    "(parameter-ranges §2.4)")
    competence_knowledge: float = p(0.15, "knowledge/yr", "assumed; direction seed 002 M1 "
                                    "(lines 263-268); range 0.05-0.3", "Share of the gap to "
                                    "full knowledge a party closes per year of a fully dosed "
                                    "competence project.", lo=0.0, hi=1.0,
                                    low=0.05, high=0.3,
                                    range_source="assumed (002 M1) (parameter-ranges §2.4)")
    quality_capacity: float = p(0.4, "score per log", "seed 002 M30: resources", "Effect of the "
                                "lead's log capacity on proposal quality.", lo=0.0, hi=100.0,
                                low=0.1, high=0.8,
                                range_source="directional (002 M30), value assumed "
                                             "(parameter-ranges §2.4)")
    quality_experience: float = p(0.1, "score per project", "seed 002 M16: experienced write "
                                  "good applications", "Effect of experience (capped at 5) on "
                                  "proposal quality.", lo=0.0, hi=100.0,
                                  low=0.0, high=0.25,
                                  range_source="directional (002:2958–2960) (parameter-ranges "
                                               "§2.4)")
    quality_knowledge: float = p(0.5, "score", "seed 002 M1", "Effect of adopted practice on "
                                 "proposal quality.", lo=0.0, hi=100.0,
                                 low=0.1, high=1.0,
                                 range_source="directional (002:263–268) (parameter-ranges §2.4)")
    quality_support: float = p(0.5, "score", "seed 001: coordinator as catalyst",
                               "Effect of coordinator support on proposal quality.", lo=0.0,
                               hi=100.0,
                               low=0.1, high=1.0,
                               range_source="directional (001:4), value assumed (parameter-ranges "
                                            "§2.4)")
    quality_noise: float = p(0.3, "score", "assumption", "Spread of proposal quality.", lo=0.0,
                             hi=100.0,
                             low=0.1, high=0.6,
                             range_source="assumed (parameter-ranges §2.4)")
    trust_quality: float = p(0.5, "score", "seed 000: trusts have the greatest resources",
                             "Quality of a trust proposal beyond its capacity term.",
                             lo=-100.0, hi=100.0,
                             low=0.0, high=1.0,
                             range_source="directional (000:32) (parameter-ranges §2.4)")
    survive_capacity: float = p(0.3, "logit per log", "brief §3: survival depends on anchoring "
                                "and capacity", "Effect of the lead's log capacity on survival "
                                "after funding.", lo=-100.0, hi=100.0,
                                low=0.0, high=0.6,
                                range_source="directional (brief §3) (parameter-ranges §2.4)")
    service_level_gain: float = p(0.1, "services", "assumed; seed 000 line 33 (projects put "
                                  "more services into municipalities); range 0.03-0.25",
                                  "Service level gained per implemented service development at "
                                  "full dose and full knowledge-free quality (times the dose "
                                  "response, times 1 + the party's knowledge).", lo=0.0,
                                  hi=100.0,
                                  low=0.03, high=0.25,
                                  range_source="assumed (parameter-ranges §2.4)")


@dataclass
class TrustParams:
    transfer_propensity: float = p(0.15, "1/yr", "assumed; seed 000 line 34 (transfers "
                                   "exist); range 0.05-0.4", "Chance per year that the trust "
                                   "proposes a task transfer at zero cost pressure.", lo=0.0,
                                   hi=1.0,
                                   low=0.05, high=0.4,
                                   range_source="assumed; seed 000 line 34 (transfers exist)")
    transfer_pressure: float = p(1.0, "logit per 0.01", "assumed; direction Innst. 387 S "
                                 "(2023-2024) §3.7; range 0.3-2", "Logit of proposing a "
                                 "transfer gained per 1 % of the trust's budget of cost "
                                 "pressure.", lo=0.0, hi=100.0,
                                 low=0.3, high=2.0,
                                 range_source="assumed; direction Innst. 387 S (2023-2024) §3.7")
    funded_growth_share: float = p(0.8, "share", "sourced: Innst. 387 S (2023-2024) §3.7 "
                                   "(hospitals got 80 % of real cost growth); range 0.7-0.9",
                                   "Share of the trust's activity growth that its funding "
                                   "covers; the rest accumulates as cost pressure.", lo=0.0,
                                   hi=1.0,
                                   low=0.7, high=0.9,
                                   range_source="sourced: Innst. 387 S (2023-2024) §3.7 (80 % of "
                                                "real cost growth funded)")
    trust_vacancy_cost: float = p(0.1, "share of budget per vacancy share", "derived: labour "
                                  "share 0.7 x agency/overtime premium 0.5 x share of "
                                  "vacancies covered that way 0.3 (both assumed); range "
                                  "0.03-0.35", "Cost pressure from the trust's own vacancies "
                                  "(covered by agency staff and overtime).", lo=0.0, hi=100.0,
                                  low=0.03, high=0.35,
                                  range_source="derived from assumed agency premium and coverage")
    labour_cost_share: float = p(0.7, "share", "assumed; range 0.6-0.8", "Labour's share of "
                                 "the trust's operating cost (its budget = positions x "
                                 "`cost_per_fte` / this).", lo=0.05, hi=1.0,
                                 low=0.6, high=0.8,
                                 range_source="assumed")
    saving_ratio: float = p(1.7, "-", "derived: 5,745 NOK per bed-day of a discharge-ready "
                            "patient (helsedirektoratet.no, 2024) vs ~3,300 NOK/day for a "
                            "municipal place (1.2 MNOK/yr, digi.no 2018); range 1-2",
                            "The trust's saving per NOK of yearly cost a transferred service "
                            "puts on the municipalities.", lo=0.0, hi=10.0,
                            low=1.0, high=2.0,
                            range_source="derived: bed-day price 5,745 NOK vs ~3,300 NOK/day for "
                                         "a municipal place")
    threat_credibility: float = p(0.5, "prob.", "assumed; analogue seed 003 lines 2053-2059 "
                                  "('litt ujevnt styrkeforhold'); range 0.2-0.8",
                                  "Chance that the trust's outside option (discontinue the "
                                  "service without agreement) is credible in the negotiation.",
                                  lo=0.0, hi=1.0,
                                  low=0.2, high=0.8,
                                  range_source="assumed; analogue seed 003 lines 2053-2059")
    transition_support: float = p(0.25, "share of a year's cost", "assumed; Agder RS call "
                                  "(RS money may cover costs one party incurs while the other "
                                  "saves); range 0-1", "RS money the board grants to a "
                                  "transfer's receiving municipalities, as a share of the "
                                  "service's yearly cost (times `priority_task_transfer`), "
                                  "taken off the community's money before the design splits "
                                  "it.", lo=0.0, hi=10.0,
                                  low=0.0, high=1.0,
                                  range_source="assumed; Agder RS call (RS money may cover one "
                                               "party's extra costs)")
    transfer_cost_per_capita: float = p(60.0, "NOK/inh./yr", "assumption", "Yearly cost of a "
                                        "transferred service per inhabitant of the receiving "
                                        "municipalities.", lo=0.0, hi=1e6,
                                        low=15.0, high=150.0, prior="loguniform",
                                        range_source="derived comparison: The municipalities' "
                                                     "whole bed-blocking bill is ≈ 71 NOK/inh./yr "
                                                     "(395 MNOK in 2022; 5,745 NOK/day in 2024) "
                                                     "(parameter-ranges §2.5)")
    transfer_staff_per_1000: float = p(0.05, "FTE/1000 inh.", "derived: 60 NOK/inh. x labour "
                                       "share 0.7 / 0.83 MNOK per FTE x 1,000 = 0.051 (the old "
                                       "0.3 cost 4x the service); range 0.02-0.2",
                                       "Nurse positions a transfer moves from the trust to the "
                                       "municipalities.", lo=0.0, hi=1000.0,
                                       low=0.02, high=0.2,
                                       range_source="derived from the service's cost (labour "
                                                    "share 0.7, 0.83 MNOK/FTE)")
    proposals: float = p(3.2, "proposals/yr", "seed 000 line 32: trusts have the greatest "
                         "resources; value assumed (set with `base_budget`); range 1-5",
                         "Mean proposals the trust leads in an open call at the national "
                         "mean money per actor (in Nordland, with less, 1.5).", lo=0.0,
                         hi=1000.0,
                         low=1.0, high=5.0,
                         range_source="assumed; seed 000 line 32 (trusts have the greatest "
                                      "resources)")
    trust_partner_mean: float = p(2.0, "partners", "assumption",
                                  "Mean municipal partners beyond the first that the trust "
                                  "invites to a proposal (Poisson).", lo=0.0, hi=1000.0,
                                  low=0.5, high=5.0,
                                  range_source="assumed (parameter-ranges §2.5)")
    transfer_partners: float = p(0.5, "share", "assumption", "Share of the community's "
                                 "municipalities a task transfer involves.", lo=0.0, hi=1.0,
                                 low=0.2, high=1.0,
                                 range_source="assumed (parameter-ranges §2.5)")


@dataclass
class BoardParams:
    trust_seats: int = p(3, "seats", "KS: SSU of administrative leaders; Agder example",
                         "Seats of the health trust on the board.", lo=1, hi=50,
                         low=2.0, high=6.0, prior="int",
                         range_source="assumed: SSU composition and votes were not found; SSUs "
                                      "are \"administrative and professional leaders\" "
                                      "(anchors-domain.md:16) (parameter-ranges §2.6)")
    large_seats: int = p(2, "seats", "anchors-domain §1.1 (Agder: two largest municipalities)",
                         "Largest municipalities with their own seat.", lo=0, hi=50,
                         low=1.0, high=3.0, prior="int",
                         range_source="sourced example: Agder, the two largest municipalities "
                                      "(anchors-domain.md:19) (parameter-ranges §2.6)")
    n_regions: int = p(3, "groups", "seed 004: Lofoten, Vesterålen, Salten in Nordland",
                       "Regional groups of the other municipalities, each with one "
                       "representative (the largest).", lo=1, hi=50,
                       low=2.0, high=5.0, prior="int", kind="setting",
                       range_source="Fixed at 3 for Nordland (Lofoten, Vesterålen, Salten, "
                                    "004:79) (parameter-ranges §1)")
    score_quality: float = p(1.0, "score", "brief §4", "Weight of proposal quality.", lo=-100.0,
                             hi=100.0,
                             kind="setting",
                             range_source="Sets the scale: the scoring weights are identified "
                                          "only relative to one another and to the noise "
                                          "(parameter-ranges §2.6)")
    score_priority: float = p(0.6, "score", "regjeringen.no 2024: national priorities",
                              "Weight of fit with national priorities.", lo=-100.0, hi=100.0,
                              low=0.2, high=1.2,
                              range_source="assumed (parameter-ranges §2.6)")
    score_breadth: float = p(0.5, "score", "seed 000: benefit several municipalities",
                             "Weight of breadth (share of population covered).",
                             lo=-100.0, hi=100.0,
                             low=0.1, high=1.0,
                             range_source="directional (000:32: ideally more than one "
                                          "municipality) (parameter-ranges §2.6)")
    score_influence: float = p(1.0, "score", "seed 000: trust and large have more influence",
                               "Weight of the proposers' influence on the board.",
                               lo=-100.0, hi=100.0,
                               low=0.3, high=2.0,
                               range_source="directional (000:39) (parameter-ranges §2.6)")
    score_noise: float = p(0.4, "score", "assumption", "Noise in board scoring.", lo=0.0, hi=100.0,
                           low=0.1, high=1.0, prior="loguniform",
                           range_source="assumed (parameter-ranges §2.6)")
    priority_service_development: float = p(1.0, "0-1", "regjeringen.no 2024: patient "
                                            "pathways and services first", "Priority fit of "
                                            "service development.", lo=0.0, hi=1.0,
                                            low=0.7, high=1.0,
                                            range_source="directional (regjeringen.no: pathways "
                                                         "and priority groups first) "
                                                         "(parameter-ranges §2.6)")
    priority_competence: float = p(0.6, "0-1", "regjeringen.no 2024: good use of personnel",
                                   "Priority fit of competence projects.", lo=0.0, hi=1.0,
                                   low=0.3, high=0.9,
                                   range_source="directional (\"god bruk av personell\") "
                                                "(parameter-ranges §2.6)")
    priority_task_transfer: float = p(0.8, "0-1", "regjeringen.no 2024: the right division "
                                      "of labour", "Priority the board gives task transfers: "
                                      "scales the RS transition support it grants.",
                                      lo=0.0, hi=1.0,
                                      low=0.4, high=1.0,
                                      range_source="directional (\"riktig arbeidsdeling\") "
                                                   "(parameter-ranges §2.6)")
    priority_recruitment: float = p(0.2, "0-1", "seed 000: content aligns with patient-group "
                                    "priorities; recruitment rarely primary", "Priority fit of "
                                    "recruitment projects.", lo=0.0, hi=1.0,
                                    low=0.1, high=0.6,
                                    range_source="directional, range widened: The grant names "
                                                 "recruitment and combined positions as a purpose "
                                                 "(regjeringen.no id3048046), so 0.2 may be low "
                                                 "(parameter-ranges §2.6)")
    capacity_influence: float = p(0.5, "-", "seed 000", "Influence from capacity beside seats.",
                                  lo=0.0, hi=100.0,
                                  low=0.0, high=1.0,
                                  range_source="assumed (000:39) (parameter-ranges §2.6)")
    influence_experience: float = p(0.5, "-", "assumed; direction seed 002 lines 2958-2960 "
                                    "(experience favoured); range 0-1.5", "Extra influence of "
                                    "a member with full experience (5 projects), beside its "
                                    "seats and capacity; recomputed every year.", lo=0.0,
                                    hi=100.0,
                                    low=0.0, high=1.5,
                                    range_source="assumed; direction seed 002 lines 2958-2960")
    agenda_need: float = p(5.0, "per vacancy share", "assumed; direction seed 004 line 30 "
                           "(shortage the biggest challenge); range 0-15", "How much a "
                           "member's vacancy share (the trust: also its cost pressure) raises "
                           "its weight in the governance agenda.", lo=0.0, hi=1000.0,
                           low=0.0, high=15.0,
                           range_source="assumed; direction seed 004 line 30")


@dataclass
class ParticipationParams:
    apply_intercept: float = p(-0.05, "logit", "calibrated by hand to P5 (ever took part in "
                               "5 years, small) and T15 (oversubscription) together",
                               "Chance to lead a proposal at zero capacity, experience and "
                               "support.", lo=-100.0, hi=100.0,
                               low=-2.0, high=1.0,
                               range_source="calibrated by hand to P5 and T15")
    apply_capacity: float = p(0.7, "logit per log", "seed 002 M30: resources gate participation",
                              "Effect of log capacity on leading a proposal.", lo=-100.0, hi=100.0,
                              low=0.2, high=1.2,
                              range_source="directional (002:4222–4224, 5124–5127) "
                                           "(parameter-ranges §2.7)")
    apply_experience: float = p(0.3, "logit per project", "seed 002 M16 (Matthew effect)",
                                "Effect of experience (capped at 5) on taking part.",
                                lo=-100.0, hi=100.0,
                                low=0.0, high=0.6,
                                range_source="directional (002:2958–2960) (parameter-ranges §2.7)")
    apply_trust: float = p(1.0, "logit", "brief §4", "Effect of trust (minus 0.5).", lo=-100.0,
                           hi=100.0,
                           low=0.0, high=2.0,
                           range_source="assumed (parameter-ranges §2.7)")
    apply_cost: float = p(0.3, "logit", "seed 002 M30: cost of applying; value set with "
                          "`apply_intercept` (range 0.2-1.5)",
                          "Cost of applying, divided by capacity.", lo=0.0, hi=100.0,
                          low=0.2, high=1.5,
                          range_source="seed 002 M30 (cost of applying); value assumed")
    apply_need: float = p(2.0, "logit per vacancy share", "assumed; direction seed 004 line 30 "
                          "(shortage the biggest challenge); range 0-6", "Effect of the own "
                          "vacancy share on leading a proposal.", lo=-100.0, hi=100.0,
                          low=0.0, high=6.0,
                          range_source="assumed; direction seed 004 line 30")
    apply_money: float = p(1.0, "logit per log", "assumed; range 0-2", "Effect of the log of "
                           "the call's money per eligible actor (over `money_reference`) on "
                           "leading a proposal: more money on offer, more proposals.",
                           lo=-10.0, hi=10.0,
                           low=0.0, high=2.0,
                           range_source="assumed")
    ask_elasticity: float = p(0.5, "-", "assumed; Agder RS call ('grants can be applied for "
                              "small and large projects'); range 0-1", "Elasticity of "
                              "requested budgets to the money per eligible actor over "
                              "`money_reference`.", lo=0.0, hi=3.0,
                              low=0.0, high=1.0,
                              range_source="assumed; Agder RS call ('small and large projects')")
    money_reference: float = p(0.745e6, "NOK per actor", "derived: 280 MNOK over the 376 "
                               "eligible actors (357 municipalities, 19 trusts); range "
                               "0.35-1 M", "Money per eligible actor at which the money terms "
                               "of applying and asking vanish (a community with less money per "
                               "actor than the national mean gets fewer, smaller proposals).",
                               lo=1.0, hi=1e12,
                               low=350000.0, high=1000000.0, kind="setting",
                               range_source="derived: 280 MNOK over 376 eligible actors (a "
                                            "normalisation: moving it shifts apply_money's "
                                            "intercept)")
    join_intercept: float = p(-1.5, "logit", "calibrated by hand to P5 (ever took part in 5 "
                              "years) with `apply_intercept`", "Chance to accept an invitation "
                              "to partner at zero capacity.", lo=-100.0, hi=100.0,
                              low=-3.0, high=0.0,
                              range_source="calibrated by hand to P5")
    partner_mean: float = p(1.5, "partners", "seed 002: sub-networks of 4-8; assumption",
                            "Mean municipal partners a lead invites, times capacity to the "
                            "`partner_exponent`.", lo=0.0, hi=1000.0,
                            low=0.5, high=4.0,
                            range_source="sourced analogues: Sub-networks of 4–8 municipalities "
                                         "(002:1231); host collaborations 2–5 members, mean 3 "
                                         "(003:2302–2306, 19–21) (parameter-ranges §2.7)")
    partner_exponent: float = p(0.3, "-", "seed 000: larger municipalities prefer larger "
                                "projects", "How the number of invited partners grows with the "
                                "lead's capacity.", lo=0.0, hi=2.0,
                                low=0.0, high=0.8,
                                range_source="directional (000:27) (parameter-ranges §2.7)")
    max_proposals: int = p(3, "proposals", "assumption", "Most proposals one municipality "
                           "(or the trust) leads in a year.", lo=1, hi=1000,
                           low=1.0, high=5.0, prior="int", kind="setting",
                           range_source="a rule of the model, assumed (parameter-ranges §1)")
    trust_agree: float = p(0.85, "prob.", "regjeringen.no 2024: trust and municipalities must "
                           "agree", "Chance the trust agrees to a municipal proposal.",
                           lo=0.0, hi=1.0,
                           low=0.6, high=1.0,
                           range_source="Rule sourced (the trust and the municipalities must "
                                        "agree; Agder requires a signed agreement before "
                                        "application, sshf page); value assumed (parameter-ranges "
                                        "§2.7)")


@dataclass
class NetworkParams:
    tie_neighbour: float = p(0.3, "0-1", "assumption", "Initial tie between land neighbours.",
                             lo=0.0, hi=1.0,
                             low=0.1, high=0.5,
                             range_source="assumed (parameter-ranges §2.8)")
    tie_trust: float = p(0.4, "0-1", "assumption", "Initial tie between the trust and a "
                         "municipality.", lo=0.0, hi=1.0,
                         low=0.1, high=0.6,
                         range_source="assumed (parameter-ranges §2.8)")
    island_links: int = p(2, "links", "anchors-domain §2.3: 26 islands have no land border",
                          "Nearest municipalities an island is joined to.", lo=0, hi=10,
                          low=1.0, high=3.0, prior="int", kind="setting",
                          range_source="structural choice; 26 island municipalities "
                                       "(anchors-domain.md §2.3) (parameter-ranges §1)")
    tie_gain: float = p(0.15, "per joint project", "seed 002 M23: trust builds with joint work",
                        "Tie strength gained per year of joint work.", lo=0.0, hi=1.0,
                        low=0.05, high=0.3,
                        range_source="directional (002:5549–5550) (parameter-ranges §2.8)")
    tie_decay: float = p(0.08, "1/yr", "seed 002 M23", "Yearly decay of tie strength.",
                         lo=0.0, hi=1.0,
                         low=0.03, high=0.2,
                         range_source="directional (002:6285–6290) (parameter-ranges §2.8)")
    spread_rate: float = p(0.15, "1/yr", "seed 002: practice does not spread like rings in water",
                           "Knowledge taken up per unit of tie and gap.", lo=0.0, hi=1.0,
                           low=0.05, high=0.3,
                           range_source="directional (002:2930–2931, \"ikke som ringer i vann\") "
                                        "(parameter-ranges §2.8)")
    distance_decay_km: float = p(100.0, "km", "seed 002 M28: distance decay",
                                 "Distance over which knowledge spread falls by e.", lo=1.0,
                                 hi=1e5,
                                 low=30.0, high=300.0, prior="loguniform",
                                 range_source="directional (002:4278–4282) (parameter-ranges "
                                              "§2.8)")
    knowledge_decay: float = p(0.05, "1/yr", "seed 002 M21: low organisational memory",
                               "Yearly loss of knowledge.", lo=0.0, hi=1.0,
                               low=0.02, high=0.15,
                               range_source="derived, weak. \"Known 20 years ago, perhaps no "
                                            "longer\" (002:2926–2928) implies ≥ 0.035 "
                                            "(parameter-ranges §2.8)")


@dataclass
class TrustUpdateParams:
    trust_rate: float = p(0.25, "1/yr", "Gorobets & Nooteboom 2006", "Speed at which trust "
                          "moves to perceived fairness.", lo=0.0, hi=1.0,
                          low=0.1, high=0.5,
                          range_source="assumed (Gorobets & Nooteboom 2006 form) "
                                       "(parameter-ranges §2.9)")
    fairness_baseline: float = p(0.78, "0-1", "seed 000: high trust despite criticism",
                                 "Perceived fairness at fair share, no seat, no shifted cost.",
                                 lo=0.0, hi=1.0,
                                 low=0.6, high=0.9,
                                 range_source="tuned to P4: Today it sets share_high_trust = "
                                              "1.00, so do not calibrate it to P4(a) alone; use "
                                              "P4(b) as well (targets T6) (parameter-ranges §2.9)")
    fairness_benefit: float = p(0.12, "0-1", "seed 000: distributional criticism",
                                "Effect of received benefit relative to fair share (tanh).",
                                lo=0.0, hi=100.0,
                                low=0.03, high=0.3,
                                range_source="assumed (000:33) (parameter-ranges §2.9)")
    fairness_voice: float = p(0.08, "0-1", "seed 000: influence over project design",
                              "Effect of having a voice on the board.", lo=0.0, hi=100.0,
                              low=0.02, high=0.2,
                              range_source="directional (003:2993–2997: involvement before "
                                           "decisions) (parameter-ranges §2.9)")
    fairness_information: float = p(0.1, "0-1", "seed 003 lines 197-199 (partners feel less "
                                    "updated and involved), 1631-1633 (the more and the "
                                    "smaller the members, the more negative the assessment); "
                                    "value assumed, range 0-0.3",
                                    "Effect of being informed about the collaboration "
                                    "(`information`, 1 = fully, the host's) on perceived "
                                    "fairness: a partner that knows less judges it worse.",
                                    lo=0.0, hi=100.0,
                                    low=0.0, high=0.3,
                                    range_source="directional: seed 003 lines 197-199, 1631-1633; "
                                                 "value assumed")
    fairness_shift: float = p(0.15, "0-1", "seed 000: task shifting without resources",
                              "Effect of uncompensated shifted cost per inhabitant.", lo=0.0,
                              hi=100.0,
                              low=0.05, high=0.3,
                              range_source="directional (000:34) (parameter-ranges §2.9)")
    shift_reference: float = p(200.0, "NOK/inh./yr", "assumption", "Uncompensated cost per "
                               "inhabitant at which the shift effect is full.", lo=1e-9, hi=1e9,
                               low=50.0, high=500.0, prior="loguniform",
                               range_source="assumed: For scale: the whole bed-blocking bill is ≈ "
                                            "71 NOK/inh./yr (derived) (parameter-ranges §2.9)")


@dataclass
class HostParams:
    """Seed 003's host-municipality collaboration: a multi-party project is run by its lead (the
    host); the partners carry an information gap and the project pays for coordination."""

    coordination_lead_fte: float = p(0.2, "FTE/yr", "sourced: project leader 20 % (seed 002 "
                                     "lines 3664-3666); range 0.1-0.5", "Coordination a "
                                     "project with more than one municipal party needs at its "
                                     "host.", lo=0.0, hi=10.0,
                                     low=0.1, high=0.5,
                                     range_source="sourced: project leader 20 % (seed 002 lines "
                                                  "3664-3666)")
    coordination_party_fte: float = p(0.035, "FTE/yr", "sourced: 5 h/month (seed 002 line "
                                      "3853), the low end of 5 h/month to a 20 % position "
                                      "(lines 3661, 3617), because each party's own time is in "
                                      "`setup_cost`; range 0.02-0.2", "Coordination per "
                                      "municipal party (to the `coordination_exponent`) of a "
                                      "project with more than one, beyond each party's own "
                                      "set-up cost.", lo=0.0, hi=10.0,
                                      low=0.02, high=0.2,
                                      range_source="sourced: 5 h/month to a 20 % position (seed "
                                                   "002 lines 3853, 3661, 3617)")
    coordination_exponent: float = p(1.2, "-", "assumed; >= 1 directional: seed 003 lines "
                                     "4069-4071, 4081-4085 (every owner one more line of "
                                     "governance; even two is demanding); range 1-2",
                                     "How coordination grows with the number of municipal "
                                     "parties.", lo=0.5, hi=3.0,
                                     low=1.0, high=2.0,
                                     range_source="assumed; >= 1 directional (seed 003 lines "
                                                  "4069-4071, 4081-4085)")
    represented_share: float = p(0.67, "prob.", "sourced analogue: 1/3 of host collaborations "
                                 "have only the host in steering (seed 003 lines 2122-2124); "
                                 "range 0.55-0.8", "Chance that a partner municipality is "
                                 "represented in a project's steering.", lo=0.0, hi=1.0,
                                 low=0.55, high=0.8,
                                 range_source="sourced analogue: 1/3 host-only steering (seed 003 "
                                              "lines 2122-2124)")
    info_gap_base: float = p(0.1, "information", "assumed; direction seed 003 lines 197-199 "
                             "(partners less updated than the host); range 0-0.2",
                             "Information a partner lacks in any project.", lo=0.0, hi=1.0,
                             low=0.0, high=0.2,
                             range_source="assumed; direction seed 003 lines 197-199")
    info_gap_unrepresented: float = p(0.3, "information", "assumed; direction seed 003 lines "
                                      "2916-2928 (a partner without the host's meetings must "
                                      "work harder for information); range 0-0.6",
                                      "Information a partner lacks when it is not represented "
                                      "(a municipality without a board seat, outside projects).",
                                      lo=0.0, hi=1.0,
                                      low=0.0, high=0.6,
                                      range_source="assumed; direction seed 003 lines 2916-2928")
    info_gap_members: float = p(0.1, "information per log", "assumed; direction seed 003 lines "
                                "1631-1633, 4366-4370 (more members, harder to keep the "
                                "overview); range 0-0.2", "Information a partner lacks per log "
                                "of the number of municipal parties.", lo=0.0, hi=1.0,
                                low=0.0, high=0.2,
                                range_source="assumed; direction seed 003 lines 1631-1633, "
                                             "4366-4370")
    info_gap_small: float = p(0.1, "information", "assumed; direction seed 003 lines 1569-1572 "
                              "(small partners have less access to information); range 0-0.2",
                              "Information a small partner lacks besides.", lo=0.0, hi=1.0,
                              low=0.0, high=0.2,
                              range_source="assumed; direction seed 003 lines 1569-1572")


@dataclass
class ModelParams:
    """Behavioural parameters, grouped by entity and process."""

    municipality: MunicipalityParams = field(default_factory=MunicipalityParams)
    labour: LabourParams = field(default_factory=LabourParams)
    project: ProjectParams = field(default_factory=ProjectParams)
    trust: TrustParams = field(default_factory=TrustParams)
    board: BoardParams = field(default_factory=BoardParams)
    host: HostParams = field(default_factory=HostParams)
    participation: ParticipationParams = field(default_factory=ParticipationParams)
    network: NetworkParams = field(default_factory=NetworkParams)
    trust_update: TrustUpdateParams = field(default_factory=TrustUpdateParams)


@dataclass
class SimConfig:
    """One simulation: scenario, design, levers, behaviour, horizon and seed."""

    scenario: ScenarioConfig = field(default_factory=ScenarioConfig)
    allocation: AllocationConfig = field(default_factory=AllocationConfig)
    levers: LeverConfig = field(default_factory=LeverConfig)
    params: ModelParams = field(default_factory=ModelParams)
    years: int = p(10, "yr", "brief §3: default horizon 10 years", "Simulated years.",
                   lo=1, hi=1000,
                   low=5.0, high=20.0, kind="setting",
                   range_source="brief §3; vary only to study the horizon (parameter-ranges §1)")
    seed: int = p(1, "-", "-", "Seed of the run's random generator (64-bit: the result tables "
                  "store it as a signed 64-bit integer).", lo=0, hi=MAX_SEED,
                  kind="setting",
                  range_source="not a parameter; paired seeds (parameter-ranges §1)")


# --- flat access by leaf name ------------------------------------------------------------------

def _walk(obj: object, prefix: str = ""
          ) -> Iterator[tuple[str, dataclasses.Field, object]]:
    """Yield (dotted_path, field, owner) for every leaf field of a config dataclass."""
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        path = f"{prefix}{f.name}"
        if dataclasses.is_dataclass(value):
            yield from _walk(value, path + ".")
        else:
            yield path, f, obj


def leaf_paths(cfg: SimConfig | None = None) -> dict[str, str]:
    """Map each leaf name (``compensation``) to its dotted path (``levers.compensation``)."""
    cfg = cfg or SimConfig()
    out: dict[str, str] = {}
    for path, f, _ in _walk(cfg):
        if f.name in out:  # pragma: no cover - guarded by a test
            raise RuntimeError(f"leaf name {f.name!r} is not unique")
        out[f.name] = path
    return out


# --- one configuration engine: OmegaConf's structured schema ----------------------------------
#
# Hydra composes the dataclasses above as OmegaConf structured configs; ``simulate()`` checks and
# converts every value through the very same schema nodes, so both accept and refuse the same
# values (a number given as text, ``"7e6"``, is a float in both). The ranges and choices of the
# field metadata are then checked by :func:`check_fields`.

@functools.cache
def schema(cls: type = SimConfig) -> DictConfig:
    """The OmegaConf structured schema of a configuration dataclass (built once; read only)."""
    node = OmegaConf.structured(cls)
    OmegaConf.set_readonly(node, True)
    return node


def schema_node(path: str, cls: type = SimConfig) -> Node:
    """The schema node at a dotted path; ConfigError naming the allowed keys if there is none.

    Found once per path and kept (the schema is read only): validating a configuration walks
    every parameter, and walking OmegaConf's nodes from the root each time was most of the
    cost of a run's set-up."""
    return _schema_node(path, cls)


@functools.lru_cache(maxsize=4096)
def _schema_node(path: str, cls: type) -> Node:
    node, where = schema(cls), ""
    for part in path.split("."):
        if not isinstance(node, DictConfig) or _free_mapping(node):
            raise ConfigError(f"unknown parameter {path!r}: {where[:-1]} is a value, not a group")
        if part not in node:
            scope = f"in {where[:-1]}" if where else "at the top"
            raise ConfigError(f"unknown parameter {path!r}; allowed {scope}: "
                              f"{', '.join(node.keys())}")
        node, where = node._get_node(part), f"{where}{part}."
    return node


def _free_mapping(node: DictConfig) -> bool:
    """Whether a schema node is a free mapping (``dict[str, Any]``) rather than a group."""
    return not dataclasses.is_dataclass(OmegaConf.get_type(node))


def _kind(node: Node) -> str:
    """What a schema node accepts, in words."""
    if isinstance(node, ListConfig):
        return "a list of numbers (list[float])" if node._metadata.element_type is float else \
            f"a list ({node._metadata.element_type.__name__} entries)"
    kinds = {FloatNode: "a number (float)", IntegerNode: "an integer (int)",
             BooleanNode: "true or false (bool)", StringNode: "text (str)"}
    kind = kinds.get(type(node), "a value")
    return kind + (" or null" if node._is_optional() else "")


def convert(path: str, value: Any, cls: type = SimConfig) -> Any:  # noqa: ANN401 - any type
    """``value`` for the parameter at ``path``, checked and converted by its schema node as
    Hydra converts a command-line value (e.g. ``"7e6"`` -> 7000000.0, ``"yes"`` -> True).

    Raises:
        ConfigError: an unknown parameter, or a value of the wrong type (one line).
    """
    node = schema_node(path, cls)
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:
        value = value.item()  # numpy scalars become Python numbers
    if isinstance(node, DictConfig) and _free_mapping(node):
        if not isinstance(value, (dict, DictConfig)):
            raise ConfigError(f"{path}: got {value!r}; allowed: a mapping")
        return value
    if isinstance(node, DictConfig):
        keys = ", ".join(node.keys())
        raise ConfigError(f"{path}: is a group; give a mapping of its parameters ({keys})")
    try:
        if isinstance(node, ListConfig):
            if value is None and node._is_optional():
                return None
            converted = ListConfig(value, element_type=node._metadata.element_type)
            return OmegaConf.to_object(converted)
        return node.validate_and_convert(value)
    except OmegaConfBaseException:
        raise ConfigError(f"{path}: got {value!r} ({type(value).__name__}); allowed: "
                          f"{allowed(path, cls)}") from None


def allowed(path: str, cls: type = SimConfig) -> str:
    """What the parameter at ``path`` accepts, in words: its type and bounds or choices."""
    node = schema_node(path, cls)
    meta = _field(path, cls).metadata
    if meta.get("choices"):
        return ", ".join(meta["choices"])
    bounds = _range(meta)
    return f"{_kind(node)}{',' if bounds else ''}{bounds}"


def _field(path: str, cls: type = SimConfig) -> dataclasses.Field:
    """The dataclass field at a dotted path."""
    obj: Any = cls()
    *parents, leaf = path.split(".")
    for part in parents:
        obj = getattr(obj, part)
    return {f.name: f for f in dataclasses.fields(obj)}[leaf]


def unknown_keys(cfg: DictConfig, cls: type, prefix: str = "") -> list[str]:
    """Dotted paths of the keys of a composed configuration that its schema does not have
    (Hydra lets ``+levers.compensaton=0.9`` add one; it would be silently ignored)."""
    node = schema(cls) if not prefix else schema_node(prefix[:-1], cls)
    out = []
    for key in cfg:
        if key not in node:
            out.append(f"{prefix}{key}")
        elif (isinstance(cfg[key], DictConfig) and isinstance(node._get_node(key), DictConfig)
              and not _free_mapping(node._get_node(key))):
            out += unknown_keys(cfg[key], cls, f"{prefix}{key}.")
    return out


def _set_path(cfg: SimConfig, path: str, value: object) -> None:
    *parents, leaf = path.split(".")
    obj = cfg
    for part in parents:
        obj = getattr(obj, part)
    setattr(obj, leaf, convert(path, value, type(cfg)))


def apply_overrides(cfg: SimConfig, overrides: dict[str, Any]) -> SimConfig:
    """A copy of ``cfg`` with parameters set by leaf name, dotted path, or nested mapping of a
    group, each value checked and converted by the structured schema (:func:`convert`).

    ``{"compensation": 0.5}``, ``{"levers.compensation": 0.5}`` and
    ``{"levers": {"compensation": 0.5}}`` are the same override.
    """
    cfg = copy.deepcopy(cfg)
    names = leaf_paths(cfg)
    groups = {f.name for f in dataclasses.fields(cfg)
              if dataclasses.is_dataclass(getattr(cfg, f.name))}

    def flatten(prefix: str, mapping: dict) -> Iterator[tuple[str, object]]:
        for k, v in mapping.items():
            key = f"{prefix}{k}"
            target = cfg
            for part in key.split("."):
                target = getattr(target, part, None)
            if isinstance(v, dict) and dataclasses.is_dataclass(target):
                yield from flatten(key + ".", v)
            else:
                yield key, v

    for key, value in overrides.items():
        if "." in key or key in groups:
            items = flatten("", {key: value})
        elif key in names:
            items = [(names[key], value)]
        else:
            raise ConfigError(
                f"unknown parameter {key!r}; allowed: a group ({', '.join(sorted(groups))}), a "
                f"dotted path, or one of the leaf names: {', '.join(sorted(names))}"
            )
        for path, v in items:
            _set_path(cfg, path, v)
    return cfg


# --- validation -----------------------------------------------------------------------------------

def check_fields(obj: object, prefix: str = "", root: type | None = None) -> None:
    """Check every leaf of a configuration dataclass against its schema node (type; a value
    is converted in place as Hydra would convert it) and its metadata (finite, within
    ``lo``/``hi``, one of ``choices``; each entry of a list); raise one ConfigError naming the
    field and what is allowed. ``root`` is the schema class that ``prefix`` is a path in."""
    schema_class = root or type(obj)
    for path, f, owner in _walk(obj, prefix):
        value = getattr(owner, f.name)
        converted = _checked(path, f, value, schema_class)
        if repr(converted) != repr(value):
            setattr(owner, f.name, converted)


#: Values already checked, by (schema class, path, type, repr of the value): every run checks
#: ~180 parameters, nearly all at values checked before, and OmegaConf's conversion was most of
#: a run's set-up. The repr tells 0.0 from -0.0 (equal as keys). Bounded, for sweeps over
#: sampled values: cleared when full.
_CHECKED: dict[tuple, Any] = {}
_CHECKED_MAX = 1 << 12


def _checked(path: str, f: dataclasses.Field, value: Any, root: type) -> Any:  # noqa: ANN401 (any leaf value of the schema)
    """:func:`_check_leaf`, remembered for scalars and lists of scalars (a list is handed out
    as a new list; an error is raised again, never kept)."""
    scalars = (bool, int, float, str)
    entries = isinstance(value, (list, tuple))
    if not (value is None or isinstance(value, scalars)
            or (entries and all(isinstance(v, scalars) for v in value))):
        return _check_leaf(path, f, value, root)
    key = (root, path, type(value), repr(value))
    if key not in _CHECKED:
        if len(_CHECKED) >= _CHECKED_MAX:
            _CHECKED.clear()
        _CHECKED[key] = _check_leaf(path, f, value, root)
    converted = _CHECKED[key]
    return list(converted) if isinstance(converted, list) else converted


def _check_leaf(path: str, f: dataclasses.Field, value: Any, root: type) -> Any:  # noqa: ANN401 (any leaf value of the schema)
    """One leaf's value converted by its schema node and checked against its metadata."""
    value = convert(path, value, root)
    meta = f.metadata
    entries = isinstance(value, (list, tuple))
    for i, v in enumerate(value if entries else [value]):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            continue
        where, each = (f"{path}[{i}]", " each") if entries else (path, "")
        if math.isnan(v):
            raise ConfigError(f"{where}: got NaN; allowed:{each} a number{_range(meta)}")
        if math.isinf(v):
            raise ConfigError(f"{where}: got {v}; allowed:{each} a finite number"
                              f"{_range(meta)}")
        lo, hi = meta.get("lo"), meta.get("hi")
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            raise ConfigError(f"{where}: got {v!r}; allowed:{each}{_range(meta)}")
    choices = meta.get("choices")
    if choices and value not in choices:
        raise ConfigError(f"{path}: got {value!r}; allowed: {', '.join(choices)}")
    return value


def validate(cfg: SimConfig) -> SimConfig:
    """Check types (through the structured schema), ranges and choices of every parameter and
    the rules between parameters; raise one clear ConfigError."""
    from helsesim import allocation, data  # late import: avoid a cycle

    check_fields(cfg)
    scenarios = data.scenario_names()
    if cfg.scenario.name not in scenarios:
        raise ConfigError(f"scenario.name: got {cfg.scenario.name!r}; allowed: "
                          f"{', '.join(scenarios)}")
    if cfg.allocation.design not in allocation.DESIGNS:
        raise ConfigError(f"allocation.design: got {cfg.allocation.design!r}; allowed: "
                          f"{', '.join(allocation.DESIGNS)}")
    m = cfg.params.municipality
    if not m.small_threshold < m.large_threshold:
        raise ConfigError(f"params.municipality.small_threshold ({m.small_threshold}) must be "
                          f"below large_threshold ({m.large_threshold})")
    w = cfg.params.project.duration_weights
    if len(w) != 3 or sum(w) <= 0:
        raise ConfigError(f"params.project.duration_weights: got {list(w)!r}; allowed: three "
                          "non-negative numbers (weights of 1, 2, 3 years) with a positive sum")
    return cfg


def _range(meta: Mapping[str, Any]) -> str:
    lo, hi = (_bound(meta.get(k)) for k in ("lo", "hi"))
    if lo is not None and hi is not None:
        return f" from {lo} to {hi}"
    if lo is not None:
        return f" >= {lo}"
    if hi is not None:
        return f" <= {hi}"
    return ""


def _bound(x: float | None) -> str | None:
    """A bound as written in a message: 1.0, 1000, 1e+12, 2**63 - 1."""
    if x is None:
        return None
    if x == MAX_SEED:
        return "2**63 - 1"
    return f"{x:g}" if isinstance(x, float) and abs(x) >= 1e6 else repr(x)


def make_config(**overrides: object) -> SimConfig:
    """A validated SimConfig with the given overrides (see :func:`apply_overrides`)."""
    return validate(apply_overrides(SimConfig(), overrides))


def parameter_table(cfg: SimConfig | None = None) -> list[dict[str, Any]]:
    """One row per parameter: ``name`` (dotted path), ``default``, ``unit``, ``low``, ``high``
    (the plausible range; None for none), ``prior``, ``kind`` (:data:`KINDS`), ``source`` (of
    the default), ``range_source`` (of the range), ``doc``, the validity bounds ``lo`` and
    ``hi``; for docs/ODD.md and the analyses. ``path`` repeats ``name`` for older callers."""
    cfg = cfg or SimConfig()
    rows = []
    for path, f, owner in _walk(cfg):
        m = f.metadata
        rows.append(dict(name=path, default=getattr(owner, f.name), unit=m.get("unit", ""),
                         low=m.get("low"), high=m.get("high"), prior=m.get("prior"),
                         kind=m.get("kind", "uncertainty"), source=m.get("source", ""),
                         range_source=m.get("range_source", ""), doc=m.get("doc", ""),
                         lo=m.get("lo"), hi=m.get("hi"), path=path))
    return rows


def to_flat_dict(cfg: SimConfig) -> dict[str, Any]:
    """Every parameter as ``{dotted_path: value}`` (lists become tuples' string)."""
    out = {}
    for path, f, owner in _walk(cfg):
        v = getattr(owner, f.name)
        out[path] = str(list(v)) if isinstance(v, (list, tuple)) else v
    return out
