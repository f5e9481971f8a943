"""The collaboration network: municipalities and trusts as nodes, tie strengths on edges.

Pure functions over networkx; every random choice takes a seed drawn from the model's generator.
"""

from __future__ import annotations

from functools import lru_cache

import networkx as nx
import numpy as np

from helsesim.data import Community


def trust_node(community_key: str) -> str:
    """Node id of a community's health trust."""
    return f"HF:{community_key}"


def build_network(communities: list[Community], land_pairs, params, seed: int) -> nx.Graph:
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


_REAL: dict = {}


def _real_network(key, communities, land_pairs, params) -> nx.Graph:
    if key not in _REAL:
        if len(_REAL) >= 8:  # bounded: a few scenarios and parameter values per process
            _REAL.pop(next(iter(_REAL)))
        _REAL[key] = _build(list(communities), list(land_pairs), params, seed=0)
    return _REAL[key]


def _build(communities: list[Community], land_pairs, params, seed: int) -> nx.Graph:
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


def _join_isolated(g: nx.Graph, ids, xy, params) -> None:
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
    edges = tuple(sorted(tuple(sorted(e)) for e in g.subgraph(ids).edges()))
    return [list(c) for c in _modularity_groups(n_regions, tuple(ids), edges)]


@lru_cache(maxsize=64)
def _modularity_groups(n_regions: int, ids: tuple, edges: tuple) -> tuple:
    sub = nx.Graph()
    sub.add_nodes_from(ids)
    sub.add_edges_from(edges)
    groups = nx.community.greedy_modularity_communities(sub, cutoff=n_regions,
                                                        best_n=n_regions)
    return tuple(tuple(sorted(c)) for c in groups)
