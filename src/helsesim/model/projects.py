"""Projects: plain records (not agents) for proposals and funded RS projects."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from helsesim.model.agents import Employer, HealthTrust, Municipality

#: The project types, in the order of the type choice (``Employer.choose_type``); a task
#: transfer is not chosen but decided in its own step (``HealthSystem.negotiate_transfers``).
PROJECT_TYPES = ("service_development", "competence", "recruitment", "personnel_pool",
                 "task_transfer")
#: Types that primarily target recruitment (P1, the recruitment earmark).
RECRUITMENT_TYPES = ("recruitment", "personnel_pool")


@dataclass(eq=False)
class Project:
    """A proposal and, once funded, an RS project.

    ``lead`` and ``partners`` are agents; the community's health trust is a party to every
    joint project (the grant requires the trust and the municipalities to agree). A
    ``per_capita`` allocation creates solo projects with ``trust_party=False``.
    """

    community: str
    lead: Any  # Employer: a municipality or the trust
    partners: list = field(default_factory=list)  # Municipality
    type: str = "service_development"
    budget: float = 0.0
    duration: int = 1
    quality: float = 0.0
    stream: str = "open_call"
    trust_party: bool = True
    voluntary: bool = False  # its municipal parties chose to lead or join it (an open call)
    compensation_share: float = 0.0  # a task transfer: the share of its cost the trust pays
    # set when funded (ProjectPortfolio.fund)
    project_id: int = -1
    year: int = -1
    score: float = float("nan")
    status: str = "proposed"  # proposed -> active -> implemented | failed
    survives: bool = False
    benefit: dict = field(default_factory=dict)  # party -> NOK
    first_timers: set = field(default_factory=set)  # municipal parties without experience
    # set when funded (ProjectPortfolio.dose): what the money buys
    coordination: float = 0.0  # NOK/yr of the project's money spent on coordination
    information: dict = field(default_factory=dict)  # municipal party -> information (0-1)
    response: dict = field(default_factory=dict)  # party -> dose response (0-1)
    level: float = 1.0  # share of its labour effects still at work (fades after the end)
    labour: list = field(default_factory=list)  # (employer, retention, attraction, placements)

    @cached_property
    def municipalities(self) -> list[Municipality]:
        """Municipal parties: the lead if it is a municipality, then the partners (fixed once
        the proposal is made)."""
        lead = [self.lead] if self.lead.kind == "municipality" else []
        return lead + list(self.partners)

    @property
    def money_per_year(self) -> float:
        """NOK a year: the budget spread over the duration."""
        return self.budget / self.duration

    @property
    def end_year(self) -> int:
        return self.year + self.duration - 1

    def parties(self, trust: HealthTrust) -> list[Employer]:
        """All parties, the trust included when it takes part."""
        municipalities = self.municipalities
        return ([trust, *municipalities]) if self.trust_party else municipalities
