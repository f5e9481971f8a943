"""The helsesim app (Solara): choose a health community, a design against a baseline design and
levers; run paired seeds in the background; read the decision brief, the two designs side by
side, the map, outcomes over time and their distributions; download the tables; play one run year
by year.

Every call into helsesim goes through :mod:`helsesim.app.adapter`. Module-level reactive
variables are per browser session (Solara keeps one copy per connection).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

import markdown
import solara
import solara.lab
from matplotlib.figure import Figure as MatplotlibFigure

from helsesim.app import adapter
from helsesim.app.figures import locator_map

COMMUNITIES = adapter.communities()
COMMUNITY_NAMES = {c.key: c.name for c in COMMUNITIES}
LEVERS = adapter.levers()
DEFAULTS = {p.path: p.default for p in LEVERS}
#: Parameters in NOK are shown in MNOK.
MNOK = 1e6

# --- per-session state -------------------------------------------------------------------------
community = solara.reactive("nordland")
design = solara.reactive("two_stream")
baseline = solara.reactive("open_call")
baseline_status_quo = solara.reactive(False)
lever_values = solara.reactive(dict(DEFAULTS))
years = solara.reactive(10)
n_seeds = solara.reactive(10)
root_seed = solara.reactive(1)
analysis: solara.Reactive[adapter.Analysis | None] = solara.reactive(None)  # the latest run
progress = solara.reactive((0, 0))  # (runs done, runs)
shown = solara.reactive(list(adapter.TIME_SERIES))  # outcomes in the figures


def current_setup() -> adapter.Setup:
    changes = tuple((p, v) for p, v in lever_values.value.items() if v != DEFAULTS[p])
    return adapter.Setup(community.value, design.value, baseline.value, changes,
                         baseline_status_quo.value, years.value, n_seeds.value, root_seed.value)


@solara.lab.task(prefer_threaded=True)
def run_analysis(setup: adapter.Setup) -> None:
    progress.set((0, 2 * setup.n_seeds))
    result = adapter.run(setup, progress=lambda done, total: progress.set((done, total)))
    old = analysis.value
    analysis.set(result)
    adapter.discard(old)


CSS = """
.helsesim-md table { border-collapse: collapse; margin: 0.5em 0; }
.helsesim-md td, .helsesim-md th { border: 1px solid #ddd; padding: 3px 8px; }
.helsesim-md li { margin-bottom: 0.35em; }
.helsesim-brief { font-size: 0.92em; line-height: 1.35; }
.helsesim-brief h3 { margin-top: 0; }
.helsesim-md strong { font-weight: 700; }
.helsesim-md p { margin-bottom: 0.5em; }
.helsesim-md code { background: #f3f3f3; padding: 0 3px; border-radius: 3px; }
.helsesim-table { border-collapse: collapse; font-size: 0.92em; width: 100%; }
.helsesim-table th { background: #f0f3f7; text-align: left; }
.helsesim-table td, .helsesim-table th { border: 1px solid #dde; padding: 4px 8px;
  vertical-align: top; }
.helsesim-table td.num { white-space: nowrap; font-variant-numeric: tabular-nums; }
.helsesim-hint { color: #555; font-size: 0.85em; line-height: 1.25; margin: -6px 0 6px 0; }
.helsesim-figure img { max-width: 100%; height: auto; }
.helsesim-lever-label { font-size: 0.9em; color: #333; display: block; margin-top: 4px; }
.helsesim-lever .v-input { margin-top: 0 !important; padding-top: 0 !important; }
.helsesim-lever .v-messages { display: none; }
"""


@solara.component
def Markdown(text: str, classes: list[str] | None = None) -> solara.Element:
    """Markdown rendered on the server (Solara's own Markdown loads KaTeX from a CDN)."""
    html = markdown.markdown(text, extensions=["tables"])
    return solara.HTML(tag="div", unsafe_innerHTML=html, classes=["helsesim-md", *(classes or [])])


@solara.component
def Figure(make: Callable[[], MatplotlibFigure], dependencies: list,
           classes: list[str] | None = None) -> None:
    """A matplotlib figure drawn only when its inputs change."""
    fig = solara.use_memo(make, dependencies)
    with solara.Div(classes=["helsesim-figure", *(classes or [])]):
        solara.FigureMatplotlib(fig, format="png", dependencies=dependencies, dpi=90,
                                bbox_inches="tight")


# --- the choices -----------------------------------------------------------------------------

@solara.component
def CommunityChoice() -> None:
    items = [{"text": c.name, "value": c.key} for c in COMMUNITIES]
    solara.v.Select(label="Health community", items=items, v_model=community.value,
                    on_v_model=community.set, class_="helsesim-community", dense=True)
    c = next(x for x in COMMUNITIES if x.key == community.value)
    solara.Text(f"{c.trust} · {c.n_municipalities} municipalities · {c.population:,} "
                "inhabitants (2024)", classes=["helsesim-hint"])
    positions = solara.use_memo(adapter.municipality_positions, [])
    Figure(lambda: locator_map(positions, community.value), [community.value])


@solara.component
def DesignChoice() -> None:
    names = adapter.designs()
    solara.Select("Design", values=names, value=design, classes=["helsesim-design"])
    solara.Text(adapter.design_doc(design.value), classes=["helsesim-hint"])
    solara.Select("Baseline design", values=names, value=baseline,
                  classes=["helsesim-baseline"])
    solara.Checkbox(label="Baseline keeps the status-quo levers", value=baseline_status_quo)


def _label(p: adapter.Param) -> str:
    name = p.name.replace("_", " ")
    unit = "MNOK/yr" if p.unit == "NOK/yr" else p.unit
    return f"{name} [{unit}]" if unit not in ("-", "") else name


@solara.component
def Lever(p: adapter.Param) -> None:
    value = lever_values.value[p.path]

    def set_value(v: float | int | bool) -> None:
        if p.unit == "NOK/yr":
            v = float(v) * MNOK
        lever_values.set({**lever_values.value, p.path: v})

    rng = "" if p.kind == "bool" else (
        f" Range {p.lo:g}–{p.hi:g}" + ("" if p.schema_hi is not None else
                                       " here (the schema has no upper bound)") + ".")
    tip = f"{p.doc}{rng} Default {p.default:g}. Source: {p.source}."
    cls = ["helsesim-lever", f"helsesim-lever-{p.name}"]
    shown_value = value / MNOK if p.unit == "NOK/yr" else value
    with solara.Tooltip(tip):
        with solara.Div(classes=cls):
            if p.kind == "bool":
                solara.Checkbox(label=_label(p), value=bool(value), on_value=set_value)
                return
            solara.Text(f"{_label(p)}: {shown_value:g}", classes=["helsesim-lever-label"])
            if p.kind == "int":
                solara.SliderInt("", value=int(value), min=int(p.lo or 0), max=int(p.hi),
                                 on_value=set_value)
            elif p.unit == "NOK/yr":
                solara.SliderFloat("", value=shown_value, min=(p.lo or 0) / MNOK,
                                   max=p.hi / MNOK, step=10.0, on_value=set_value)
            else:
                span = p.hi - (p.lo or 0.0)
                solara.SliderFloat("", value=float(value), min=float(p.lo or 0.0),
                                   max=float(p.hi), step=0.05 if span <= 2 else 0.5,
                                   on_value=set_value)


@solara.component
def LeverChoice() -> None:
    groups = {"levers": "Levers", "scenario": "Money", "allocation": "Design parameters"}
    changed = sum(v != DEFAULTS[k] for k, v in lever_values.value.items())
    solara.Text(f"{changed} changed from the status quo" if changed else "All at the status quo",
                classes=["helsesim-hint"])
    for group, title in groups.items():
        params = [p for p in LEVERS if p.group == group]
        with solara.Details(title, expand=group != "allocation"):
            for p in params:
                Lever(p)
    solara.Button("Reset levers", text=True, on_click=lambda: lever_values.set(dict(DEFAULTS)))


@solara.component
def RunChoice() -> None:
    with solara.Div(classes=["helsesim-years"]):
        solara.SliderInt("Years", value=years, min=1, max=adapter.MAX_YEARS)
    with solara.Div(classes=["helsesim-seeds"]):
        solara.SliderInt("Paired seeds", value=n_seeds, min=1, max=adapter.MAX_SEEDS)
    solara.InputInt("First seed", value=root_seed, classes=["helsesim-seed"])


@solara.component
def RunButton() -> None:
    try:
        setup = current_setup()
        setup.arms()
        problem = None
    except adapter.SetupError as e:
        setup, problem = None, str(e)
    busy = run_analysis.pending
    solara.Button("Run", color="primary", icon_name="mdi-play", disabled=busy or setup is None,
                  on_click=lambda: run_analysis(setup), classes=["helsesim-run"],
                  style={"width": "100%"})
    if problem:
        solara.Warning(problem, dense=True)
    done, total = progress.value
    if busy:
        solara.ProgressLinear(100 * done / total if total else True,
                              classes=["helsesim-progress"])
        solara.Text(f"{done} of {total} runs", classes=["helsesim-hint"])
    elif run_analysis.error:
        solara.Error(f"The run failed: {run_analysis.exception}", classes=["helsesim-error"])


# --- the results -----------------------------------------------------------------------------

def side_by_side_html(an: adapter.Analysis) -> str:
    arm, base = an.arms[1], an.baseline

    def cell(pair: tuple[str, str], col: str) -> str:
        return (f"<td class='num' data-col='{col}'><span class='median'>{pair[0]}</span><br>"
                f"<small>{pair[1]}</small></td>")

    head = (f"<tr><th>Outcome</th><th>{base}<br><small>baseline</small></th><th>{arm}</th>"
            f"<th>{arm} − {base}<br><small>paired</small></th>"
            f"<th>seeds where {arm} is better</th></tr>")
    body = ""
    for r in adapter.side_by_side(an):
        unit = f" [{r.unit}]" if r.unit else ""
        better = f", {r.better} is better" if r.better else ""
        body += (f"<tr data-outcome='{r.outcome}'><td>{r.label}<br><small>{unit.strip()}"
                 f"{better if unit else better.lstrip(', ')}</small></td>"
                 f"{cell(r.baseline, 'baseline')}{cell(r.arm, 'arm')}"
                 f"{cell(r.difference, 'difference')}"
                 f"<td class='num' data-col='better'>{r.seeds_better}</td></tr>")
    return f"<table class='helsesim-table'>{head}{body}</table>"


@solara.component
def Overview(an: adapter.Analysis) -> None:
    with solara.Columns([7, 5]):
        with solara.Column():
            solara.HTML(tag="h3", unsafe_innerHTML="Two designs side by side")
            solara.Text("Median over seeds at the end of the run, and below it the 5th and "
                        "95th percentiles; the difference is the median of paired differences "
                        "(same seed), in percentage points for outcomes in %.",
                        classes=["helsesim-hint"])
            solara.HTML(tag="div", unsafe_innerHTML=side_by_side_html(an),
                        classes=["helsesim-side-by-side"])
        with solara.Column():
            Markdown(adapter.brief_markdown(an), classes=["helsesim-brief"])
    Figure(lambda: adapter.map_figure(an), [id(an)], classes=["helsesim-map"])


@solara.component
def OutcomePicker() -> None:
    solara.SelectMultiple("Outcomes in the figures", values=shown,
                          all_values=adapter.outcome_choices(), dense=True)


@solara.component
def OverTime(an: adapter.Analysis) -> None:
    OutcomePicker()
    outcomes = [o for o in shown.value if o in an.tables["years"]]
    if outcomes:
        Figure(lambda: adapter.time_series_figure(an, outcomes), [id(an), tuple(outcomes)],
               classes=["helsesim-time-series"])
    else:
        solara.Info("None of the chosen outcomes is recorded year by year.")


@solara.component
def Distributions(an: adapter.Analysis) -> None:
    OutcomePicker()
    outcomes = [o for o in shown.value if o in an.tables["runs"]]
    if not outcomes:
        solara.Info("None of the chosen outcomes is an end-of-run outcome.")
        return
    Figure(lambda: adapter.distribution_figure(an, outcomes), [id(an), tuple(outcomes)],
           classes=["helsesim-distributions"])
    diffs = [o for o in outcomes if o in set(an.tables["differences"]["outcome"])]
    if diffs:
        Figure(lambda: adapter.differences_figure(an, diffs), [id(an), tuple(diffs)],
               classes=["helsesim-differences"])


def _zip(files: dict[str, Path]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, path in files.items():
            z.write(path, name)
    return buf.getvalue()


@solara.component
def Tables(an: adapter.Analysis) -> None:
    files = adapter.download_files(an)
    solara.Text("The job folder as the helsesim command writes it (parquet tables, summary.md, "
                "manifest.json with the full configuration), or single tables as CSV.",
                classes=["helsesim-hint"])
    with solara.Row(style={"flex-wrap": "wrap"}):
        solara.FileDownload(lambda: _zip(files), filename="helsesim-app-job.zip",
                            label="All tables (zip)")
        for name in ("summary", "differences", "runs", "years"):
            df = an.tables[name]
            solara.FileDownload(lambda df=df: df.to_csv(index=False), filename=f"{name}.csv",
                                label=f"{name}.csv", mime_type="text/csv")
    for name in ("summary", "differences"):
        solara.HTML(tag="h4", unsafe_innerHTML=name)
        solara.DataFrame(an.tables[name].round(6), items_per_page=20)


@solara.component
def StepMode(setup: adapter.Setup) -> None:
    """One run of the design arm, year by year, with Mesa's model controller (reset, play,
    step)."""
    from mesa.visualization.solara_viz import ModelController
    from mesa.visualization.utils import update_counter

    params = solara.use_reactive(adapter.step_parameters(setup))
    model = solara.use_reactive(solara.use_memo(
        lambda: adapter.step_model_class()(**params.value), []))
    update_counter.get()  # re-render after every step
    m = model.value
    arm = setup.arms()[0]
    solara.Text(f"One run of {arm} (seed {setup.seed}: the first paired seed), "
                f"{COMMUNITY_NAMES[setup.community]}. Step plays one year (HealthSystem.step()); "
                "the run is the same as the experiment's first replicate of this arm.",
                classes=["helsesim-hint"])
    play_interval = solara.use_reactive(900)
    render_interval = solara.use_reactive(1)
    use_threads = solara.use_reactive(False)
    with solara.Row(style={"align-items": "center"}):
        ModelController(model, model_parameters=params, play_interval=play_interval,
                        render_interval=render_interval, use_threads=use_threads)
        solara.HTML(tag="b", unsafe_innerHTML=f"Year {m.year} of {m.horizon}",
                    classes=["helsesim-step-year"])
    state = adapter.step_state(m)
    with solara.Columns([4, 5]):
        Figure(lambda: adapter.step_map_figure(state, f"{arm}, year {m.year}"),
               [id(m), m.year], classes=["helsesim-step-map"])
        outcomes = [o for o in shown.value if o in state["years"]] or adapter.TIME_SERIES
        Figure(lambda: adapter.step_series_figure(state, outcomes),
               [id(m), m.year, tuple(outcomes)], classes=["helsesim-step-series"])
    new = state["projects"]
    new = new[new["year"] == m.year] if len(new) else new
    solara.Text(f"Projects funded in year {m.year}: {len(new)}", classes=["helsesim-step-count"])
    if len(new):
        cols = [c for c in ("community", "stream", "type", "lead_name", "n_partners", "budget",
                            "status") if c in new]
        solara.DataFrame(new[cols].reset_index(drop=True), items_per_page=10)


@solara.component
def Results() -> None:
    an = analysis.value
    setup = current_setup()
    if an is None:
        solara.Info("Choose a health community, a design, a baseline and levers on the left, "
                    "then press Run. Each seed is run under both designs (paired seeds), with "
                    "helsesim's runner in worker processes.")
    else:
        solara.Text(f"{adapter.describe(an.setup)} {2 * an.setup.n_seeds} runs in "
                    f"{an.seconds:.1f} s.", classes=["helsesim-hint", "helsesim-described"])
        if an.setup != setup:
            solara.Warning("The choices on the left changed since this run: press Run to "
                           "update.", dense=True)
    with solara.lab.Tabs(lazy=True):  # only the open tab is drawn
        if an is not None:
            with solara.lab.Tab("Overview"):
                Overview(an)
            with solara.lab.Tab("Over time"):
                OverTime(an)
            with solara.lab.Tab("Distributions"):
                Distributions(an)
        with solara.lab.Tab("Step by step"):
            try:
                setup.arms()
                StepMode(setup).key(repr(setup))
            except adapter.SetupError as e:
                solara.Warning(str(e))
        if an is not None:
            with solara.lab.Tab("Tables"):
                Tables(an)


@solara.component
def Page() -> None:
    solara.Style(CSS)
    solara.Title("helsesim")
    with solara.AppBar():
        solara.Text("RS grant designs in the health communities")
    with solara.Sidebar():
        with solara.Card("Where", margin=0):
            CommunityChoice()
        with solara.Card("Designs", margin=0):
            DesignChoice()
        with solara.Card("Levers", margin=0):
            LeverChoice()
        with solara.Card("Runs", margin=0):
            RunChoice()
            RunButton()
    Results()


@solara.component
def Layout(children: Sequence[solara.Element] = ()) -> solara.Element:
    return solara.AppLayout(children=children, title="helsesim", color="#23395d")


__all__ = ["Page", "Layout"]
