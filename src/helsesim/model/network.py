"""The collaboration network: municipalities and trusts as nodes, tie strengths on edges.

:func:`build_network` makes the graph (pure functions over networkx; the one random choice takes
a seed drawn from the model's generator). :class:`CollaborationNetwork` owns it during a run:
who is tied to whom (the partner candidates of a lead, the trust's ties), how practice spreads
along ties, and how joint work strengthens ties and adds new ones, with the caches that keep
these cheap.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING

import networkx as nx
import numpy as np

from helsesim.data import Community

if TYPE_CHECKING:
    from helsesim.config import NetworkParams
    from helsesim.model.agents import Employer, HealthTrust, Municipality
    from helsesim.model.board import CollaborativeBoard
    from helsesim.model.levers import Levers
    from helsesim.model.projects import Project

#: Floor of a tie's weight when a lead picks partners.
TIE_FLOOR = 1e-3


def trust_node(community_key: str) -> str:
    """Node id of a community's health trust."""
    return f"HF:{community_key}"


def build_network(communities: list[Community], land_pairs: list[tuple[str, str]] | None,
                  params: NetworkParams, seed: int) -> nx.Graph:
    """Graph of ties: land neighbours (or a seeded spatial graph), islands joined by distance,
    and trust-municipality ties. Edge attribute ``tie`` is the strength in [0, 1]; ``kind`` is
    ``neighbour``, ``distance`` or ``trust``.

    With real data the graph depends only on the data and three parameters, so it is built once
    per process and each run gets its own copy (attributes included).
    """
    if land_pairs is not None:
        key = (tuple(c.key for c in communities), params.tie_neighbour, params.tie_trust,
               params.island_links)
        return _real_network(key, tuple(communities), tuple(land_pairs), params).copy()
    return _build(communities, None, params, seed)


_REAL: dict[tuple, nx.Graph] = {}


def _real_network(key: tuple, communities: tuple[Community, ...],
                  land_pairs: tuple[tuple[str, str], ...], params: NetworkParams) -> nx.Graph:
    if key not in _REAL:
        if len(_REAL) >= 8:  # bounded: a few scenarios and parameter values per process
            _REAL.pop(next(iter(_REAL)))
        _REAL[key] = _build(list(communities), list(land_pairs), params, seed=0)
    return _REAL[key]


def _build(communities: list[Community], land_pairs: list[tuple[str, str]] | None,
           params: NetworkParams, seed: int) -> nx.Graph:
    g = nx.Graph()
    for k, comm in enumerate(communities):
        df = comm.municipalities
        ids = df["municipality_id"].tolist()
        xy = df[["x_km", "y_km"]].to_numpy(float)
        for i, mid in enumerate(ids):
            g.add_node(mid, kind="municipality", community=comm.key, x=xy[i, 0], y=xy[i, 1])
        if land_pairs is None:  # synthetic: a seeded random geometric graph, mean degree ~4
            span = max(np.ptp(xy[:, 0]), np.ptp(xy[:, 1]), 1.0)
            radius = np.sqrt(4.0 / (np.pi * max(len(ids), 1)))
            pos = {i: tuple((xy[i] - xy.min(axis=0)) / span) for i in range(len(ids))}
            geo = nx.random_geometric_graph(len(ids), radius, pos=pos, seed=seed + k)
            g.add_edges_from(((ids[a], ids[b]) for a, b in geo.edges()), kind="neighbour",
                             tie=params.tie_neighbour)
            _join_isolated(g, ids, xy, params)
        t = trust_node(comm.key)
        g.add_node(t, kind="trust", community=comm.key)
        g.add_edges_from(((t, mid) for mid in ids), kind="trust", tie=params.tie_trust)
    if land_pairs is not None:
        g.add_edges_from(land_pairs, kind="neighbour", tie=params.tie_neighbour)
        for comm in communities:
            df = comm.municipalities
            _join_isolated(g, df["municipality_id"].tolist(),
                           df[["x_km", "y_km"]].to_numpy(float), params)
    return g


def _join_isolated(g: nx.Graph, ids: list[str], xy: np.ndarray, params: NetworkParams
                   ) -> None:
    """Join municipalities without a neighbour (islands) to their nearest ones."""
    k = params.island_links
    if k == 0 or len(ids) < 2:
        return
    for i, mid in enumerate(ids):
        if any(g.nodes[n]["kind"] == "municipality" for n in g.neighbors(mid)):
            continue
        d = np.hypot(*(xy - xy[i]).T)
        d[i] = np.inf
        for j in np.argsort(d, kind="stable")[:k]:
            g.add_edge(mid, ids[j], kind="distance", tie=params.tie_neighbour)


def regional_groups(g: nx.Graph, ids: list[str], n_regions: int) -> list[list[str]]:
    """Split a community's municipalities into regional groups: greedy modularity on the
    initial ties between them (deterministic; cached, since the same data give the same
    groups)."""
    if len(ids) <= n_regions:
        return [[i] for i in ids]
    members = set(ids)  # the ties between members (what g.subgraph(ids).edges() gives, cheaper)
    edges = tuple(sorted({(u, v) if u <= v else (v, u) for u in ids for v in g[u]
                          if v in members}))
    return [list(c) for c in _modularity_groups(n_regions, tuple(ids), edges)]


@lru_cache(maxsize=64)
def _modularity_groups(n_regions: int, ids: tuple, edges: tuple) -> tuple:
    sub = nx.Graph()
    sub.add_nodes_from(ids)
    sub.add_edges_from(edges)
    groups = nx.community.greedy_modularity_communities(sub, cutoff=n_regions,
                                                        best_n=n_regions)
    return tuple(tuple(sorted(c)) for c in groups)


class CollaborationNetwork:
    """The graph of ties during a run, and the processes that use or change it.

    ``edges`` lists every edge with its attribute dict (``tie``, ``kind``) in a fixed order: the
    graph's at the start, then the ties projects add, in the order they are added.
    """

    def __init__(self, graph: nx.Graph, params: NetworkParams, levers: Levers) -> None:
        self.graph = graph
        self.params = params
        self.levers = levers
        self.edges: list[tuple[str, str, dict]] = list(graph.edges(data=True))
        self._agents: dict[str, Employer] = {}
        self._municipal_ties: dict[Employer, tuple[list[Municipality], list[dict]]] = {}
        self._trust_ties: dict[HealthTrust, list[dict]] = {}
        self._edges_added: dict[str, int] = {}  # community -> edges projects added to it
        self._community_edges: dict[str, tuple[int, tuple]] = {}
        self._moved: dict[tuple[str, str], dict] = {}  # ties that joint work moved off base
        self._distance_weights: dict[tuple[str, str], float] = {}
        self._knowledge_edges: tuple[tuple, tuple] | None = None
        #: Each kind of tie decays towards its base.
        self.base = {"neighbour": params.tie_neighbour, "distance": params.tie_neighbour,
                     "trust": params.tie_trust, "project": 0.0}

    def place(self, agent: Employer) -> None:
        """Put an agent on its node."""
        self._agents[agent.node] = agent

    def agent_at(self, node: str) -> Employer | None:
        return self._agents.get(node)

    # -- who is tied to whom --------------------------------------------------------------------
    def municipal_ties(self, agent: Employer) -> tuple[list[Municipality], list[dict]]:
        """Municipalities of the agent's community tied to it, with the edges' attribute dicts,
        in the graph's order (built once; :meth:`update_ties` appends the ties projects add,
        as the graph does)."""
        ties = self._municipal_ties.get(agent)
        if ties is None:
            candidates, edges = [], []
            for node, edge in self.graph[agent.node].items():
                other = self._agents.get(node)
                if (other is not None and other.kind == "municipality"
                        and other.community == agent.community):
                    candidates.append(other)
                    edges.append(edge)
            ties = self._municipal_ties[agent] = (candidates, edges)
        return ties

    def partner_candidates(self, agent: Employer) -> tuple[list[Municipality], list[float]]:
        """The municipalities a lead may invite, with weights: tie strength (plus a floor)."""
        candidates, edges = self.municipal_ties(agent)
        return candidates, [e["tie"] + TIE_FLOOR for e in edges]

    def trust_ties(self, trust: HealthTrust) -> np.ndarray:
        """The strength of the trust's tie to each municipality it serves."""
        edges = self._trust_ties.get(trust)
        if edges is None:  # the edges' dicts are updated in place
            edges = self._trust_ties[trust] = [self.graph.edges[trust.node, m.node]
                                               for m in trust.municipalities]
        return np.array([e["tie"] for e in edges])

    def community_edges(self, board: CollaborativeBoard
                        ) -> tuple[np.ndarray, np.ndarray, list[dict], np.ndarray]:
        """Ties between a community's municipalities as index arrays into
        ``board.municipalities`` (cached until projects add a tie there): (i, j, edge dicts,
        distance weights)."""
        added = self._edges_added.get(board.community, 0)
        cached = self._community_edges.get(board.community)
        if cached is not None and cached[0] == added:
            return cached[1]
        municipalities = board.municipalities
        index = {m.node: n for n, m in enumerate(municipalities)}
        ii, jj, edges, weights = [], [], [], []
        for a, m in enumerate(municipalities):
            for node, edge in self.graph[m.node].items():
                b = index.get(node)
                if b is not None and b > a:
                    ii.append(a)
                    jj.append(b)
                    edges.append(edge)
                    weights.append(self._distance_weight(m, municipalities[b]))
        out = (np.array(ii, dtype=np.int64), np.array(jj, dtype=np.int64), edges,
               np.array(weights))
        self._community_edges[board.community] = (added, out)
        return out

    def _distance_weight(self, a: Municipality, b: Municipality) -> float:
        """How much a tie between two municipalities carries practice: exp(-distance / decay),
        computed once per pair (the community's ties are listed again whenever projects add
        one, and numpy on single numbers costs more than the lookup)."""
        key = (a.node, b.node)
        weight = self._distance_weights.get(key)
        if weight is None:
            d = np.hypot(a.x_km - b.x_km, a.y_km - b.y_km)
            weight = self._distance_weights[key] = np.exp(-d / self.params.distance_decay_km)
        return weight

    def knowledge_edges(self, boards: list[CollaborativeBoard]
                        ) -> tuple[np.ndarray, np.ndarray, list[dict], np.ndarray, np.ndarray]:
        """:meth:`community_edges` of every community laid end to end, as index arrays into
        the boards' municipalities in board order, and the first municipality of each board
        (kept until projects add a tie somewhere)."""
        key = tuple(self._edges_added.get(b.community, 0) for b in boards)
        if self._knowledge_edges is not None and self._knowledge_edges[0] == key:
            return self._knowledge_edges[1]
        parts = [self.community_edges(b) for b in boards]
        starts = np.cumsum([0] + [len(b.municipalities) for b in boards[:-1]])
        out = (np.concatenate([p[0] + s for p, s in zip(parts, starts, strict=True)]),
               np.concatenate([p[1] + s for p, s in zip(parts, starts, strict=True)]),
               [e for p in parts for e in p[2]], np.concatenate([p[3] for p in parts]), starts)
        self._knowledge_edges = (key, out)
        return out

    # -- processes ----------------------------------------------------------------------------
    def spread_knowledge(self, boards: Iterable[CollaborativeBoard]) -> None:
        """Practice spreads along ties, decaying with distance and taken up by absorptive
        capacity; a shared knowledge base (a lever) adds the community's best practice.

        Every community at once: ties join municipalities of one community only, so each
        municipality's sums over its ties add the same values in the same order as its
        community alone."""
        params = self.params
        boards = list(boards)
        municipalities = [m for b in boards for m in b.municipalities]
        n = len(municipalities)
        k = np.array([m.knowledge for m in municipalities])
        i, j, edges, distance_weight, starts = self.knowledge_edges(boards)
        w = np.array([e["tie"] for e in edges]) * distance_weight
        pull = (np.bincount(i, w * np.maximum(k[j] - k[i], 0), n)
                + np.bincount(j, w * np.maximum(k[i] - k[j], 0), n))
        weight_sum = np.bincount(i, w, n) + np.bincount(j, w, n)
        absorb = np.array([m.capacity / (1 + m.capacity) for m in municipalities])
        gain = params.spread_rate * absorb * pull / np.maximum(weight_sum, 1.0)
        best = np.repeat(np.maximum.reduceat(k, starts), np.diff(np.append(starts, n)))
        gain += self.levers.shared_knowledge(k, best, params.spread_rate)
        new = np.minimum(1.0, k * (1 - params.knowledge_decay) + gain)
        for m, v in zip(municipalities, new.tolist(), strict=True):
            m.knowledge = v

    def update_ties(self, projects: Iterable[Project], trusts: dict[str, HealthTrust]) -> None:
        """Joint work in this year's projects strengthens ties; otherwise they decay to their
        base.

        A project ties its lead to each other party, and the trust to each municipality (a
        star, not every pair: in a community-wide project the partners work through the lead).
        """
        params = self.params
        joint: dict[tuple[str, str], int] = {}
        for pr in projects:
            trust = trusts[pr.community]
            lead = pr.lead.node
            pairs = [(lead, a.node) for a in pr.parties(trust) if a is not pr.lead]
            if pr.trust_party:
                pairs += [(trust.node, m.node) for m in pr.municipalities]
            # each tie once per project (the lead-trust pair is in both stars); sorted, since
            # set order varies with PYTHONHASHSEED
            for key in sorted({(u, v) if u <= v else (v, u) for u, v in pairs if u != v}):
                joint[key] = joint.get(key, 0) + 1
        for u, v in joint:
            if not self.graph.has_edge(u, v):
                self._add_tie(u, v)
        # only ties that joint work ever moved off their base change: the others stay at base
        # (the graph's edge view is looked up only for a tie moved for the first time)
        moved = self._moved
        for key in joint:
            if key not in moved:
                moved[key] = self.graph.edges[key]
        for key, e in self._moved.items():
            w = e["tie"] - params.tie_decay * (e["tie"] - self.base[e["kind"]])
            n = joint.get(key, 0)
            if n:
                w += (1 - w) * (1 - (1 - params.tie_gain) ** n)
            e["tie"] = float(min(max(w, 0.0), 1.0))

    def _add_tie(self, u: str, v: str) -> None:
        """A new ``project`` tie (strength 0), also in the caches built from the graph."""
        self.graph.add_edge(u, v, kind="project", tie=0.0)
        edge = self.graph.edges[u, v]
        self.edges.append((u, v, edge))
        a, b = self._agents[u], self._agents[v]
        for x, y in ((a, b), (b, a)):
            self._edges_added[x.community] = self._edges_added.get(x.community, 0) + 1
            ties = self._municipal_ties.get(x)
            if ties is not None and y.kind == "municipality" and y.community == x.community:
                ties[0].append(y)
                ties[1].append(edge)
