"""Classical item analysis of one question version: pure arithmetic over arrays, no database.

The service (:mod:`apps.quality.services.analysis`) gathers, for each candidate whose FIRST
attempt at a question was on a version, whether it was correct, the options picked, the time
taken and the candidate's rest score; :func:`analyse_version` turns that into the statistics and
flags stored in ``ItemStatistics``. Keeping it pure lets the simulation tests (a population with
known abilities) check the numbers without building rows.

Definitions (Moodle's quiz statistics, where they have one):

- **facility**: the proportion of first attempts that were correct.
- **rest score**: a candidate's proportion correct on their *other* first attempts (every other
  question, any version). Leaving the item out stops it correlating with itself, which inflates
  discrimination on short records. Candidates with no other first attempt have none; they
  count in ``n``, facility, pick rates and time, not in anything ranked by ability.
- **discrimination**: the point-biserial (Pearson) correlation of correct (0/1) with the rest
  score over the ranked candidates.
- **upper-lower index**: facility in the top 27% by rest score minus facility in the bottom
  27% (Kelley's groups; ties in rest score are broken by the order given, i.e. learner id).
- **quintiles**: the ranked candidates in five groups of (near) equal size by rest score, the
  lowest ability first; ``by_quintile`` is the percent of each group that picked the option
  (null for an empty group, possible with fewer than five ranked candidates).
- an option's **point-biserial**: picking it (0/1) against the rest score. For a single best
  answer question the key's equals the item's discrimination.
- **median time**: the median of the reported seconds on the first attempt.

Flags (:class:`Thresholds`, settings ``QUALITY_*``), each raised only once enough answers back
it: ``too_hard`` (facility below 0.2) and ``too_easy`` (above 0.9) once ``n`` >= 30;
``low_discrimination`` (below 0.2, negative included) and ``miskey_suspected`` once the ranked
candidates number >= 50. Mis-key suspected means either

(a) a distractor that the top quintile picks more often than the key (than the least picked key
    of a multiple response question) and that candidates are drawn to by ability (its
    point-biserial positive and above the key's), or
(b) a key whose point-biserial is negative while a distractor's is positive.

Without the second condition of (a), an item too hard for nearly everyone was "mis-keyed"
whenever the top fifth's guesses on one distractor outnumbered its right answers (seen in a
3000-candidate simulation). The suspected option is the distractor with the highest
top-quintile pick rate among those meeting (a), else the one with the highest point-biserial
among those meeting (b).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt
from django.conf import settings

from apps.quality.models import ItemFlag

QUINTILES = 5
KELLEY_FRACTION = 0.27
DECIMALS = 4  # what the stored statistics keep; more is noise at any realistic n

FLAG_MISKEY = ItemFlag.MISKEY_SUSPECTED.value
FLAG_TOO_HARD = ItemFlag.TOO_HARD.value
FLAG_TOO_EASY = ItemFlag.TOO_EASY.value
FLAG_LOW_DISCRIMINATION = ItemFlag.LOW_DISCRIMINATION.value


@dataclass(frozen=True)
class Thresholds:
    """When a flag is raised. Defaults are Moodle's quiz statistics guidance; the minimum
    counts stop a handful of answers from labelling a question."""

    too_hard_below: float = 0.2
    too_easy_above: float = 0.9
    low_discrimination_below: float = 0.2
    min_n_facility: int = 30
    min_n_discrimination: int = 50
    min_n_miskey: int = 50

    @classmethod
    def from_settings(cls) -> Thresholds:
        return cls(
            too_hard_below=settings.QUALITY_TOO_HARD_BELOW,
            too_easy_above=settings.QUALITY_TOO_EASY_ABOVE,
            low_discrimination_below=settings.QUALITY_LOW_DISCRIMINATION_BELOW,
            min_n_facility=settings.QUALITY_MIN_N_FACILITY,
            min_n_discrimination=settings.QUALITY_MIN_N_DISCRIMINATION,
            min_n_miskey=settings.QUALITY_MIN_N_MISKEY,
        )


@dataclass(frozen=True)
class OptionSpec:
    """One option of the analysed version, in display order."""

    option_id: int
    is_key: bool


@dataclass(frozen=True)
class OptionStats:
    option_id: int
    is_key: bool
    picked_percent: int
    by_quintile: list[int | None]
    point_biserial: float | None

    def as_json(self) -> dict[str, Any]:
        """The stored and served shape (api-contract.md, "Staff: item quality")."""
        return {
            "option_id": self.option_id,
            "is_key": self.is_key,
            "picked_percent": self.picked_percent,
            "by_quintile": list(self.by_quintile),
            "point_biserial": self.point_biserial,
        }


@dataclass(frozen=True)
class VersionStats:
    n: int
    ranked: int  # candidates with a rest score
    facility: float | None
    discrimination: float | None
    upper_lower_index: float | None
    median_time_sec: float | None
    options: list[OptionStats]
    flags: list[str] = field(default_factory=list)
    suspected_option_id: int | None = None


FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def rest_scores(*, correct: Sequence[bool], totals: Sequence[tuple[int, int] | None]) -> FloatArray:
    """Each candidate's proportion correct on their other first attempts, from their totals
    over all first attempts ``(answered, correct)`` and this item's outcome; NaN when there is
    no other attempt or no total (a learner newer than the totals). Clamped to [0, 1] because
    totals and items are read at slightly different moments."""
    out = np.full(len(correct), np.nan)
    for i, (is_correct, total) in enumerate(zip(correct, totals, strict=True)):
        if total is None:
            continue
        answered, right = total
        others = answered - 1
        if others >= 1:
            out[i] = min(1.0, max(0.0, (right - int(is_correct)) / others))
    return out


def analyse_version(
    *,
    options: Sequence[OptionSpec],
    correct: Sequence[bool],
    rest: Sequence[float] | FloatArray,
    time_sec: Sequence[float],
    selections: Sequence[Collection[int] | None],
    thresholds: Thresholds | None = None,
) -> VersionStats:
    """Statistics and flags of one version from its candidates' first attempts (one entry per
    candidate in each sequence, same order). A selection of ``None`` (not found) counts in no
    option's pick rate but still in ``n``; option ids that are not the version's are ignored."""
    limits = thresholds or Thresholds.from_settings()
    n = len(correct)
    right = np.asarray(correct, dtype=bool)
    ability = np.asarray(rest, dtype=float)
    times = np.asarray(time_sec, dtype=float)
    column = {spec.option_id: j for j, spec in enumerate(options)}
    picks = np.zeros((n, len(options)), dtype=bool)
    for i, selected in enumerate(selections):
        for option_id in selected or ():
            j = column.get(option_id)
            if j is not None:
                picks[i, j] = True

    ranked_mask = ~np.isnan(ability)
    order = np.flatnonzero(ranked_mask)[np.argsort(ability[ranked_mask], kind="stable")]
    ranked = int(order.size)
    ranked_ability = ability[order]
    groups = np.array_split(order, QUINTILES) if ranked else []

    option_stats = [
        OptionStats(
            option_id=spec.option_id,
            is_key=spec.is_key,
            picked_percent=_percent(picks[:, j].mean()) if n else 0,
            by_quintile=[_percent(picks[g, j].mean()) if g.size else None for g in groups]
            or [None] * QUINTILES,
            point_biserial=_rounded(_pearson(picks[order, j], ranked_ability)),
        )
        for j, spec in enumerate(options)
    ]
    facility = float(right.mean()) if n else None
    discrimination = _pearson(right[order], ranked_ability)
    stats = VersionStats(
        n=n,
        ranked=ranked,
        facility=_rounded(facility),
        discrimination=_rounded(discrimination),
        upper_lower_index=_rounded(_upper_lower(right[order])),
        median_time_sec=float(np.median(times)) if n else None,
        options=option_stats,
    )
    top_rates = picks[groups[-1]].mean(axis=0) if ranked >= QUINTILES else None
    flags, suspected = _flags(stats, top_rates, limits)
    return replace(stats, flags=flags, suspected_option_id=suspected)


def _flags(
    stats: VersionStats, top_rates: FloatArray | None, limits: Thresholds
) -> tuple[list[str], int | None]:
    flags: list[str] = []
    suspected = None
    if stats.ranked >= limits.min_n_miskey:
        suspected = _suspected_miskey(stats.options, top_rates)
        if suspected is not None:
            flags.append(FLAG_MISKEY)
    if stats.facility is not None and stats.n >= limits.min_n_facility:
        if stats.facility < limits.too_hard_below:
            flags.append(FLAG_TOO_HARD)
        elif stats.facility > limits.too_easy_above:
            flags.append(FLAG_TOO_EASY)
    if (
        stats.discrimination is not None
        and stats.ranked >= limits.min_n_discrimination
        and stats.discrimination < limits.low_discrimination_below
    ):
        flags.append(FLAG_LOW_DISCRIMINATION)
    return flags, suspected


def _suspected_miskey(options: Sequence[OptionStats], top_rates: FloatArray | None) -> int | None:
    """The distractor that looks like the real key, or None (see the module docstring)."""
    keys = [j for j, o in enumerate(options) if o.is_key]
    distractors = [j for j, o in enumerate(options) if not o.is_key]
    if not keys or not distractors:
        return None

    def pb(j: int) -> float:
        value = options[j].point_biserial
        return -2.0 if value is None else value

    if top_rates is not None:
        weakest_key = min(float(top_rates[j]) for j in keys)
        key_pb = min(pb(j) for j in keys)
        # Drawn by ability, not merely guessed: on an item too hard for nearly everyone, the
        # top fifth's guesses can outnumber its right answers while the key still discriminates.
        favoured = [
            j for j in distractors if float(top_rates[j]) > weakest_key and pb(j) > max(0.0, key_pb)
        ]
        if favoured:
            best = max(favoured, key=lambda j: (float(top_rates[j]), pb(j), -j))
            return options[best].option_id
    if any(options[j].point_biserial is not None and pb(j) < 0 for j in keys):
        positive = [j for j in distractors if pb(j) > 0]
        if positive:
            return options[max(positive, key=lambda j: (pb(j), -j))].option_id
    return None


def _pearson(x: BoolArray | FloatArray, y: FloatArray) -> float | None:
    """Pearson's r (the point-biserial when ``x`` is 0/1); None without two values or without
    variance in either."""
    if x.size < 2:
        return None
    xc = x.astype(float) - x.mean()
    yc = y - y.mean()
    denominator = float(np.sqrt((xc * xc).sum() * (yc * yc).sum()))
    if denominator <= 1e-12:
        return None
    return float((xc * yc).sum() / denominator)


def _upper_lower(ranked_correct: BoolArray) -> float | None:
    """Facility of the top 27% minus the bottom 27% of candidates ordered by rest score."""
    size = round(KELLEY_FRACTION * ranked_correct.size)
    if size < 1:
        return None
    return float(ranked_correct[-size:].mean() - ranked_correct[:size].mean())


def _percent(fraction: float) -> int:
    """A proportion as a whole percent, rounded half up."""
    return int(np.floor(float(fraction) * 100 + 0.5))


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, DECIMALS)
