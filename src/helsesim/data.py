"""The real 2024 data shipped with helsesim, and the scenarios built from it.

Population: Statistics Norway (NLOD). Boundaries: Kartverket (CC BY 4.0). Catchment areas: SKDE.
See ``data/norway/SOURCES.md``.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import resources

import numpy as np
import pandas as pd

ATTRIBUTION = ("Population: Statistics Norway (NLOD). Boundaries: Kartverket (CC BY 4.0). "
               "Catchment areas: SKDE.")
MUNICIPALITY_COLUMNS = ["municipality_id", "name", "county_id", "population_2024", "area_km2",
                        "lon", "lat", "health_community", "health_trust",
                        "regional_health_authority"]
N_MUNICIPALITIES = 357
N_COMMUNITIES = 19


class DataError(ValueError):
    """The shipped data tables are missing, corrupt or edited."""


def community_key(name: str) -> str:
    """Lower-case ASCII key of a health community: 'Møre og Romsdal' -> 'more_og_romsdal'."""
    table = str.maketrans({"ø": "o", "Ø": "o", "æ": "ae", "Æ": "ae", "å": "a", "Å": "a"})
    s = unicodedata.normalize("NFKD", name.translate(table)).encode("ascii", "ignore").decode()
    out = "".join(c if c.isalnum() else "_" for c in s.lower())
    return "_".join(part for part in out.split("_") if part)


def _read(name: str, **kw: object) -> pd.DataFrame:
    path = resources.files("helsesim") / "data" / "norway" / name
    try:
        with resources.as_file(path) as p:
            return pd.read_csv(p, **kw)
    except FileNotFoundError as e:
        raise DataError(f"data file {name} is missing from the helsesim package") from e
    except (pd.errors.ParserError, UnicodeDecodeError) as e:
        raise DataError(f"data file {name} cannot be read: {e}") from e


@lru_cache(maxsize=1)
def municipalities() -> pd.DataFrame:
    """All 357 municipalities (2024 structure) with population, position and community."""
    df = _read("municipalities.csv", dtype={"municipality_id": str, "county_id": str})
    check_municipalities(df)
    df["community"] = df["health_community"].map(community_key)
    return df


@lru_cache(maxsize=1)
def neighbours() -> pd.DataFrame:
    """Pairs of municipalities that share a land border (736)."""
    df = _read("neighbours.csv", dtype=str)
    if list(df.columns) != ["municipality_a", "municipality_b"]:
        raise DataError(f"neighbours.csv: columns {list(df.columns)}; expected "
                        "municipality_a, municipality_b")
    known = set(municipalities()["municipality_id"])
    unknown = sorted((set(df.municipality_a) | set(df.municipality_b)) - known)
    if unknown:
        raise DataError(f"neighbours.csv names unknown municipalities: {unknown[:5]}")
    return df


def check_municipalities(df: pd.DataFrame) -> None:
    """Raise DataError if the municipality table is not the one shipped (corrupt or edited)."""
    missing = [c for c in MUNICIPALITY_COLUMNS if c not in df.columns]
    if missing:
        raise DataError(f"municipalities.csv: missing columns {missing}")
    if df[MUNICIPALITY_COLUMNS].isna().any().any():
        bad = df.columns[df.isna().any()].tolist()
        raise DataError(f"municipalities.csv: empty values in {bad}")
    pop = pd.to_numeric(df["population_2024"], errors="coerce")
    if pop.isna().any() or (pop <= 0).any():
        raise DataError("municipalities.csv: population_2024 must be a positive number in "
                        "every row")
    if df["municipality_id"].duplicated().any():
        raise DataError("municipalities.csv: duplicate municipality_id")
    for col, lo, hi in (("lon", -10.0, 40.0), ("lat", 55.0, 75.0)):
        v = pd.to_numeric(df[col], errors="coerce")
        if v.isna().any() or (v < lo).any() or (v > hi).any():
            raise DataError(f"municipalities.csv: {col} must lie in [{lo}, {hi}] (Norway)")


def community_names() -> list[str]:
    """Keys of the 19 health communities, sorted."""
    return sorted(municipalities()["community"].unique())


def scenario_names() -> list[str]:
    """Every allowed scenario name."""
    return ["nordland", "norway", "synthetic"] + [c for c in community_names() if c != "nordland"]


def scenario_title(name: str, long: bool = False) -> str:
    """How a scenario is named in titles and captions: ``Helgeland``, ``Norway`` and ``a synthetic
    community``; ``long`` adds what it holds (the trust and its municipalities, all 19
    communities)."""
    if name == "synthetic":
        return "a synthetic community" if not long else (
            "a synthetic health community (random sizes and positions)")
    m = municipalities()
    if name == "norway":
        return "Norway" if not long else (
            f"Norway (all {m['community'].nunique()} health communities, {len(m)} "
            "municipalities)")
    rows = m[m["community"] == name]
    if rows.empty:
        return name
    title = str(rows["health_community"].iloc[0])
    return title if not long else (f"the {title} health community ({rows['health_trust'].iloc[0]}"
                                   f" and its {len(rows)} municipalities)")


@dataclass
class Community:
    """One health community as input to the model: its municipalities and its trust."""

    key: str
    name: str
    trust_name: str
    municipalities: pd.DataFrame  # municipality_id, name, population, x_km, y_km, lon, lat

    @cached_property
    def rows(self) -> list:
        """The municipalities as plain named tuples (cheap to iterate in every run)."""
        return list(self.municipalities.itertuples(index=False, name="MunicipalityRow"))

    @cached_property
    def hospital_km(self) -> np.ndarray:
        """Distance of each municipality to the largest one, where the hospital lies (km)."""
        xy = self.municipalities[["x_km", "y_km"]].to_numpy(float)
        hub = xy[int(np.argmax(self.municipalities["population"].to_numpy()))]
        return np.hypot(*(xy - hub).T)


#: A scenario's communities and the land-border pairs among their municipalities (``None`` in
#: ``synthetic``, whose neighbours come from a seeded spatial graph).
Scenario = tuple[list[Community], list[tuple[str, str]] | None]


def _project_km(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Equirectangular projection to km (good enough for distances within Norway)."""
    lat0 = np.deg2rad(65.0)
    return lon * 111.32 * np.cos(lat0), lat * 110.57


def load_scenario(name: str, n_municipalities: int = 20, size_median: float = 5322.0,
                  size_sigma: float = 1.45, area_km: float = 300.0,
                  rng: np.random.Generator | None = None) -> Scenario:
    """Communities and land-neighbour pairs for a scenario.

    Returns (communities, neighbour_pairs). ``synthetic`` needs ``rng`` and draws populations
    from a lognormal and positions uniformly; its neighbours come from a seeded spatial graph.
    """
    if name == "synthetic":
        if rng is None:
            raise ValueError("the synthetic scenario needs a random generator")
        n = int(n_municipalities)
        pop = np.maximum(100, np.round(size_median * np.exp(size_sigma * rng.standard_normal(n))))
        x, y = rng.uniform(0, area_km, n), rng.uniform(0, area_km, n)
        ids = [f"S{i:05d}" for i in range(n)]
        df = pd.DataFrame(dict(municipality_id=ids, name=[f"Synthetic {i}" for i in range(n)],
                               population=pop.astype(int), x_km=x, y_km=y,
                               lon=x / 111.32 / np.cos(np.deg2rad(65.0)), lat=y / 110.57))
        return [Community("synthetic", "Synthetic", "Synthetic HF", df)], None
    return _real_scenario(name)


@lru_cache(maxsize=32)
def _real_scenario(name: str) -> Scenario:
    """Communities and land pairs of a real-data scenario (deterministic, so cached)."""
    all_m = municipalities()
    if name == "norway":
        keys = community_names()
    elif name in community_names():
        keys = [name]
    else:
        raise KeyError(name)
    comms = []
    for key in keys:
        rows = all_m[all_m["community"] == key]
        if rows.empty:
            raise DataError(f"health community {key!r} has no municipalities")
        x, y = _project_km(rows["lon"].to_numpy(float), rows["lat"].to_numpy(float))
        df = pd.DataFrame(dict(municipality_id=rows["municipality_id"].to_numpy(),
                               name=rows["name"].to_numpy(),
                               population=rows["population_2024"].to_numpy(int),
                               x_km=x, y_km=y, lon=rows["lon"].to_numpy(float),
                               lat=rows["lat"].to_numpy(float)))
        comms.append(Community(key, rows["health_community"].iloc[0],
                               rows["health_trust"].iloc[0], df.reset_index(drop=True)))
    ids = set(pd.concat([c.municipalities for c in comms])["municipality_id"])
    nb = neighbours()
    nb = nb[nb.municipality_a.isin(ids) & nb.municipality_b.isin(ids)]
    return comms, list(zip(nb.municipality_a, nb.municipality_b, strict=True))


# --- the shipped data, as shipped (checked before any run of an experiment) -----------------

#: The shipped municipalities.csv per health community: (municipalities, inhabitants 2024).
#: An edit of the data file that changes these is reported; if an edit is intended, update them.
SHIPPED_COMMUNITIES = {
    "ahus": (21, 504914), "bergen": (16, 469307), "finnmark": (18, 75053),
    "fonna": (17, 184233), "forde": (18, 109424), "helgeland": (18, 77885),
    "innlandet": (42, 343927), "more_og_romsdal": (27, 270624),
    "nord_trondelag": (19, 136338), "nordland": (20, 140226), "oslo": (1, 717710),
    "ostfold": (13, 331645), "sorlandet": (25, 319850), "st_olavs": (19, 346618),
    "stavanger": (15, 387752), "telemark": (17, 177093), "unn": (24, 194580),
    "vestfold": (6, 256432), "vestre_viken": (21, 506592),
}
SHIPPED_NEIGHBOURS = 736
DATA_FILES = ("municipalities.csv", "neighbours.csv")


def check_data() -> None:
    """Raise DataError (one line) if the shipped data cannot be read or were edited."""
    m = municipalities()  # readable, columns, values (check_municipalities)
    got = m.groupby("community")["population_2024"].agg(["size", "sum"])
    for key, (n, people) in SHIPPED_COMMUNITIES.items():
        if key not in got.index:
            raise DataError(f"municipalities.csv: health community {key!r} has no "
                            f"municipalities (the shipped file has {n}); the file was edited "
                            "or truncated")
        gn, gp = int(got.loc[key, "size"]), int(got.loc[key, "sum"])
        if (gn, gp) != (n, people):
            raise DataError(f"municipalities.csv: health community {key!r} has {gn} "
                            f"municipalities and {gp:,} inhabitants; the shipped file has {n} "
                            f"and {people:,} (edited? if on purpose, update "
                            "helsesim.data.SHIPPED_COMMUNITIES)")
    extra = sorted(set(got.index) - set(SHIPPED_COMMUNITIES))
    if extra:
        raise DataError(f"municipalities.csv: unknown health communities {extra}")
    n_nb = len(neighbours())  # columns, known municipalities
    if n_nb != SHIPPED_NEIGHBOURS:
        raise DataError(f"neighbours.csv: {n_nb} pairs of neighbours; the shipped file has "
                        f"{SHIPPED_NEIGHBOURS}")


def data_checksums() -> dict[str, str]:
    """SHA-256 of each shipped data file (recorded in the manifest and the job's identity)."""
    out = {}
    for name in DATA_FILES:
        path = resources.files("helsesim") / "data" / "norway" / name
        out[name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out
