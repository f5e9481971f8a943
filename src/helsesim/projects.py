"""Projects: plain records (not agents) for proposals and funded RS projects."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

PROJECT_TYPES = ("service_development", "competence", "recruitment", "task_transfer")


@dataclass(eq=False)
class Project:
    """A proposal and, once funded, an RS project.

    ``lead`` and ``partners`` are agents; ``trust`` is the community's health trust, a party to
    every joint project (the grant requires the trust and the municipalities to agree). A
    ``per_capita`` allocation creates solo projects with ``trust_party=False``.
    """

    community: str
    lead: Any
    partners: list = field(default_factory=list)
    type: str = "service_development"
    budget: float = 0.0
    duration: int = 1
    quality: float = 0.0
    stream: str = "open_call"
    trust_party: bool = True
    # set when funded
    project_id: int = -1
    year: int = -1
    score: float = float("nan")
    status: str = "proposed"  # proposed -> active -> implemented | failed
    survives: bool = False
    benefit: dict = field(default_factory=dict)  # party key -> NOK

    @cached_property
    def municipalities(self) -> list:
        """Municipal parties: the lead if it is a municipality, then the partners (fixed once
        the proposal is made)."""
        lead = [self.lead] if self.lead.kind == "municipality" else []
        return lead + list(self.partners)

    @property
    def end_year(self) -> int:
        return self.year + self.duration - 1

    def parties(self, trust) -> list:
        """All parties, the trust included when it takes part."""
        ms = self.municipalities
        return ([trust] + ms) if self.trust_party else ms
