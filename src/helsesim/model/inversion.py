"""Exact samplers by inversion of given uniforms, for common random numbers.

Designs are compared on paired seeds. numpy's binomial (BTPE rejection when n p > 30), Poisson,
hypergeometric and multinomial samplers consume a number of random numbers that depends on
their parameters, so a small change of one probability in one run shifts every later draw of
the stream, and two paired runs decorrelate. Here every draw is the inverse CDF of one given
uniform, X = min{x : F(x) >= U}: the caller draws the uniforms (their number fixed by the
shapes, not by the values), and the same uniform gives the same or a neighbouring value when a
parameter changes a little. The distributions are exact (to double precision): the CDF is
summed term by term from the bottom of the support where the mean is small, and otherwise
evaluated with scipy.special's incomplete beta and gamma functions (``bdtr``, ``pdtr``) from a
Cornish-Fisher start, a few probes up or down and, rarely, a bisection.

scipy.stats' ``ppf`` methods invert the same way but check their arguments on every call and
are several times slower; numpy's samplers do not invert. tests/test_inversion.py compares
these samplers with scipy.stats over many draws.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import special

#: Below this value the CDF is summed term by term, all values of many cells at once.
SUMMED = 64
#: Beyond SUMMED, windows up to this wide are summed while their values add up to at most
#: WIDE_BUDGET (a few large employers); elsewhere the CDF is searched.
MAX_WINDOW = 1024
WIDE_BUDGET = 2048


def binomial(u: np.ndarray, n: np.ndarray, p: np.ndarray | float) -> np.ndarray:
    """Binomial(n, p) variates by inversion of the uniforms ``u`` (any shape; ``n`` and ``p``
    broadcast to it). Nondecreasing in ``u`` and in ``p``, so that a paired run with a
    slightly different ``p`` draws the same or a neighbouring count."""
    u = np.asarray(u, dtype=float)
    n = np.asarray(n, dtype=np.int64)
    p = np.asarray(p, dtype=float)
    # the side with q <= 1/2 is inverted; for p > 1/2, n minus the inverse at 1 - u (still
    # nondecreasing in u)
    flip = p > 0.5
    flipped = bool(flip.any())
    q = np.where(flip, 1.0 - p, p) if flipped else p
    v = np.where(flip, 1.0 - u, u) if flipped else u
    q = (q if q.shape == u.shape else np.broadcast_to(q, u.shape)).ravel()
    trials = (n if n.shape == u.shape else np.broadcast_to(n, u.shape)).ravel()
    mean = trials * q
    stay = 1.0 - q
    odds = q / stay  # q <= 1/2
    y = _invert(v.ravel(), mean, np.sqrt(mean * stay), 1.0 - 2.0 * q,
                np.exp(trials * np.log(stay)), trials,
                lambda x, i: ((trials[:, None] - x) * odds[:, None] if i is None
                              else (trials[i, None] - x) * odds[i, None]),
                lambda x, i: special.bdtr(x, trials[i], q[i])).reshape(u.shape)
    return np.where(flip, n - y, y) if flipped else y


def poisson(u: np.ndarray, lam: np.ndarray | float) -> np.ndarray:
    """Poisson(lam) variates by inversion of the uniforms ``u`` (``lam`` broadcasts)."""
    u = np.asarray(u, dtype=float)
    lam = np.broadcast_to(np.asarray(lam, dtype=float), u.shape).ravel()
    return _invert(u.ravel(), lam, np.sqrt(lam), np.ones(lam.size), np.exp(-lam), None,
                   lambda x, i: (lam if i is None else lam[i])[:, None],
                   lambda x, i: special.pdtr(x, lam[i])).reshape(u.shape)


def hypergeometric(u: np.ndarray, good: np.ndarray, bad: np.ndarray, draws: np.ndarray
                   ) -> np.ndarray:
    """Hypergeometric variates (the good ones among ``draws`` taken without replacement from
    ``good`` + ``bad``) by inversion of the uniforms ``u`` (all of one shape).

    The probabilities are summed over a window of the support: the mean plus or minus 9
    standard deviations of the binomial with the same draws and share (wider than the
    hypergeometric's) plus 9, beyond which on either side lies at most 2e-16 of the
    probability (Bennett's inequality, which holds for draws without replacement too:
    Hoeffding 1963). Within it, each probability follows from the previous by their ratio, in
    logarithms (no underflow deep in a tail), and the window's sum is normalised to 1."""
    shape = np.shape(good)
    u = np.asarray(u, dtype=float).ravel()
    good, bad, draws = (np.asarray(a, dtype=np.int64).ravel() for a in (good, bad, draws))
    low = np.maximum(0, draws - bad)
    high = np.minimum(draws, good)
    y = low.copy()
    live = np.flatnonzero(high > low)
    if live.size:
        g, b, d, lo, hi = good[live], bad[live], draws[live], low[live], high[live]
        share = g / (g + b)
        margin = 9.0 * np.sqrt(d * share * (1.0 - share)) + 9.0
        start = np.maximum(lo, np.floor(d * share - margin).astype(np.int64))
        end = np.minimum(hi, np.ceil(d * share + margin).astype(np.int64))
        x = start[:, None] + np.arange(int((end - start).max()), dtype=float)
        gf, bf, df = g[:, None].astype(float), b[:, None].astype(float), d[:, None].astype(float)
        # P(x + 1) / P(x) = (g - x)(d - x) / ((x + 1)(b - d + x + 1)); 0 past the window
        with np.errstate(divide="ignore", invalid="ignore"):
            log_ratio = np.where(x < end[:, None], np.log((gf - x) * (df - x))
                                 - np.log((x + 1.0) * (bf - df + x + 1.0)), -np.inf)
        log_pmf = np.zeros((live.size, x.shape[1] + 1))
        np.cumsum(log_ratio, axis=1, out=log_pmf[:, 1:])
        log_pmf -= log_pmf.max(axis=1, keepdims=True)
        cdf = np.cumsum(np.exp(log_pmf), axis=1)
        below = cdf < u[live, None] * cdf[:, -1:]
        y[live] = np.minimum(start + below.sum(axis=1), end)
    return y.reshape(shape)


def _invert(v: np.ndarray, mean: np.ndarray, sd: np.ndarray, third: np.ndarray,
            first: np.ndarray, top: np.ndarray | None,
            rise: Callable[[np.ndarray, np.ndarray | None], np.ndarray],
            cdf: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> np.ndarray:
    """The smallest x >= 0 with F(x) >= v for a distribution on 0, 1, ... (at most ``top``),
    of the given mean, standard deviation and third cumulant over the variance ``third``.

    The Cornish-Fisher quantile says where x lies. Where it is small (and the mean small
    enough that P(0) does not underflow), F is summed from P(0) = ``first`` with
    P(x + 1) = P(x) * rise(x, cells) / (x + 1) (``cells`` None: all), for all values at once,
    over windows that hold the quantile with a margin (a cell whose x lies beyond its window
    goes on to the search). Elsewhere, ``cdf(x, cells)`` is searched from the quantile."""
    z = special.ndtri(np.minimum(np.maximum(v, 1e-300), 1.0 - 1e-16))
    sixth = third * (1.0 / 6.0)
    guess = mean + z * (sd + sixth * z) - sixth  # Cornish-Fisher, the skewness term
    need = guess + (0.25 * sd + 2.5)  # with the continuity correction and a margin
    y = np.empty(v.size, dtype=np.int64)
    if need.max(initial=0.0) < SUMMED and mean.max(initial=0.0) < 400.0:
        summed, search = None, []  # all summed
    else:
        # summed from 0 where P(0) does not underflow and the window is short; wide windows
        # only while they are few (a search costs about as much as summing SUMMED values)
        summed = (need < MAX_WINDOW) & (mean < 400.0)
        wide = summed & (need >= SUMMED)
        if need[wide].sum() > WIDE_BUDGET:
            summed &= ~wide
        search = [np.flatnonzero(~summed)]
    for cells, w in _windows(summed, need):
        every = cells is None
        pmf = np.empty((v.size if every else cells.size, w))
        pmf[:, 0] = first if every else first[cells]
        np.multiply(rise(_STEPS[:w - 1], cells), _RECIPROCALS[:w - 1], out=pmf[:, 1:])
        np.cumprod(pmf[:, 1:], axis=1, out=pmf[:, 1:])
        pmf[:, 1:] *= pmf[:, :1]
        np.cumsum(pmf, axis=1, out=pmf)
        found = (pmf < (v if every else v[cells])[:, None]).sum(axis=1)
        # beyond the window (not the top of the support): searched
        beyond = found == w
        if top is not None:
            beyond &= (top if every else top[cells]) >= w
        if every:
            y[:] = found
        else:
            y[cells] = found
        if beyond.any():
            search.append(np.flatnonzero(beyond) if every else cells[beyond])
    if top is not None:
        np.minimum(y, top, out=y)
    search = np.concatenate(search) if len(search) > 1 else (search[0] if search else None)
    if search is not None and search.size:
        start = np.maximum(np.ceil(guess[search] - 0.5), 0).astype(np.int64)
        if top is not None:
            np.minimum(start, top[search], out=start)
        y[search] = _search(v[search], lambda x, i: cdf(x, search[i]), start,
                            None if top is None else top[search])
    return y


_STEPS = np.arange(MAX_WINDOW, dtype=float)
_RECIPROCALS = 1.0 / (_STEPS + 1.0)
#: A window's cost: this many values summed cost about one more pass over the cells.
PASS_COST = 1024


def _windows(summed: np.ndarray | None, need: np.ndarray
             ) -> list[tuple[np.ndarray | None, int]]:
    """The cells to sum (``summed``; None: all) grouped by the width of their window (a power
    of two above ``need``, at least 4), narrow groups merged into wider ones where summing the
    extra values costs less than a pass; None for all cells."""
    cells = None if summed is None else np.flatnonzero(summed)
    if cells is not None and not cells.size:
        return []
    level = np.frexp(np.maximum(need if cells is None else need[cells], 1.0))[1]
    counts = np.bincount(level).tolist()  # the window is 2**level wide
    groups: list[tuple[int, int, int]] = []  # (lowest level, cells, window), widest first
    for lev in range(len(counts) - 1, -1, -1):
        c = counts[lev]
        if not c:
            continue
        width = 1 << max(lev, 2)
        if groups and c * (groups[-1][2] - width) <= PASS_COST:
            groups[-1] = (lev, groups[-1][1] + c, groups[-1][2])
        else:
            groups.append((lev, c, width))
    if len(groups) == 1:
        return [(cells, groups[0][2])]
    out = []
    upper = len(counts)
    every = np.arange(need.size) if cells is None else cells
    for lev, _, window in groups:
        out.append((every[(level >= lev) & (level < upper)], window))
        upper = lev
    return out


def _search(v: np.ndarray, cdf: Callable[[np.ndarray, np.ndarray], np.ndarray],
            start: np.ndarray, top: np.ndarray | None) -> np.ndarray:
    """The smallest integer x >= 0 with cdf(x) >= v, found from ``start``: the CDF at start - 1
    and start settles most; for the others, probes at doubling distances down (or up, to at
    most ``top``, where the CDF is 1) bracket it, and bisection finds it. ``cdf(x, cells)``
    evaluates the CDF of the given cells at x."""
    cells = np.arange(v.size)
    pair = cdf(np.concatenate([np.maximum(start - 1, 0), start]), np.concatenate([cells, cells]))
    below = (pair[:v.size] < v) | (start == 0)  # cdf(start - 1) < v
    above = pair[v.size:] >= v  # cdf(start) >= v
    # lo: cdf(lo) < v (-1: below the support); hi: cdf(hi) >= v (-1: not known yet)
    lo = np.where(above, np.where(below, start - 1, -1), start)
    hi = np.where(above, np.where(below, start, start - 1), -1)
    ceiling = np.full(v.size, np.iinfo(np.int64).max) if top is None else top
    down = above
    dist = np.ones(v.size, dtype=np.int64)
    todo = cells[(above & ~below & (hi > 0)) | ~above]
    while todo.size:  # bracket: down from hi, or up from lo
        d = down[todo]
        probe = np.where(d, hi[todo] - dist[todo], lo[todo] + dist[todo])
        probe = np.minimum(np.maximum(probe, 0), ceiling[todo])
        ok = cdf(probe, todo) >= v[todo]
        hi[todo[ok]] = probe[ok]
        lo[todo[~ok]] = probe[~ok]
        dist[todo] *= 2
        # going down: done once below (or at 0); going up: done once above
        todo = todo[np.where(d, ok & (probe > 0), ~ok)]
    todo = cells[hi - lo > 1]
    while todo.size:  # bisection
        mid = (lo[todo] + hi[todo]) // 2
        ok = cdf(mid, todo) >= v[todo]
        hi[todo[ok]] = mid[ok]
        lo[todo[~ok]] = mid[~ok]
        todo = todo[hi[todo] - lo[todo] > 1]
    return hi


def categorical_counts(u: np.ndarray, counts: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """How many of each group's ``counts[g]`` members choose each category, every member
    independently with probability proportional to ``weights[g]`` (the multinomial in
    distribution), member i of group g by inversion of the uniform ``u[i, g] / 2**53``.

    Args:
        u: (at least max(counts), groups) uniforms as integers below 2**53 (the uniform
            k / 2**53, as numpy's ``random`` makes it from the same 53 bits: the search is in
            integers), one per member slot: the layout is fixed by the number of groups, so
            that member i of group g meets the same uniform in a paired run whatever the
            other groups' counts.
        counts: (groups,) members per group (groups with no positive weight must have none).
        weights: (groups, categories) nonnegative weights.

    Returns:
        (groups, categories) counts of choices.
    """
    groups, categories = weights.shape
    cdf = np.cumsum(weights, axis=1)
    cdf /= np.maximum(cdf[:, -1:], 1e-300)
    # member i chooses the first category whose CDF is above its uniform k / 2**53, i.e.
    # whose ceil(CDF * 2**53) is above k (exact: the scaling is a power of two); from the last
    # category with weight on, above any uniform (no rounding short of 1 leaves a member
    # unplaced, no member lands on a category without weight)
    bound = np.ceil(np.ldexp(cdf, 53)).astype(np.int64)
    last = categories - 1 - np.argmax(weights[:, ::-1] > 0, axis=1)
    bound[np.arange(categories) >= last[:, None]] = 1 << 53
    # member i of group g meets u[i, g]; taken group by group (u.T), so that the groups are
    # runs
    value = u.T[np.arange(u.shape[0]) < counts[:, None]]
    if value.size <= SEARCHED_MEMBERS and groups < 512:
        # one search in the groups' bounds laid end to end (group g's shifted by g * 2**54)
        offset = np.arange(groups, dtype=np.int64) << 54
        bound += offset[:, None]
        value = value + np.repeat(offset, counts)
        pick = np.searchsorted(bound.ravel(), value, side="right")
    else:
        pick = _guided(bound, value, counts)
    return np.bincount(pick, minlength=groups * categories).reshape(groups, categories)


#: Up to this many members, one binary search each; beyond, a guide table.
SEARCHED_MEMBERS = 2048


def _guided(bound: np.ndarray, value: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Each member's category (its index in the flattened ``bound``) through a guide table
    (Chen & Asau 1974): per group and bucket b (the top bits of k), the categories whose bound
    is at most the bucket's lowest k; the member's choice lies between that count and the next
    bucket's."""
    groups, categories = bound.shape
    level = max(int(2 * categories - 1).bit_length(), 4)
    buckets, shift = 1 << level, 53 - level
    key = np.minimum((bound - 1) >> shift, buckets - 1) + 1  # first bucket past the bound
    key += (np.arange(groups) * (buckets + 1))[:, None]
    guide = np.bincount(key.ravel(), minlength=groups * (buckets + 1)).reshape(
        groups, buckets + 1).cumsum(axis=1)
    np.minimum(guide, categories - 1, out=guide)
    guide += (np.arange(groups) * categories)[:, None]
    guide = guide.ravel()
    start = np.repeat(np.arange(groups) * (buckets + 1), counts)
    start += value >> shift
    pick = guide[start]
    flat = bound.ravel()
    todo = np.flatnonzero(flat[pick] <= value)  # most choose the bucket's first candidate
    high = guide[start[todo] + 1]
    pick[todo] += 1
    more = pick[todo] < high
    todo, high = todo[more], high[more]
    while todo.size:  # bisection between the two
        low, top = pick[todo], high
        mid = (low + top) >> 1
        up = flat[mid] <= value[todo]
        pick[todo] = low = np.where(up, mid + 1, low)
        high = np.where(up, top, mid)
        more = low < high
        todo, high = todo[more], high[more]
    return pick


#: Uniforms drawn at once by :func:`choose` (rows of the slot layout): bounds its memory.
CHUNK = 1 << 20


def choose(rng: np.random.Generator, counts: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """:func:`categorical_counts` with the uniforms drawn from ``rng``: member i of group g
    takes the (i * groups + g)-th 53 bits of the stream (as numpy's ``random`` makes a
    uniform from them), drawn in chunks of rows. The position depends only on the number of
    groups, so that a paired run whose counts differ meets the same uniforms."""
    groups = counts.size
    rows = max(CHUNK // groups, 1)
    most = int(counts.max(initial=0))
    if most <= rows:
        return categorical_counts(_uniform_bits(rng, (most, groups)), counts, weights)
    out = np.zeros(weights.shape, dtype=np.int64)
    first = 0
    while first < most:
        take = min(rows, most - first)
        out += categorical_counts(_uniform_bits(rng, (take, groups)),
                                  np.clip(counts - first, 0, take), weights)
        first += take
    return out


def _uniform_bits(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """The top 53 bits of the next raw 64-bit outputs (numpy's ``random`` makes its uniform
    k / 2**53 from them), as int64."""
    raw = rng.bit_generator.random_raw(shape)
    np.right_shift(raw, 11, out=raw)
    return raw.view(np.int64)
