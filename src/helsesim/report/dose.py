"""Numeric levers as dose–response: when the arms of a job or a gathered sweep differ in a
numeric input (``levers.compensation=0,0.25,0.5,0.75,1``, a doubled ``national_budget``), the
outcome is drawn against the lever's value, one line per design, and each arm is compared with
its own design's baseline level in the same seed.

The lever is found in the runs table, not in the arms' names: an input column (``levers__...``,
``scenario__...``) that is the same in every run of an arm and differs between arms. Every other
input that differs between arms (the design, a second lever) names a *line*.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from helsesim import config
from helsesim.brief import WIN_SHARE, change, pct
from helsesim.outcomes import outcome_info
from helsesim.report.plots import PCT, arm_colors, axis_label, finish, grid, wrap
from helsesim.runner import results

#: Columns of the runs table that are not inputs (run keys and outcomes have no ``__``).
INPUT_MARK = "__"
#: Fewest levels of a lever for a dose–response curve (two are a comparison, not a curve).
MIN_LEVELS = 3
#: File name of the paired differences against each line's own baseline level.
TABLE = "dose_differences"


@dataclass(frozen=True)
class Lever:
    """A numeric input that varies between arms, and how the arms fall into lines."""

    column: str
    level: Mapping[str, float]  # arm -> the lever's value
    line: Mapping[str, str]  # arm -> its line (the design, and other inputs that vary)

    @property
    def path(self) -> str:
        return self.column.replace(INPUT_MARK, ".")

    @property
    def name(self) -> str:
        return self.path.rsplit(".", 1)[-1]

    @property
    def lines(self) -> list[str]:
        return list(dict.fromkeys(self.line.values()))

    @property
    def n_levels(self) -> int:
        return len(set(self.level.values()))

    def arms_of(self, line: str) -> list[str]:
        """The arms of a line, by level."""
        return sorted((a for a, ln in self.line.items() if ln == line), key=self.level.get)

    def baselines(self, value: float | None = None) -> dict[str, str]:
        """Each line's baseline arm: the one at ``value`` (default: the line's lowest level).

        Raises:
            ValueError: a line has no arm at ``value``.
        """
        out = {}
        for line in self.lines:
            arms = self.arms_of(line)
            if value is None:
                out[line] = arms[0]
                continue
            match = [a for a in arms if np.isclose(self.level[a], value)]
            if not match:
                levels = ", ".join(_value(self.level[a]) for a in arms)
                raise ValueError(f"--baseline-per-design: {self.path}={_value(value)} is not a "
                                 f"level of {line}; allowed: {levels}")
            out[line] = match[0]
        return out

    def label(self) -> str:
        """The lever with its unit, for an axis."""
        unit = next((r["unit"] for r in config.parameter_table() if r["name"] == self.path), "")
        return f"{self.path} [{unit}]" if unit and unit != "-" else self.path


def _value(x: float) -> str:
    return f"{x:g}"


def input_columns(tables: Mapping[str, pd.DataFrame]) -> list[str]:
    """The input columns of the runs table (without reading the table from a job folder)."""
    if isinstance(tables, results.JobTables):
        names = pq.read_schema(tables.job_dir / "runs.parquet").names
    else:
        names = list(tables["runs"].columns)
    return [c for c in names if INPUT_MARK in c]


def find_lever(runs: pd.DataFrame, arms: list[str]) -> Lever | None:
    """The numeric input that varies between arms (with the most levels; the first of equals),
    or None. ``runs`` has ``arm`` and the input columns. None too unless every line has two
    levels or more, each once (arms that change several things at once, as the way_forward
    experiment's, are not a sweep)."""
    inputs = [c for c in runs.columns if INPUT_MARK in c]
    if len(arms) < 2 or not inputs:
        return None
    per_arm = runs.groupby("arm", sort=False)[inputs]
    constant = per_arm.nunique(dropna=False).le(1).all()
    first = per_arm.first().reindex(arms)
    varying = [c for c in inputs if constant[c] and first[c].nunique(dropna=False) > 1]
    numeric = [c for c in varying if pd.api.types.is_numeric_dtype(first[c])
               and not pd.api.types.is_bool_dtype(first[c])]
    if not numeric:
        return None
    column = max(numeric, key=lambda c: (first[c].nunique(), -numeric.index(c)))
    others = [c for c in varying if c != column]

    def line_of(arm: str) -> str:
        parts = []
        for c in others:
            v = first.loc[arm, c]
            text = _value(v) if isinstance(v, float) else str(v)
            parts.append(text if c == "allocation__design" else
                         f"{c.rsplit(INPUT_MARK, 1)[-1]}={text}")
        return ", ".join(parts) or str(first.loc[arm].get("allocation__design", "all"))

    lever = Lever(column, {a: float(first.loc[a, column]) for a in arms},
                  {a: line_of(a) for a in arms})
    for line in lever.lines:  # a sweep: every line at two levels or more, each level once
        levels = [lever.level[a] for a in lever.arms_of(line)]
        if len(levels) < 2 or len(set(levels)) != len(levels):
            return None
    return lever


def line_differences(runs: pd.DataFrame, outcomes: list[str], lever: Lever,
                     baselines: Mapping[str, str]) -> pd.DataFrame:
    """Paired differences of each arm against its line's baseline arm (the differences table's
    columns, with ``line`` and ``level`` added)."""
    frames = []
    for line in lever.lines:
        arms = lever.arms_of(line)
        base = baselines[line]
        d = results.paired_differences(runs, outcomes, [base, *[a for a in arms if a != base]],
                                       base)
        frames.append(d.assign(line=line, level=d["arm"].map(lever.level)))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


# --- figures ------------------------------------------------------------------------------------

def _line_colors(lever: Lever) -> dict[str, str]:
    return arm_colors(lever.lines)


def plot_dose_response(summary: pd.DataFrame, lever: Lever, outcomes: list[str],
                       title: str = "", note: str = "") -> Figure:
    """One panel per outcome: the median over seeds against the lever's value, with a band of
    the 5th-95th percentile, one line per design."""
    colors = _line_colors(lever)
    s = summary[summary["arm"].isin(lever.level)].assign(
        level=lambda df: df["arm"].map(lever.level), line=lambda df: df["arm"].map(lever.line))
    outcomes = [o for o in outcomes if o in set(s["outcome"])]
    fig, axs = grid(len(outcomes), ncols=3, panel=(4.4, 3.3), extra_h=1.1, extra_w=2.2)
    for ax, key in zip(axs, outcomes, strict=True):
        info = outcome_info(key)
        for line in lever.lines:
            r = s[(s["outcome"] == key) & (s["line"] == line)].sort_values("level")
            x = r["level"].to_numpy(float)
            ax.fill_between(x, r["q05"] * info.scale, r["q95"] * info.scale,
                            color=colors[line], alpha=0.15, linewidth=0)
            ax.plot(x, r["median"] * info.scale, "o-", color=colors[line], lw=2, ms=4)
        ax.set_title(wrap(info.label, 48), fontsize=10)
        ax.set_xlabel(lever.label(), fontsize=9)
        ax.set_ylabel(wrap(axis_label(key), 30), fontsize=9)
        ax.xaxis.set_major_locator(MaxNLocator(6))
        ax.grid(alpha=0.3)
    handles = [Line2D([], [], color=colors[ln], lw=2, marker="o", label=ln)
               for ln in lever.lines]
    fig.legend(handles=handles, loc="outside right upper", title="Design", fontsize=9)
    note = (note + " " if note else "") + (
        f"Dots and line: median over seeds at each value of {lever.path}; band: {PCT}.")
    return finish(fig, title or f"Dose–response: {lever.path}", note)


def plot_dose_differences(diffs: pd.DataFrame, lever: Lever, baselines: Mapping[str, str],
                          outcomes: list[str], title: str = "", note: str = "") -> Figure:
    """One panel per outcome: each level minus its design's baseline level in the same seed
    (median and 5th-95th percentile band), one line per design; the baseline level is 0."""
    colors = _line_colors(lever)
    outcomes = [o for o in outcomes if o in set(diffs["outcome"])]
    fig, axs = grid(len(outcomes), ncols=3, panel=(4.4, 3.3), extra_h=1.1, extra_w=2.2)
    for ax, key in zip(axs, outcomes, strict=True):
        info = outcome_info(key)
        for line in lever.lines:
            base = baselines[line]
            r = diffs[(diffs["outcome"] == key) & (diffs["line"] == line)]
            zero = pd.DataFrame([dict(level=lever.level[base], median=0.0, q05=0.0, q95=0.0)])
            r = pd.concat([r[["level", "median", "q05", "q95"]], zero]).astype(float)
            r = r.sort_values("level")
            x = r["level"].to_numpy(float)
            ax.fill_between(x, r["q05"] * info.scale, r["q95"] * info.scale,
                            color=colors[line], alpha=0.15, linewidth=0)
            ax.plot(x, r["median"] * info.scale, "o-", color=colors[line], lw=2, ms=4)
        ax.axhline(0, color="black", lw=0.9, ls="--")
        ax.set_title(wrap(info.label, 48), fontsize=10)
        ax.set_xlabel(lever.label(), fontsize=9)
        ax.set_ylabel(wrap(axis_label(key, prefix="difference, "), 30), fontsize=9)
        ax.xaxis.set_major_locator(MaxNLocator(6))
        ax.grid(alpha=0.3)
    bases = {_value(lever.level[baselines[ln]]) for ln in lever.lines}
    same = len(bases) == 1
    handles = [Line2D([], [], color=colors[ln], lw=2, marker="o", label=ln if same else
                      f"{ln} (against {lever.name}={_value(lever.level[baselines[ln]])})")
               for ln in lever.lines]
    fig.legend(handles=handles, loc="outside right upper", fontsize=9,
               title=wrap(f"Design, against itself at {lever.name}={bases.pop()}", 22) if same
               else "Design")
    note = (note + " " if note else "") + (
        f"Each value of {lever.path} minus the same design at its baseline value, in the same "
        f"seed. Dots and line: median of the differences; band: {PCT}; dashed: no change.")
    return finish(fig, title or f"Effect of {lever.path} within each design", note)


# --- summary.md --------------------------------------------------------------------------------

def _cell(r: pd.Series) -> str:
    info = outcome_info(str(r["outcome"]))
    n = int(r["n_pairs"])
    if not n:
        return "–"
    higher, lower = float(r["share_higher"]), float(r["share_lower"])
    better = lower if info.better == "lower" else higher
    worse = higher if info.better == "lower" else lower
    k = round(better * n) if info.better in ("lower", "higher") else round(higher * n)
    mark = (" ✓" if better >= WIN_SHARE and info.better != "neither" else
            " ✗" if worse >= WIN_SHARE and info.better != "neither" else "")
    what = "better" if info.better in ("lower", "higher") else "higher"
    return (f"{change(float(r['median']), info)} [{change(float(r['q05']), info, False)}, "
            f"{change(float(r['q95']), info, False)}], {what} in {k} of {n}{mark}")


def null_levels(diffs: pd.DataFrame, lever: Lever) -> list[str]:
    """``line: lever=value`` of the levels that change no outcome in any paired seed."""
    out = []
    for (line, arm), d in diffs[diffs["n_pairs"] > 0].groupby(["line", "arm"], sort=False):
        if ((d["share_higher"] == 0) & (d["share_lower"] == 0)).all():
            out.append(f"`{line}`: {lever.name}={_value(lever.level[str(arm)])}")
    return out


def section(diffs: pd.DataFrame, lever: Lever, baselines: Mapping[str, str],
            outcomes: list[str], figures: list[str], command: str | None = None) -> str:
    """The dose–response section of summary.md: each level against its design's baseline level,
    per outcome and design."""
    levels = sorted(set(lever.level.values()))
    base_levels = {_value(lever.level[a]) for a in baselines.values()}
    out = [f"## Dose–response: `{lever.path}`", "",
           f"The arms differ in `{lever.path}` ({', '.join(_value(v) for v in levels)}). Each "
           f"cell: that value minus the same design at `{lever.name}="
           f"{'/'.join(sorted(base_levels))}` (its baseline level) in the same seed: median "
           f"[5th, 95th percentile] of the differences and in how many seeds it is better (✓: "
           f"in at least {pct(WIN_SHARE)}; ✗: worse in as many). Table: `{TABLE}.parquet`."]
    if figures:
        out[-1] += " Figures: " + ", ".join(f"`figures/{f}.png`" for f in figures) + "."
    if command:
        out[-1] += (f" The full report with each design against its own baseline level: "
                    f"`{command}`.")
    out.append("")
    nulls = null_levels(diffs, lever)
    if nulls:
        out += [f"⚠ Levels that change nothing (every outcome equal to the design's baseline "
                f"level in every seed): {'; '.join(nulls)}.", ""]
    header = ["Outcome", "Design", *[f"{lever.name}={_value(v)}" for v in levels]]
    rows = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for o in outcomes:
        info = outcome_info(o)
        for line in lever.lines:
            d = diffs[(diffs["outcome"] == o) & (diffs["line"] == line)].set_index("level")
            if d.empty:
                continue
            cells = []
            for v in levels:
                arm = next((a for a in lever.arms_of(line) if lever.level[a] == v), None)
                cells.append("baseline" if arm == baselines[line] else
                             _cell(d.loc[v]) if v in d.index else "–")
            rows.append("| " + " | ".join([info.label, f"`{line}`", *cells]) + " |")
    out += [*rows, ""]
    return "\n".join(out)
