"""The Rasch model, estimated by marginal maximum likelihood, and what it predicts.

Method (published, standard): Bock and Aitkin's EM algorithm for marginal maximum likelihood
(Psychometrika 46, 1981) over a fixed grid of abilities with a normal population, here for the
Rasch model (one difficulty per item, discrimination fixed at 1). Each item's difficulty has a
weak normal prior (MAP estimation, Mislevy 1986), so an item everyone got right still gets a
finite difficulty, shrunk towards the bank's mean in proportion to how little is known of it.
Abilities are expected a posteriori (EAP, Bock and Mislevy 1982) with the posterior standard
deviation as their standard error. Item fit is Wright and Masters' infit and outfit mean squares.

Why not a library: ``girth`` needs a dense persons-by-items matrix (a national bank answered
sparsely would need terabytes) and has not had a release since 2021; ``py-irt`` brings PyTorch
and Pyro into the runtime. The whole estimation here is a few sparse matrix products per
iteration (SciPy), is covered by a simulation test with known parameters, and fits the tier M
benchmark in the time and memory given in docs/benchmark.md.

Everything in this module is pure computation on arrays: no Django, no database.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.special import expit, logsumexp, ndtr

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# The ability grid: 61 nodes from -6 to 6 logits (0.2 apart). Every learner's likelihood is kept
# on these nodes, so the grid is part of the stored data: changing it means a full refit.
GRID: FloatArray = np.linspace(-6.0, 6.0, 61)
ITEM_PRIOR_SD = 2.0  # weak: a difficulty 2 logits from the bank's mean is ordinary


@dataclass(frozen=True)
class Responses:
    """First attempts as parallel arrays: ``person[r]`` answered ``item[r]``, ``correct[r]``.
    Persons and items are dense indices (0..n-1) the caller maps back to ids."""

    person: IntArray
    item: IntArray
    correct: npt.NDArray[np.bool_]
    n_persons: int
    n_items: int

    def __post_init__(self) -> None:
        if not (len(self.person) == len(self.item) == len(self.correct)):
            raise ValueError("person, item and correct must have the same length")


@dataclass(frozen=True)
class RaschFit:
    difficulty: FloatArray  # per item, logits
    difficulty_se: FloatArray
    n: IntArray  # first attempts per item
    infit: FloatArray  # per item, nan where the item has no responses
    outfit: FloatArray
    ability_sd: float  # the population's spread (its mean is 0 by definition of the scale)
    log_likelihood: FloatArray  # persons x GRID, without the population prior
    theta: FloatArray  # EAP per person
    theta_se: FloatArray
    iterations: int
    converged: bool


def _incidence(responses: Responses) -> tuple[sparse.csr_array, sparse.csr_array]:
    """Persons x items: every response (1), and the correct ones (1)."""
    shape = (responses.n_persons, responses.n_items)
    ones = np.ones(len(responses.person))
    answered = sparse.csr_array((ones, (responses.person, responses.item)), shape=shape)
    correct = sparse.csr_array(
        (responses.correct.astype(np.float64), (responses.person, responses.item)), shape=shape
    )
    return answered, correct


def response_log_likelihood(correct: bool | npt.ArrayLike, difficulty: npt.ArrayLike) -> FloatArray:
    """log P(response | theta) at every grid node, up to a term constant in theta; one row per
    response. What one more first attempt adds to a learner's stored log-likelihood."""
    b = np.atleast_1d(np.asarray(difficulty, dtype=np.float64))
    x = np.atleast_1d(np.asarray(correct, dtype=np.float64))
    return np.asarray(
        x[:, None] * GRID[None, :] - np.logaddexp(0.0, GRID[None, :] - b[:, None]),
        dtype=np.float64,
    )


def log_prior(ability_sd: float) -> FloatArray:
    """The population's normal density on the grid, normalised over the nodes (log)."""
    values = -0.5 * (GRID / ability_sd) ** 2
    return np.asarray(values - logsumexp(values), dtype=np.float64)


def posterior(log_likelihood: FloatArray, ability_sd: float) -> FloatArray:
    """Posterior weights on the grid (rows sum to 1) for one learner (1-D) or many (2-D)."""
    log_post = log_likelihood + log_prior(ability_sd)
    return np.asarray(np.exp(log_post - logsumexp(log_post, axis=-1, keepdims=True)))


def eap(weights: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Posterior mean and standard deviation of ability from grid weights."""
    mean = weights @ GRID
    var = weights @ (GRID**2) - mean**2
    return np.asarray(mean), np.sqrt(np.maximum(var, 0.0))


def fit_rasch(
    responses: Responses, *, max_iterations: int = 500, tolerance: float = 1e-3
) -> RaschFit:
    """Marginal maximum likelihood (EM over the grid) for item difficulties and the population
    spread, then EAP abilities. Converged when no difficulty moves more than ``tolerance``."""
    answered, correct = _incidence(responses)
    person_correct = np.asarray(correct.sum(axis=1)).ravel()
    item_n = np.asarray(answered.sum(axis=0)).ravel()
    item_correct = np.asarray(correct.sum(axis=0)).ravel()
    # Start from the items' facilities on the logit scale.
    facility = (item_correct + 0.5) / (item_n + 1.0)
    b = -np.log(facility / (1.0 - facility))
    ability_sd = 1.0
    answered_t = answered.T.tocsr()
    converged = False
    iteration = 0
    weights = np.empty((responses.n_persons, len(GRID)))
    for iteration in range(1, max_iterations + 1):  # noqa: B007 (reported)
        # E step: each person's posterior over the grid given the current difficulties.
        softplus = np.logaddexp(0.0, GRID[None, :] - b[:, None])  # items x nodes
        loglik = person_correct[:, None] * GRID[None, :] - answered @ softplus
        weights = posterior(loglik, ability_sd)
        expected_n = answered_t @ weights  # items x nodes: examinees expected at each node
        # M step: Newton steps on each difficulty (vectorised), with the weak prior.
        prior_mean = float(np.average(b, weights=item_n)) if item_n.sum() else 0.0
        previous = b.copy()
        for _ in range(3):
            p = expit(GRID[None, :] - b[:, None])
            gradient = (
                (expected_n * p).sum(axis=1) - item_correct - (b - prior_mean) / ITEM_PRIOR_SD**2
            )
            hessian = -(expected_n * p * (1.0 - p)).sum(axis=1) - 1.0 / ITEM_PRIOR_SD**2
            b = b - gradient / hessian
        # The population's spread (mean fixed at 0: it defines the scale).
        previous_sd = ability_sd
        if responses.n_persons:
            ability_sd = float(np.sqrt(max(float(np.mean(weights @ GRID**2)), 0.05)))
        moved = max(np.max(np.abs(b - previous), initial=0.0), abs(ability_sd - previous_sd))
        if moved < tolerance:
            converged = True
            break
    softplus = np.logaddexp(0.0, GRID[None, :] - b[:, None])
    loglik = person_correct[:, None] * GRID[None, :] - answered @ softplus
    weights = posterior(loglik, ability_sd)
    theta, theta_se = eap(weights)
    expected_n = answered_t @ weights
    p = expit(GRID[None, :] - b[:, None])
    information = (expected_n * p * (1.0 - p)).sum(axis=1) + 1.0 / ITEM_PRIOR_SD**2
    infit, outfit = item_fit(responses, difficulty=b, theta=theta)
    return RaschFit(
        difficulty=b,
        difficulty_se=1.0 / np.sqrt(information),
        n=item_n.astype(np.int64),
        infit=infit,
        outfit=outfit,
        ability_sd=ability_sd,
        log_likelihood=np.asarray(loglik),
        theta=theta,
        theta_se=theta_se,
        iterations=iteration,
        converged=converged,
    )


def item_fit(
    responses: Responses, *, difficulty: FloatArray, theta: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Infit (information-weighted) and outfit (unweighted) mean squares per item: about 1
    when the item behaves as the model expects; nan for an item with no responses."""
    p = expit(theta[responses.person] - difficulty[responses.item])
    variance = p * (1.0 - p)
    residual2 = (responses.correct.astype(np.float64) - p) ** 2
    count = np.bincount(responses.item, minlength=responses.n_items).astype(np.float64)
    sum_variance = np.bincount(responses.item, weights=variance, minlength=responses.n_items)
    sum_residual2 = np.bincount(responses.item, weights=residual2, minlength=responses.n_items)
    sum_z2 = np.bincount(
        responses.item, weights=residual2 / np.maximum(variance, 1e-9), minlength=responses.n_items
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        infit = np.where(sum_variance > 0, sum_residual2 / sum_variance, np.nan)
        outfit = np.where(count > 0, sum_z2 / count, np.nan)
    return infit, outfit


# --- predictions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PaperCurve:
    """A paper's score at each grid node: the expected number correct and its variance when the
    paper's questions are drawn to its blueprint from the bank (each draw a Bernoulli trial with
    the category's mean probability of success at that ability)."""

    questions: int
    mean: FloatArray  # per node
    variance: FloatArray  # per node


def category_curve(difficulties: Sequence[float]) -> FloatArray:
    """Per node: the mean probability of a right answer on these questions."""
    b = np.asarray(difficulties, dtype=np.float64)
    return np.asarray(expit(GRID[None, :] - b[:, None]).mean(axis=0))


def paper_curve(
    blueprint: Mapping[int, int], difficulties: Mapping[int, Sequence[float]]
) -> PaperCurve:
    """``blueprint`` maps a category to its number of questions on the paper; ``difficulties``
    the category to the calibrated difficulties of its questions in the bank. A category with
    none takes the mean curve of the paper's other categories (weighted by their counts)."""
    known: dict[int, FloatArray] = {}
    for category, items in difficulties.items():
        if len(items) and category in blueprint:
            known[category] = category_curve(items)
    if known:
        fallback = np.average(
            np.stack(list(known.values())),
            axis=0,
            weights=[blueprint[c] for c in known],
        )
    else:
        fallback = expit(GRID)
    mean = np.zeros_like(GRID)
    variance = np.zeros_like(GRID)
    for category, count in blueprint.items():
        pbar = known.get(category, fallback)
        mean += count * pbar
        variance += count * pbar * (1.0 - pbar)
    return PaperCurve(questions=int(sum(blueprint.values())), mean=mean, variance=variance)


def _at_least(threshold: float, mean: FloatArray, sd: FloatArray) -> FloatArray:
    """P(score >= threshold) under a normal approximation with a continuity correction."""
    return np.asarray(ndtr((mean - (np.ceil(threshold - 1e-9) - 0.5)) / np.maximum(sd, 1e-9)))


def probability_at_least(curve: PaperCurve, percent: float) -> FloatArray:
    """Per node: the probability of scoring at least ``percent`` on the paper."""
    return _at_least(percent / 100.0 * curve.questions, curve.mean, np.sqrt(curve.variance))


def pass_probability_curve(
    curves: Sequence[PaperCurve], minimums: Sequence[float], combined_percent: float
) -> FloatArray:
    """Per node: P(every paper at or above its minimum and the combined mark at or above the
    combined pass mark). Papers are independent given ability; for two papers the joint
    probability is integrated over the first paper's score, exactly enough (400 points)."""
    if len(curves) == 1:
        curve = curves[0]
        bound = max(minimums[0], combined_percent)
        return probability_at_least(curve, bound)
    if len(curves) != 2:
        raise ValueError("Part A has two papers")
    first, second = curves
    total = first.questions + second.questions
    combined_threshold = np.ceil(combined_percent / 100.0 * total - 1e-9) - 0.5
    first_threshold = np.ceil(minimums[0] / 100.0 * first.questions - 1e-9) - 0.5
    second_threshold = np.ceil(minimums[1] / 100.0 * second.questions - 1e-9) - 0.5
    sd1 = np.sqrt(np.maximum(first.variance, 1e-9))
    sd2 = np.sqrt(np.maximum(second.variance, 1e-9))
    # Integrate over S1 from its minimum to its top; S2 must clear both its minimum and the
    # combined mark less S1.
    points = np.linspace(0.0, 1.0, 401)
    low = np.full_like(GRID, first_threshold)
    high = np.maximum(first.mean + 8 * sd1, low + 1e-6)
    s1 = low[:, None] + (high - low)[:, None] * points[None, :]  # nodes x points
    density = np.exp(-0.5 * ((s1 - first.mean[:, None]) / sd1[:, None]) ** 2) / (
        sd1[:, None] * np.sqrt(2 * np.pi)
    )
    needed = np.maximum(second_threshold, combined_threshold - s1)
    tail = ndtr((second.mean[:, None] - needed) / sd2[:, None])
    integrand = density * tail
    return np.asarray(np.trapezoid(integrand, s1, axis=1).clip(0.0, 1.0))


def mixture_interval(
    weights: FloatArray, curve: PaperCurve, coverage: float = 0.8
) -> tuple[float, float, float]:
    """(mean, low, high) of the paper percentage under the posterior: a mixture over the grid
    of each node's score distribution. The interval is central with the given coverage."""
    n = curve.questions
    mean_pct = curve.mean / n * 100.0
    sd_pct = np.sqrt(np.maximum(curve.variance, 1e-9)) / n * 100.0
    xs = np.linspace(0.0, 100.0, 2001)
    cdf = (weights[:, None] * ndtr((xs[None, :] - mean_pct[:, None]) / sd_pct[:, None])).sum(axis=0)
    tail = (1.0 - coverage) / 2.0
    low = float(xs[min(int(np.searchsorted(cdf, tail)), len(xs) - 1)])
    high = float(xs[min(int(np.searchsorted(cdf, 1.0 - tail)), len(xs) - 1)])
    return float(weights @ mean_pct), low, high
