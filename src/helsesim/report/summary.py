"""summary.md of a job folder (it opens with the decision brief), and the report's files: the
figures, the per-community and dose–response tables and summary.md.
"""

from __future__ import annotations

import gc
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from helsesim import brief
from helsesim.brief import SEED_NOISE_NOTE
from helsesim.outcomes import outcome_info
from helsesim.report import communities, context, dose
from helsesim.report.figures import captions, draw_figures
from helsesim.runner import results

__all__ = ["SEED_NOISE_NOTE", "make_report", "render_summary"]


# --- numbers and tables ------------------------------------------------------------------------

def _num(x: float, signed: bool = False) -> str:
    if x is None or not np.isfinite(x):
        return "–"
    if abs(x) < 1e-9:  # rounding noise of a zero (e.g. a Gini of equal values)
        x = 0.0
    if abs(x) >= 1000:
        s = f"{x:,.0f}"
    elif x == 0:
        s = "0"
    else:
        s = f"{x:.3g}"
    return ("+" + s) if signed and x > 0 else s


def _cell(r: pd.Series, scale: float, signed: bool = False) -> str:
    if not r["n" if "n" in r else "n_pairs"]:
        return "–"
    return (f"{_num(r['median'] * scale, signed)} "
            f"[{_num(r['q05'] * scale, signed)}, {_num(r['q95'] * scale, signed)}]")


def _table(header: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * len(header)) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def command_text(cmd: str | list[str]) -> str:
    """A recorded command line as one would type it (the console script without its path)."""
    if isinstance(cmd, str):
        return cmd
    cmd = list(cmd)
    if cmd and Path(cmd[0]).name in ("helsesim", "helsesim-report"):
        cmd[0] = Path(cmd[0]).name
    return " ".join(cmd)


def _label(key: str) -> str:
    i = outcome_info(key)
    return f"{i.label} [{i.display_unit}]" if i.display_unit else i.label


# --- sections ------------------------------------------------------------------------------------

def _briefs(tables: Mapping[str, pd.DataFrame], ctx: context.Context) -> list[str]:
    """The decision brief: against the baseline, or per design against its baseline level."""
    base = {"runs": ctx.runs, "years": ctx.money_years}
    if ctx.line_baselines is None:
        return [brief.brief_markdown({**base, "summary": tables["summary"],
                                      "differences": tables["differences"]},
                                     baseline=ctx.info["baseline"], outcomes=ctx.outcomes,
                                     worlds=ctx.worlds)]
    lever, out = ctx.lever, ["## Decision brief", "",
                             f"Each design against itself at its baseline level of "
                             f"`{ctx.lever.path}`, one brief per design.", ""]
    for line, base_arm in ctx.line_baselines.items():
        arms = lever.arms_of(line)
        summ = tables["summary"]
        out.append(brief.brief_markdown(
            {"runs": ctx.runs[ctx.runs["arm"].isin(arms)], "years": ctx.money_years,
             "summary": summ[summ["arm"].isin(arms)],
             "differences": ctx.dose[ctx.dose["line"] == line]},
            baseline=base_arm, outcomes=ctx.outcomes,
            heading=f"### `{line}`: each level of {lever.name} against `{base_arm}`"))
    return out


def _about(info: dict, manifest: dict, runs: pd.DataFrame, ctx: context.Context) -> list[str]:
    n_ok = int((runs["status"] == "ok").sum()) if "status" in runs else len(runs)
    git, ver = manifest.get("git") or {}, manifest.get("versions") or {}
    base = (f"each design's own level: {', '.join(f'`{a}`' for a in ctx.line_baselines.values())}"
            if ctx.line_baselines else f"`{info['baseline']}`")
    lines = ["## About this run", "",
             f"- Scenario: `{info.get('scenario')}`, {ctx.scenario_long}; {info.get('years')} "
             f"years; {info.get('n_seeds')} paired seeds per arm (replicate i uses the same "
             f"seed in every arm); {n_ok} of {len(runs)} runs finished.",
             f"- Arms: {', '.join(f'`{a}`' for a in info['arms'])}; baseline: {base}."]
    if manifest.get("command"):
        lines.append(f"- Command: `{command_text(manifest['command'])}`")
    dirty = ", with local changes" if git.get("dirty") else ""
    lines += [f"- Produced {manifest.get('created', '?')} by helsesim {ver.get('helsesim')} "
              f"(git {str(git.get('commit'))[:10]}{dirty}), Python {ver.get('python')}, "
              f"Mesa {ver.get('mesa')}. Inputs of every run: `runs.parquet`; full "
              "configuration: `manifest.json`.", ""]
    return lines


def _outcomes(summ: pd.DataFrame, info: dict) -> list[str]:
    rows = []
    for o in info["outcomes"]:
        s = summ[summ["outcome"] == o].set_index("arm")
        sc = outcome_info(o).scale
        rows.append([_label(o)] + [_cell(s.loc[a], sc) if a in s.index else "–"
                                   for a in info["arms"]])
    return ["## Outcomes by arm", "",
            "Median and 90 % interval [5th, 95th percentile] over seeds, at the end of the run.",
            "", _table(["Outcome [unit]", *[f"`{a}`" for a in info["arms"]]], rows), ""]


def _differences(diffs: pd.DataFrame, info: dict) -> list[str]:
    baseline = info["baseline"]
    others = [a for a in info["arms"] if a != baseline]
    if not others or not len(diffs):
        return []
    rows = []
    for o in info["outcomes"]:
        d = diffs[diffs["outcome"] == o].set_index("arm")
        sc = outcome_info(o).scale
        row = [_label(o)]
        for a in others:
            if a not in d.index or not d.loc[a, "n_pairs"]:
                row.append("–")
                continue
            r = d.loc[a]
            row.append(f"{_cell(r, sc, signed=True)} ↑{r['share_higher']:.0%} "
                       f"↓{r['share_lower']:.0%}")
        rows.append(row)
    return [f"## Paired differences against `{baseline}`", "",
            f"Arm minus `{baseline}` for the same seed: median [5th, 95th percentile] of the "
            "differences, and in how many seeds the arm is higher (↑) or lower (↓).", "",
            _table(["Outcome [unit]", *[f"`{a}`" for a in others]], rows), ""]


def _failed(runs: pd.DataFrame) -> list[str]:
    failed = runs[runs["status"] != "ok"] if "status" in runs else runs.iloc[:0]
    if not len(failed):
        return []
    return ["## Failed runs", "",
            f"{len(failed)} runs failed; their tracebacks are in the `error` column of "
            "`runs.parquet`.", "",
            _table(["run_id", "arm", "seed", "error"],
                   [[str(r.run_id), r.arm, str(r.seed), str(r.error).strip().splitlines()[-1][:120]]
                    for r in failed.itertuples()]), ""]


def per_design_command(path: str | None = None) -> str:
    """The command that writes each design's report against its own baseline level."""
    return f"helsesim-report {path or '<this folder>'} --baseline-per-design"


def render_summary(tables: Mapping[str, pd.DataFrame], info: dict, manifest: dict,
                   figures: list[str], ctx: context.Context | None = None) -> str:
    """summary.md: the decision brief, then what was run, medians and 90 % intervals per arm,
    paired differences, the dose–response of a lever, per community, failed runs, figures."""
    ctx = ctx or context.build(tables, info)
    runs = results.read_table(tables, "runs", context.RUN_COLUMNS)
    title = f"# {info['name']} in {ctx.scenario}: summary"
    if ctx.line_baselines:
        title = (f"# {info['name']} in {ctx.scenario}: each design against its own level of "
                 f"{ctx.lever.path}")
    n_arms = len(info["arms"])
    lines = [title, "", f"*{ctx.scenario_long[0].upper()}{ctx.scenario_long[1:]}; "
             f"{info.get('years')} years; {n_arms} arm{'s' if n_arms > 1 else ''}, "
             f"{info.get('n_seeds')} paired seeds each.*", ""]
    if info.get("description"):
        lines += [f"**Question.** {info['description']}", ""]
    lines += _briefs(tables, ctx)
    lines += _about(info, manifest, runs, ctx)
    lines += _outcomes(tables["summary"], info)
    if not ctx.line_baselines:
        lines += _differences(tables["differences"], info)
    if ctx.lever is not None and ctx.dose is not None:
        drawn = [f for f in ("dose_response", "dose_differences") if f in figures]
        lines += [dose.section(ctx.dose, ctx.lever, ctx.line_baselines or ctx.lever.baselines(),
                               ctx.outcomes, drawn, None if ctx.line_baselines or len(
                                   ctx.lever.lines) < 2 else per_design_command()), ""]
    if ctx.communities is not None:
        lines += [communities.section(ctx.communities, info["arms"], info["baseline"],
                                      "community_winners" if "community_winners" in figures
                                      else None), ""]
    lines += _failed(runs)
    if figures:
        text = captions(ctx)
        lines += ["## Figures", ""]
        for name in figures:
            lines += [f"- {text.get(name, name)}", f"  ![{name}](figures/{name}.png)"]
        lines.append("")
    return "\n".join(lines)


def make_report(out_dir: Path, tables: Mapping[str, pd.DataFrame], manifest: dict,
                figures: bool = True, per_design: bool | float = False) -> list[Path]:
    """Draw the figures into ``out_dir/figures``, write the per-community and dose–response
    tables (when there are any) and ``out_dir/summary.md``; returns the files written.

    ``per_design``: each design against its own baseline level of the lever (True: the lowest
    level; a number: that level).
    """
    out_dir = Path(out_dir)
    info = manifest["experiment"]
    job_dir = tables.job_dir if isinstance(tables, results.JobTables) else out_dir
    ctx = context.build(tables, info, job_dir, per_design=per_design)
    written = []
    for name, df in ((communities.TABLE, ctx.communities), (dose.TABLE, ctx.dose)):
        if df is not None:
            written += results.write_tables(out_dir, {name: df})
    names = []
    if figures:
        for name, fig in draw_figures(tables, ctx, per_design=bool(ctx.line_baselines)):
            path = out_dir / "figures" / f"{name}.png"
            with results.atomic_path(path) as tmp:
                fig.savefig(tmp, format="png", dpi=110)
            fig.clear()  # drawn and saved: free its artists before the next is drawn
            del fig
            gc.collect(1)  # the young cycles; a full collection of a big heap costs ~0.1 s
            results.release_memory()
            written.append(path)
            names.append(name)
    md = out_dir / "summary.md"
    results.write_text(md, render_summary(tables, info, manifest, names, ctx))
    written.append(md)
    return written
