"""A population of simulated candidates with known abilities answering a bank of single best
answer items under a two-parameter logistic (2PL) model, for the item analysis tests.

Candidate j knows item i with probability ``1 / (1 + exp(-a_i (theta_j - b_i)))``; one who knows
it picks the TRUE answer, one who does not picks a distractor (item-specific weights). The STORED
key is what grading used: the true answer, except on a mis-keyed item, where the key is another
option; the recorded correctness is "picked the stored key", as the platform would have graded.

Every item has five options, indices 0-4 (A-E). Item 0 is a correct, discriminating item (true
answer A, a = 1.8, b = 0); item 1 is mis-keyed: the truth is C (index 2), the stored key is A
(index 0), and candidates who do not know the answer are drawn to A.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

OPTIONS = 5
GOOD_ITEM = 0
MISKEYED_ITEM = 1
MISKEY_TRUE = 2  # C
MISKEY_STORED = 0  # A
GOOD_A, GOOD_B = 1.8, 0.0


@dataclass(frozen=True)
class Population:
    theta: npt.NDArray[np.float64]  # (candidates,)
    a: npt.NDArray[np.float64]  # (items,)
    b: npt.NDArray[np.float64]
    know_probability: npt.NDArray[np.float64]  # (candidates, items)
    picks: npt.NDArray[np.int64]  # option index picked, (candidates, items)
    true_key: npt.NDArray[np.int64]  # (items,)
    stored_key: npt.NDArray[np.int64]
    correct: npt.NDArray[np.bool_]  # graded against the stored key

    @property
    def candidates(self) -> int:
        return int(self.theta.size)

    def rest(self, item: int) -> npt.NDArray[np.float64]:
        """Each candidate's proportion correct on the other items (every item is a first
        attempt here)."""
        right = self.correct.astype(float)
        return (right.sum(axis=1) - right[:, item]) / (right.shape[1] - 1)


def simulate(*, seed: int, candidates: int = 600, items: int = 40) -> Population:
    rng = np.random.default_rng(seed)
    theta = rng.normal(0.0, 1.0, candidates)
    a = rng.uniform(0.8, 2.0, items)
    b = rng.normal(0.0, 0.8, items)
    a[GOOD_ITEM], b[GOOD_ITEM] = GOOD_A, GOOD_B
    a[MISKEYED_ITEM], b[MISKEYED_ITEM] = 1.6, -0.2
    true_key = rng.integers(0, OPTIONS, items)
    true_key[GOOD_ITEM] = 0
    true_key[MISKEYED_ITEM] = MISKEY_TRUE
    stored_key = true_key.copy()
    stored_key[MISKEYED_ITEM] = MISKEY_STORED

    know_probability = 1.0 / (1.0 + np.exp(-a * (theta[:, None] - b)))
    knows = rng.random((candidates, items)) < know_probability
    picks = np.empty((candidates, items), dtype=np.int64)
    for i in range(items):
        distractors = [o for o in range(OPTIONS) if o != true_key[i]]
        weights = rng.uniform(0.5, 1.5, len(distractors))
        if i == MISKEYED_ITEM:  # the wrong key is the tempting answer
            weights = np.array([3.0 if o == MISKEY_STORED else 1.0 for o in distractors])
        guesses = rng.choice(distractors, size=candidates, p=weights / weights.sum())
        picks[:, i] = np.where(knows[:, i], true_key[i], guesses)
    correct = picks == stored_key[None, :]
    return Population(theta, a, b, know_probability, picks, true_key, stored_key, correct)


def population_point_biserial(*, a: float, b: float, seed: int = 99, size: int = 400_000) -> float:
    """The correlation of knowing an item with ability in the whole population (a large
    Monte Carlo sample): the item's discrimination against a perfect ability measure."""
    rng = np.random.default_rng(seed)
    theta = rng.normal(0.0, 1.0, size)
    knows = rng.random(size) < 1.0 / (1.0 + np.exp(-a * (theta - b)))
    return float(np.corrcoef(knows, theta)[0, 1])
