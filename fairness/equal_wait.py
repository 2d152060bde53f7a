"""Equal priority, equal wait: waits compared across groups within each urgency band and category.

A raw median per gender or channel mixes in each group's share of urgent cases (urgent requests wait
less, so a group with more of them looks favoured). Here every comparison stays inside one cell — one
urgency band and one category — and sets one group (say, women) against the rest of that cell.

For each group: counts, medians and 90th percentiles; the relative gap of the medians; a two-sided
permutation test of the difference in medians (is it more than the chance of who happened to fall in
which group?); and a bootstrap 95 % interval of that difference. A gap is flagged only when it is both
over `gap` (10 %) and more than chance (p < `alpha`): a large gap on five requests is noise, a tiny gap
on ten thousand is real but not unfair.

Many groups make many tests: with hundreds of them, about one in twenty comes out below p = 0.05 with no
difference at all. Each comparison therefore also carries its Benjamini-Hochberg q-value over every test in
the same call; a flag whose q is below alpha survives that count (the share of false alarms among such flags is
then kept under alpha). `flagged` itself stays the plain rule (gap and p), so that a reader sees both.

Pure and deterministic: numpy only, every random draw from a generator seeded by `seed` and the
comparison's own cell and group, so a result does not depend on which other cells are in the input.

Fast enough to compute on each view of the live report (10,000 requests, a few hundred groups): the permutation
test is sequential (Besag & Clifford, 1991) — it stops once enough relabellings are at least as extreme that p can
no longer fall below alpha, so only groups that may differ are drawn to the full count, and no verdict changes; a
relabelling picks the group by random keys over the sorted waits instead of shuffling them; and the bootstrap draws
each resample's median straight from the distribution of the middle order statistic (`resampled_medians`).

Power and false positives (tests/fairness/test_equal_wait.py, seeded): with 200 requests per group and
waits spread like a log-normal of σ = 0.35 (a coefficient of variation about 0.36), a 20 % gap in
medians is flagged in at least 95 % of trials (99 % of the 200 seeded ones); identical distributions come out
below alpha in at most 5 % (+ a binomial margin: 8.1 %) of 200 trials (8.0 % of the seeded ones, whose data alone
give 7.5 % with 9,999 relabellings), and are flagged in fewer (3.5 %). Wider spreads need more requests: the median
of an exponential-like spread is about three times less precise, and such a gap then needs roughly 1,500 per group.
"""

from __future__ import annotations

import math
import zlib
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Final

import numpy as np
import numpy.typing as npt

DIMENSIONS: Final = ("gender", "applicant_kind", "channel", "branch")

# The gap is relative to the rest's median, but never to less than a day: a same-day service whose
# medians are 0.1 and 0.2 days has no 100 % gap anyone would call unfair.
MIN_GAP_BASE_DAYS: Final = 1.0
# The chance a difference must be less likely than (two-sided p) to be called more than chance.
ALPHA: Final = 0.05
# A gap over this share of the rest's median, and more than chance, is flagged.
GAP_THRESHOLD: Final = 0.10
# Rows of permuted waits drawn at once: bounds memory on large cells (≈ 8 MB a batch).
_BATCH_CELLS: Final = 1_000_000
# Relabellings in the sequential test's first stage, each next stage half as many again (64, 96, 144 …): a group
# like the rest of its cell (p around 0.5) reaches its stopping hits in the first two, with little drawn past them.
_FIRST_STAGE: Final = 64

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class WaitRecord:
    band: str
    category: str
    # The request's group in each dimension (see DIMENSIONS); a dimension left out is not compared.
    dimension_values: Mapping[str, str]
    wait_days: float


@dataclass(frozen=True)
class GroupComparison:
    """One group of one cell (band, category) set against the rest of that cell in one dimension."""

    band: str
    category: str
    dimension: str
    value: str
    count: int
    median_days: float
    p90_days: float
    rest_count: int
    rest_median_days: float | None
    rest_p90_days: float | None
    # (group median - rest median) / max(rest median, MIN_GAP_BASE_DAYS); positive: this group waits longer.
    gap: float | None
    # None when not tested (see `untested`).
    p_value: float | None
    # Bootstrap 95 % interval of (group median - rest median), in days.
    ci_low_days: float | None
    ci_high_days: float | None
    flagged: bool
    # Why no test was run: "too_few" (the group or the rest under min_count) or "no_other_group".
    untested: str | None = None
    # The p-value adjusted for every test in the same call (Benjamini-Hochberg): a report of hundreds of groups
    # has some p below alpha by chance alone; q below alpha keeps the share of such false alarms under alpha.
    q_value: float | None = None

    @property
    def tested(self) -> bool:
        return self.untested is None


def _p90(values: Floats) -> float:
    return float(np.quantile(values, 0.9))


def _rng(seed: int, *key: str) -> np.random.Generator:
    """A generator for one comparison: the same draws whatever else is in the input."""
    return np.random.default_rng([seed, *(zlib.crc32(part.encode()) for part in key)])


@dataclass(frozen=True)
class PermutationTest:
    """A permutation test's p-value and how many relabellings it took to reach it."""

    p_value: float
    relabellings: int


def stopping_hits(*, permutations: int, alpha: float) -> int:
    """The relabellings at least as extreme after which p can no longer come out below alpha.

    With h = ceil(alpha * (permutations + 1)) such hits, the full count's p, (hits + 1) / (permutations + 1), is
    at least (h + 1) / (permutations + 1) > alpha whatever the rest would give: stopping there changes no flag.
    """
    # The small slack keeps a float product such as 0.05 * 1000 = 50.000000000000007 from rounding up to 51.
    return max(1, math.ceil(alpha * (permutations + 1) - 1e-9))


def permutation_test(
    group: Floats, rest: Floats, *, permutations: int, rng: np.random.Generator, stop_at_hits: int | None = None
) -> PermutationTest:
    """Two-sided test of the difference in medians: the share of relabellings at least as extreme.

    Run to the full count, p = (hits + 1) / (permutations + 1): counting the observed labelling among them keeps
    the test exact in level under exchangeability, never 0. With `stop_at_hits` (see `stopping_hits`) the test is
    sequential (Besag & Clifford, 1991): relabellings are drawn in growing stages, and once that many are at least
    as extreme, after l relabellings, it stops with p = stop_at_hits / l — a valid p-value of its own, above alpha,
    and the same verdict the full count would give. A group clearly like the rest (p around 0.5) stops after about
    a hundred relabellings instead of a thousand; only a group that may differ is drawn to the full count.
    """
    pooled = np.sort(np.concatenate([group, rest]))
    k, n = len(group), len(group) + len(rest)
    observed = abs(float(np.median(group) - np.median(rest)))
    # Medians of tied waits (whole days) can equal the observed one exactly; a little slack counts them.
    threshold = observed - 1e-9 * max(1.0, observed)
    positions = np.arange(1, n + 1, dtype=np.int32)
    hits = 0
    batch = max(1, _BATCH_CELLS // n)
    stage = _FIRST_STAGE
    done = 0
    while done < permutations:
        rows = min(stage, batch, permutations - done)
        # A relabelling: the k waits with the least of n uniform keys form the group (a uniform k-subset). Walking
        # the sorted waits, the running count of the group's members finds its medians' positions, and the rest's
        # count is the position less it: no shuffle and no sort per relabelling.
        keys = rng.random((rows, n))
        members = keys <= np.partition(keys, k - 1, axis=1)[:, k - 1 : k]
        in_group = np.cumsum(members, axis=1, dtype=np.int32)
        diffs = _sorted_median(pooled, in_group, k) - _sorted_median(pooled, positions - in_group, n - k)
        extreme = np.abs(diffs) >= threshold
        found = int(np.count_nonzero(extreme))
        if stop_at_hits is not None and hits + found >= stop_at_hits:
            # The relabelling that made the stop_at_hits-th hit: the test ends there, not at the stage's end.
            at = done + int(np.flatnonzero(extreme)[stop_at_hits - hits - 1]) + 1
            return PermutationTest(stop_at_hits / at, at)
        hits += found
        done += rows
        stage += stage // 2
    return PermutationTest((hits + 1) / (permutations + 1), permutations)


def _sorted_median(ordered: Floats, counts: npt.NDArray[np.int32], size: int) -> Floats:
    """Per row, the median of the `size` members of sorted `ordered` whose running count is `counts`."""
    low = np.argmax(counts >= (size + 1) // 2, axis=1)
    high = low if size % 2 else np.argmax(counts >= size // 2 + 1, axis=1)
    medians: Floats = (ordered[low] + ordered[high]) / 2
    return medians


def permutation_p_value(group: Floats, rest: Floats, *, permutations: int, rng: np.random.Generator) -> float:
    """The permutation test run to the full count (see `permutation_test`)."""
    return permutation_test(group, rest, permutations=permutations, rng=rng).p_value


def resampled_medians(values: Floats, *, resamples: int, rng: np.random.Generator) -> Floats:
    """The medians of `resamples` bootstrap resamples of `values` (n drawn with replacement), without drawing them.

    A resample's median is its middle order statistic, and of sorted values that is the value at the middle
    order statistic of the n positions drawn. Drawing a position is flooring n uniforms, and the k-th least of n
    uniforms is Beta(k, n - k + 1); given it is x, the next is x + (1 - x) Beta(1, n - k) (the least of the
    n - k uniforms above x). So each median comes from one or two Beta draws instead of n picks and a partial
    sort — the same distribution (tests/fairness/test_equal_wait.py checks it against resampling outright) at a
    thousandth of the work on a cell of a thousand requests.
    """
    ordered = np.sort(values)
    n = len(ordered)
    middle = (n + 1) // 2  # the k of the k-th least: the median itself (odd n) or its lower half (even n)
    lower = rng.beta(middle, n - middle + 1, size=resamples)
    first = ordered[np.minimum((lower * n).astype(np.intp), n - 1)]
    if n % 2:
        return first
    upper = lower + (1.0 - lower) * rng.beta(1, n - middle, size=resamples)
    return (first + ordered[np.minimum((upper * n).astype(np.intp), n - 1)]) / 2


def bootstrap_interval(group: Floats, rest: Floats, *, resamples: int, rng: np.random.Generator) -> tuple[float, float]:
    """Percentile bootstrap 95 % interval of (median of group - median of rest), each resampled on its own."""
    differences = resampled_medians(group, resamples=resamples, rng=rng) - resampled_medians(
        rest, resamples=resamples, rng=rng
    )
    low, high = np.quantile(differences, [0.025, 0.975])
    return float(low), float(high)


def compare(
    records: Sequence[WaitRecord],
    *,
    dimensions: Sequence[str] = DIMENSIONS,
    permutations: int = 2000,
    seed: int = 0,
    alpha: float = ALPHA,
    gap: float = GAP_THRESHOLD,
    min_count: int = 5,
) -> list[GroupComparison]:
    """Every group of every cell against the rest of its cell, sorted by band, category, dimension, group.

    A group (or its rest) under `min_count` requests is reported with its figures but not tested, and
    never flagged: too few to tell a gap from chance. A cell where a dimension has one value only has
    nothing to compare against.
    """
    if permutations < 1:
        raise ValueError("permutations must be at least 1")
    cells: dict[tuple[str, str, str], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for record in records:
        if not math.isfinite(record.wait_days):
            raise ValueError(f"wait_days must be finite, got {record.wait_days!r}")
        for dimension in dimensions:
            value = record.dimension_values.get(dimension)
            if value is not None:
                cells[(record.band, record.category, dimension)][value].append(record.wait_days)

    results = []
    for (band, category, dimension), by_value in sorted(cells.items()):
        # Sorted, so that the order the records came in does not change the draws.
        arrays = {value: np.sort(np.asarray(waits, dtype=np.float64)) for value, waits in by_value.items()}
        if len(arrays) == 2:
            # Two groups (say, women and men): each one's rest is the other, so one test serves both.
            first, second = sorted(arrays)
            one = _compare_one(
                (band, category, dimension, first),
                arrays[first],
                arrays[second],
                permutations=permutations,
                seed=seed,
                alpha=alpha,
                gap=gap,
                min_count=min_count,
            )
            results += [one, _mirror(one, second, gap=gap, alpha=alpha)]
            continue
        for value, waits in sorted(arrays.items()):
            rest_parts = [other for name, other in arrays.items() if name != value]
            rest = np.concatenate(rest_parts) if rest_parts else np.empty(0)
            results.append(
                _compare_one(
                    (band, category, dimension, value),
                    waits,
                    rest,
                    permutations=permutations,
                    seed=seed,
                    alpha=alpha,
                    gap=gap,
                    min_count=min_count,
                )
            )
    return with_q_values(results)


def with_q_values(comparisons: list[GroupComparison]) -> list[GroupComparison]:
    """The comparisons with their Benjamini-Hochberg q-values over all the tested ones."""
    # One test per cell and dimension with two groups (each the other's rest), one per group otherwise: a
    # two-group dimension does not count twice.
    by_cell: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    for index, c in enumerate(comparisons):
        by_cell[(c.band, c.category, c.dimension)].append(index)
    tests: list[tuple[float, list[int]]] = []
    for indices in by_cell.values():
        tested = [i for i in indices if comparisons[i].p_value is not None]
        if len(indices) == 2 and len(tested) == 2:
            tests.append((comparisons[tested[0]].p_value or 0.0, tested))
        else:
            tests += [(comparisons[i].p_value or 0.0, [i]) for i in tested]
    if not tests:
        return comparisons
    tests.sort(key=lambda test: test[0])
    p = np.array([p_value for p_value, _ in tests], dtype=np.float64)
    raw = p * len(p) / np.arange(1, len(p) + 1)
    # Step-up: each q is the least of its own adjusted p and those of every larger p.
    q = np.minimum(np.minimum.accumulate(raw[::-1])[::-1], 1.0)
    adjusted = list(comparisons)
    for (_, indices), q_value in zip(tests, q.tolist(), strict=True):
        for i in indices:
            adjusted[i] = replace(adjusted[i], q_value=q_value)
    return adjusted


def _compare_one(
    key: tuple[str, str, str, str],
    waits: Floats,
    rest: Floats,
    *,
    permutations: int,
    seed: int,
    alpha: float,
    gap: float,
    min_count: int,
) -> GroupComparison:
    band, category, dimension, value = key
    median = float(np.median(waits))
    alone = GroupComparison(
        band=band,
        category=category,
        dimension=dimension,
        value=value,
        count=len(waits),
        median_days=median,
        p90_days=_p90(waits),
        rest_count=len(rest),
        rest_median_days=None,
        rest_p90_days=None,
        gap=None,
        p_value=None,
        ci_low_days=None,
        ci_high_days=None,
        flagged=False,
        untested="no_other_group",
    )
    if len(rest) == 0:
        return alone
    rest_median = float(np.median(rest))
    relative = (median - rest_median) / max(rest_median, MIN_GAP_BASE_DAYS)
    figures = replace(alone, rest_median_days=rest_median, rest_p90_days=_p90(rest), gap=relative, untested="too_few")
    if len(waits) < min_count or len(rest) < min_count:
        return figures
    rng = _rng(seed, *key)
    stop = stopping_hits(permutations=permutations, alpha=alpha)
    p_value = permutation_test(waits, rest, permutations=permutations, rng=rng, stop_at_hits=stop).p_value
    low, high = bootstrap_interval(waits, rest, resamples=permutations, rng=rng)
    return replace(
        figures,
        p_value=p_value,
        ci_low_days=low,
        ci_high_days=high,
        flagged=abs(relative) > gap and p_value < alpha,
        untested=None,
    )


def _mirror(one: GroupComparison, value: str, *, gap: float, alpha: float) -> GroupComparison:
    """The other group of a two-group comparison: the same test, seen from its side."""
    assert one.rest_median_days is not None and one.rest_p90_days is not None
    relative = (one.rest_median_days - one.median_days) / max(one.median_days, MIN_GAP_BASE_DAYS)
    return replace(
        one,
        value=value,
        count=one.rest_count,
        median_days=one.rest_median_days,
        p90_days=one.rest_p90_days,
        rest_count=one.count,
        rest_median_days=one.median_days,
        rest_p90_days=one.p90_days,
        gap=relative,
        ci_low_days=None if one.ci_high_days is None else -one.ci_high_days,
        ci_high_days=None if one.ci_low_days is None else -one.ci_low_days,
        flagged=one.p_value is not None and abs(relative) > gap and one.p_value < alpha,
    )


def _explanation(comparison: GroupComparison, explain: Mapping[str, str]) -> str:
    """The most specific note given: "band/category/dimension:value", then "dimension:value", then "dimension"."""
    c = comparison
    for key in (f"{c.band}/{c.category}/{c.dimension}:{c.value}", f"{c.dimension}:{c.value}", c.dimension):
        if key in explain:
            return explain[key]
    return ""


def _days(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def table(comparisons: Sequence[GroupComparison], *, explain: Mapping[str, str] | None = None) -> str:
    """The comparisons as one Markdown table; `explain` adds a note to a flagged or untested row (see _explanation)."""
    notes = explain or {}
    lines = [
        "| band | category | by | group | n | median | p90 | rest n | rest median | rest p90 | gap | p "
        "| 95 % CI (days) | flag |",
        "|---|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|---|",
    ]
    for c in comparisons:
        if c.untested == "no_other_group":
            flag = "not tested: no other group"
        elif c.untested == "too_few":
            flag = "not tested: too few"
        else:
            flag = "**FLAG**" if c.flagged else "ok"
        note = _explanation(c, notes)
        if note and (c.flagged or not c.tested or (c.gap is not None and abs(c.gap) > GAP_THRESHOLD)):
            flag = f"{flag} — {note}"
        gap = "–" if c.gap is None else f"{c.gap:+.0%}"
        p = "–" if c.p_value is None else f"{c.p_value:.3f}"
        ci = "–" if c.ci_low_days is None else f"[{c.ci_low_days:+.1f}, {c.ci_high_days:+.1f}]"
        lines.append(
            f"| {c.band} | {c.category} | {c.dimension} | {c.value} | {c.count} | {_days(c.median_days)} "
            f"| {_days(c.p90_days)} | {c.rest_count} | {_days(c.rest_median_days)} | {_days(c.rest_p90_days)} "
            f"| {gap} | {p} | {ci} | {flag} |"
        )
    flagged = sum(c.flagged for c in comparisons)
    untested = sum(not c.tested for c in comparisons)
    tested = len(comparisons) - untested
    # After Benjamini-Hochberg: what is left flagged once the number of tests is taken into account.
    kept = sum(c.flagged and c.q_value is not None and c.q_value < ALPHA for c in comparisons)
    lines.append("")
    lines.append(
        f"{len(comparisons)} groups compared within their urgency band and category; {flagged} flagged "
        f"(gap over the threshold and more than chance); {untested} not tested (too few requests, or no other "
        f"group in the cell). Of the {tested} tested, about one in twenty would come out below p = {ALPHA:g} by "
        f"chance alone; {kept} of the flags stay below q = {ALPHA:g} once every test is counted (Benjamini-Hochberg)."
    )
    return "\n".join(lines)
