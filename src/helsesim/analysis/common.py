"""What the three analyses share: their job folder's record, tables and Markdown helpers."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from omegaconf import DictConfig, OmegaConf

if TYPE_CHECKING:  # matplotlib is imported when a figure is drawn
    from matplotlib.figure import Figure


def write_parquet(df: pd.DataFrame, path: Path) -> Path:
    """Write a table atomically (a stopped job never leaves half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    df.to_parquet(tmp, index=False)
    os.replace(tmp, path)
    return path


def write_text(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


def save_figure(fig: Figure, path: Path) -> Path:
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    os.replace(tmp, path)
    return path


def write_record(out: Path, cfg: DictConfig, analysis: str, started: float, extra: dict
                 ) -> Path:
    """``analysis.json``: the resolved configuration, the stages and the time taken (each
    stage's runner job has its own manifest.json)."""
    from helsesim.runner.manifest import versions

    record = dict(analysis=analysis, config=OmegaConf.to_container(cfg, resolve=True),
                  versions=versions(), seconds=round(time.perf_counter() - started, 1),
                  **extra)
    return write_text(out / "analysis.json", json.dumps(record, indent=1, default=str))


def md_table(header: list[str], rows: Iterable[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def num(x: float, digits: int = 3) -> str:
    """A number for a report: 3 significant digits, '–' for NaN."""
    try:
        x = float(x)
    except (TypeError, ValueError):
        return str(x)
    if x != x:  # NaN
        return "–"
    if x == 0:
        return "0"
    if abs(x) >= 1e5 or abs(x) < 1e-3:
        return f"{x:.{digits - 1}e}"
    return f"{x:.{digits}g}"
