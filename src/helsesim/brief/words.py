"""Numbers of the brief in words: levels and differences in each outcome's display unit, shares
in per cent, money in MNOK."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from helsesim.outcomes import Outcome


def is_share(info: Outcome) -> bool:
    return info.unit.startswith("share") and info.scale == 1.0


def num(x: float) -> str:
    if not np.isfinite(x):
        return "–"
    if abs(x) < 1e-12:
        return "0"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if abs(x) < 1e-3:  # 0.000092, not 9.2e-05
        return np.format_float_positional(x, precision=2, unique=False, fractional=False,
                                          trim="-")
    return f"{x:.3g}"


def pct(share: float) -> str:
    """A share in per cent; one decimal where whole per cents would read 0 or 100 wrongly."""
    pct = 100 * share
    if not np.isfinite(pct):
        return "–"
    if 99.5 <= pct < 100:  # not "100 %" for what is not all
        return f"{math.floor(pct * 10) / 10:.1f} %"
    if 0 < pct < 0.5:  # nor "0 %" for what is not nothing
        return f"{math.ceil(pct * 10) / 10:.1f} %"
    return f"{pct:.0f} %"


def signed(x: float) -> str:
    s = num(x)
    return s if s.startswith("-") or s in ("0", "–") else "+" + s


def unit_text(info: Outcome) -> str:
    """The unit written after a shown number, or none when the unit is a description."""
    if is_share(info):
        return " pp"
    unit = info.display_unit
    return f" {unit}" if unit and not any(c in unit for c in ":(=") else ""


def level(value: float, info: Outcome, unit: bool = True) -> str:
    """A value of an outcome in its display unit: ``12.6 %``, ``4.87 MNOK/yr``, ``0.329``."""
    if is_share(info):
        return f"{num(100 * value)}" + (" %" if unit else "")
    return f"{num(value * info.scale)}" + (unit_text(info) if unit else "")


def unit_of(info: Outcome) -> str:
    """The unit a level is written in (``%`` for shares), or ``""``."""
    return "%" if is_share(info) else unit_text(info).strip()


def change(value: float, info: Outcome, unit: bool = True) -> str:
    """A difference of an outcome, signed: ``+1.2 pp`` (percentage points), ``-0.09``."""
    scale = 100.0 if is_share(info) else info.scale
    return signed(value * scale) + (unit_text(info) if unit else "")


def interval(row: pd.Series, info: Outcome) -> str:
    """Median paired difference and its 90 % interval: ``-4.31 MNOK/yr [-11, +6.85]``."""
    return (f"{change(float(row['median']), info)} [{change(float(row['q05']), info, False)}, "
            f"{change(float(row['q95']), info, False)}]")


def mnok(nok: float) -> str:
    return f"{num(nok / 1e6)} MNOK"


def arm_name(a: str) -> str:
    return f"`{a}`"


def seeds_of(k: int, n: int) -> str:
    return f"{k} of {n} seeds"
