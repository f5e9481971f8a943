"""The model: agents, the processes they take part in, and the allocation designs.

``from helsesim.model import HealthSystem`` gives the model. The package imports Mesa only when
:class:`HealthSystem` is asked for, so the allocation designs (:mod:`.allocation`) and the
project records can be used, e.g. to validate a configuration, without it.

Layout (one owner per process):

* :mod:`.health_system`: ``HealthSystem``, the yearly schedule over the processes;
* :mod:`.community`: building a health community (its agents and board) and its budget;
* :mod:`.agents`: municipalities, health trusts and the coordinator, and their decisions;
* :mod:`.board`: the strategic collaborative board: seats, influence, scoring, the call;
* :mod:`.allocation`: the allocation designs, registry ``DESIGNS``;
* :mod:`.levers`: the policy levers and the named hooks through which they act;
* :mod:`.workforce`: positions, staff and the labour market;
* :mod:`.network`: the collaboration network: ties, knowledge spread, tie dynamics;
* :mod:`.portfolio`: funded projects: money attribution, what it buys, running, implementing,
  and their yearly effects on the labour market;
* :mod:`.dose`: the dose response of project money (one function for every effect);
* :mod:`.projects`, :mod:`.draws`: the project record and the weighted random draws;
* :mod:`.records`: what is recorded each year, handed to :mod:`helsesim.outcomes`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from helsesim.model.health_system import HealthSystem


def __getattr__(name: str) -> type[HealthSystem]:
    if name == "HealthSystem":  # imports Mesa
        from helsesim.model.health_system import HealthSystem

        return HealthSystem
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["HealthSystem"]
