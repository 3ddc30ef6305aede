"""The port through which practice learns which questions a candidate's open exam holds.

A mock's score feeds readiness and percentiles, so while a candidate's timed exam takes answers
practice must not reveal the key of any question in it: it leaves them out of every draw and
refuses to grade them. Practice and exams sit side by side in the layer order and may not
import each other, so practice asks through this port and exams provides the answer (in its
``AppConfig.ready``).

The answer to one practice question is the hottest write and reads once (apps/practice/
statements.py); :meth:`HeldOutQuestions.holding` therefore gives a query to embed in that one
read rather than an answer that would cost a statement of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from apps.core.ports import Port

PARAM_PREFIX = "held_"
"""Every parameter of a :class:`HeldOutQuery` starts with this, so it never clashes with those
of the statement that embeds it."""


@dataclass(frozen=True)
class HeldOutQuery:
    """SQL of a query with a row exactly when the question is held out, and its parameters
    (named, ``%(held_...)s``). The text is the same for every call, so a caller may build the
    statement that embeds it once and reuse it."""

    sql: str
    params: Mapping[str, Any]


class HeldOutQuestions(Protocol):
    def question_ids(self, *, user_id: int, at: datetime) -> set[int]:
        """The questions of the user's exams that take answers at ``at`` (one query)."""
        ...

    def holding(self, *, user_id: int, question_id: int, at: datetime) -> HeldOutQuery:
        """The query for ``EXISTS (...)``: is ``question_id`` in one of the user's exams that
        take answers at ``at``?"""
        ...


held_out_questions: Port[HeldOutQuestions] = Port(
    "questions.held_out",
    description="Questions of a candidate's exams that take answers (exams).",
)
