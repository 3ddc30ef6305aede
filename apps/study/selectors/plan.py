"""The plan to the exam date: what is left to see, how fast, and whether that fits the limits.

* **Days left** are the candidate's study days before the sitting: from today (their timezone)
  to the day before the exam, so a sitting tomorrow leaves one. Never negative.
* **Unseen remaining** are the questions a candidate can be asked that they have never answered
  in practice (no review card), in all and per category of the Part A blueprint
  (``apps.exams.selectors.standards.part_a_standard``).
* **Daily new target** is the unseen remaining spread evenly over the days left (rounded up);
  with no day left, all of them.
* **Review forecast** is how many of the candidate's cards fall due on each of the next
  :data:`FORECAST_DAYS` days (the overdue ones on today), from the schedule as it stands;
  ``forecast_review_load`` is their daily mean, rounded up.
* **On track** when there is a day left and both the daily new target and the forecast review
  load fit within the candidate's daily limits: doing each day's ``today`` session is then
  enough to cover the bank by the sitting.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Count, Exists, OuterRef
from django.utils import timezone

from apps.accounts.models import User
from apps.exams.selectors.standards import part_a_standard
from apps.practice.models import ReviewCard
from apps.practice.selectors import local_day, study_settings_of
from apps.questions.selectors import published_questions

FORECAST_DAYS = 7


@dataclass(frozen=True)
class CategoryPlan:
    category_id: int
    category_slug: str
    category: str
    blueprint_questions: int
    unseen_remaining: int


@dataclass(frozen=True)
class ForecastDay:
    date: date
    reviews: int


@dataclass(frozen=True)
class StudyPlan:
    exam_sitting: date
    days_left: int
    unseen_remaining: int
    daily_new_target: int
    daily_new_limit: int
    forecast_review_load: int
    daily_review_limit: int
    on_track: bool
    by_category: list[CategoryPlan] = field(default_factory=list)
    review_forecast: list[ForecastDay] = field(default_factory=list)


def unseen_remaining_by_category(*, user_id: int) -> dict[int, int]:
    """``{category_id: questions a candidate can be asked that the user has never answered in
    practice}``; a category with none left is absent. One query."""
    mine = ReviewCard.objects.filter(user_id=user_id, question_id=OuterRef("pk"))
    return dict(
        published_questions()
        .filter(~Exists(mine))
        .order_by()
        .values("category_id")
        .annotate(n=Count("id"))
        .values_list("category_id", "n")
    )


def review_forecast(*, user: User, now: datetime, days: int = FORECAST_DAYS) -> list[ForecastDay]:
    """Cards of the user falling due on each of the next ``days`` days of their calendar, the
    overdue ones on today. One query reading the cards due before the window ends."""
    settings = study_settings_of(user)
    today = local_day(settings.zone, now)
    end = today.end + timedelta(days=days - 1)
    counts = [0] * days
    dues = ReviewCard.objects.filter(
        user_id=user.pk, due__lt=end, question_id__in=published_questions().values("id")
    ).values_list("due", flat=True)
    for due in dues:
        offset = max(0, (timezone.localtime(due, settings.zone).date() - today.date).days)
        if offset < days:
            counts[offset] += 1
    return [
        ForecastDay(date=today.date + timedelta(days=i), reviews=n) for i, n in enumerate(counts)
    ]


def plan_for(*, user: User, now: datetime | None = None) -> StudyPlan | None:
    """The user's plan to their ``exam_sitting`` (see the module docstring); ``None`` without
    one. A fixed number of queries (the unseen per category, the forecast, the blueprint's)."""
    settings = study_settings_of(user)
    if settings.exam_sitting is None:
        return None
    now = now or timezone.now()
    today = local_day(settings.zone, now).date
    days_left = max(0, (settings.exam_sitting - today).days)
    unseen = unseen_remaining_by_category(user_id=user.pk)
    total_unseen = sum(unseen.values())
    target = math.ceil(total_unseen / days_left) if days_left else total_unseen
    forecast = review_forecast(user=user, now=now)
    load = math.ceil(sum(d.reviews for d in forecast) / len(forecast)) if forecast else 0
    blueprint: dict[int, int] = {}
    slugs: dict[int, str] = {}
    names: dict[int, str] = {}
    for paper in part_a_standard().papers:
        for category_id, count in paper.blueprint.items():
            blueprint[category_id] = blueprint.get(category_id, 0) + count
        slugs.update(paper.category_slugs)
        names.update(paper.category_names)
    by_category = sorted(
        (
            CategoryPlan(
                category_id=cid,
                category_slug=slugs[cid],
                category=names[cid],
                blueprint_questions=count,
                unseen_remaining=unseen.get(cid, 0),
            )
            for cid, count in blueprint.items()
        ),
        key=lambda c: (-c.blueprint_questions, c.category_slug),
    )
    return StudyPlan(
        exam_sitting=settings.exam_sitting,
        days_left=days_left,
        unseen_remaining=total_unseen,
        daily_new_target=target,
        daily_new_limit=settings.daily_new_limit,
        forecast_review_load=load,
        daily_review_limit=settings.daily_review_limit,
        on_track=days_left > 0
        and target <= settings.daily_new_limit
        and load <= settings.daily_review_limit,
        by_category=by_category,
        review_forecast=forecast,
    )
