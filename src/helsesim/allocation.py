"""The allocation designs (public import documented in the README): see
:mod:`helsesim.model.allocation`, where they live."""

from helsesim.model.allocation import DESIGNS, Design, fund_in_order, make_design

__all__ = ["DESIGNS", "Design", "fund_in_order", "make_design"]
