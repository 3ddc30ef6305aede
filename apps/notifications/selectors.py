"""Reads for notifications: the inbox, preferences, broadcast audiences and the learner facts
that reminders and weekly summaries are built from (read from analytics, a lower layer)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import F, QuerySet
from django.db.models.functions import Coalesce, Greatest

from apps.accounts.models import Role, User
from apps.analytics.selectors import (
    LearnerStats,
    answered_between,
    category_practiser_ids,
    last_study_subqueries,
    learner_ids_active_between,
    learner_stats,
    score_percent,
)
from apps.core.exceptions import NotFound
from apps.notifications.models import (
    EMAIL_FIELD,
    IN_APP_FIELD,
    Broadcast,
    Notification,
    NotificationPreference,
)
from apps.recommendations.selectors import suggested_topics

# --- Inbox -----------------------------------------------------------------------------------


def notifications_for(*, user: User) -> QuerySet[Notification]:
    """The user's notifications: unread first, then newest first (served by one index)."""
    return Notification.objects.filter(user=user).order_by("is_read", "-created_at", "-id")


def unread_count_for(*, user: User) -> int:
    return Notification.objects.filter(user=user, is_read=False).count()


def notification_for(*, user: User, notification_id: int) -> Notification:
    """One of the user's notifications; another user's is simply not found."""
    notification = Notification.objects.filter(user=user, pk=notification_id).first()
    if notification is None:
        raise NotFound("Notification not found.")
    return notification


# --- Preferences -----------------------------------------------------------------------------


def preferences_for(*, user: User) -> NotificationPreference:
    """The user's preferences; an unsaved row with the defaults when they never chose."""
    preference = NotificationPreference.objects.filter(user=user).first()
    return preference or NotificationPreference(user=user)


def wants_in_app(preference: NotificationPreference, kind: str) -> bool:
    field = IN_APP_FIELD.get(kind)
    return True if field is None else bool(getattr(preference, field))


def wants_email(preference: NotificationPreference, kind: str) -> bool:
    field = EMAIL_FIELD.get(kind)
    return True if field is None else bool(getattr(preference, field))


_DEFAULTS: dict[str, bool] = {
    field.name: bool(field.get_default())
    for field in NotificationPreference._meta.concrete_fields
    if field.get_internal_type() == "BooleanField"
}


def _default_of(field: str) -> bool:
    return _DEFAULTS[field]


# --- Broadcast audiences ---------------------------------------------------------------------


def audience_of(*, broadcast: Broadcast) -> QuerySet[User]:
    """The active users a broadcast is addressed to (before preferences)."""
    users = User.objects.filter(is_active=True)
    audience = broadcast.audience
    if audience == Broadcast.Audience.ALL:
        return users
    if audience == Broadcast.Audience.ROLE:
        return users.filter(role=broadcast.role)
    if audience == Broadcast.Audience.USER:
        assert broadcast.target_user_id is not None  # nosec B101 # model constraint
        return users.filter(pk=broadcast.target_user_id)
    if audience == Broadcast.Audience.CATEGORY_PRACTISERS:
        assert broadcast.category_id is not None  # nosec B101 # model constraint
        return users.filter(pk__in=category_practiser_ids(category_id=broadcast.category_id))
    raise ValueError(f"unknown audience {audience!r}")


@dataclass(frozen=True)
class BroadcastTarget:
    user_id: int
    in_app: bool
    email: bool


def broadcast_targets(
    *, broadcast: Broadcast, after_user_id: int, limit: int
) -> list[BroadcastTarget]:
    """The next ``limit`` targets with an id above ``after_user_id`` (keyset), in id order,
    with whether each wants the broadcast's kind in-app and (if it is emailed) by email.

    One query per batch: preferences come through a LEFT JOIN; users without a preference row
    get the defaults.
    """
    in_app_field = IN_APP_FIELD.get(broadcast.kind)
    email_field = EMAIL_FIELD.get(broadcast.kind)
    fields: list[str] = ["pk"]
    if in_app_field:
        fields.append(f"notification_preference__{in_app_field}")
    if email_field and broadcast.send_email:
        fields.append(f"notification_preference__{email_field}")
    rows: list[tuple[Any, ...]] = list(
        audience_of(broadcast=broadcast)
        .filter(pk__gt=after_user_id)
        .order_by("pk")
        .values_list(*fields)[:limit]
    )
    targets = []
    for row in rows:
        values = iter(row[1:])
        in_app = True
        if in_app_field:
            chosen = next(values)
            in_app = _default_of(in_app_field) if chosen is None else bool(chosen)
        email = False
        if broadcast.send_email:
            email = True
            if email_field:
                chosen = next(values)
                email = _default_of(email_field) if chosen is None else bool(chosen)
        targets.append(BroadcastTarget(user_id=row[0], in_app=in_app, email=email))
    return targets


# --- Learner facts for reminders and summaries -----------------------------------------------


def candidates() -> QuerySet[User]:
    """Active candidates (role ``user``): the audience of study reminders and summaries."""
    return User.objects.filter(is_active=True, role=Role.USER)


def candidates_with_last_activity() -> QuerySet[User]:
    """Candidates annotated with ``last_activity_at``: the latest of their last answered
    question (analytics ``CategoryProgress.last_practiced_at``), their last reading heartbeat
    (``LearnerState.last_heartbeat_at``) and, for someone who never studied, the moment they
    joined. Logging in without studying does not count: reminders are about studying.
    """
    last_answer, last_heartbeat = last_study_subqueries()
    # Each part falls back to date_joined: GREATEST must never see a NULL (portable).
    return candidates().annotate(
        last_activity_at=Greatest(
            Coalesce(last_answer, F("date_joined")),
            Coalesce(last_heartbeat, F("date_joined")),
        )
    )


def inactive_candidates(*, inactive_since: datetime) -> QuerySet[User]:
    """Candidates whose last study activity is at or before ``inactive_since``, by id."""
    annotated = candidates_with_last_activity()
    return annotated.filter(last_activity_at__lte=inactive_since).order_by("pk")  # type: ignore[misc]


@dataclass(frozen=True)
class WeekTotals:
    answered: int
    correct: int

    @property
    def accuracy_percent(self) -> int | None:
        if not self.answered:
            return None
        return score_percent(correct=self.correct, answered=self.answered)


def week_totals(*, user_id: int, first_day: date, last_day: date) -> WeekTotals:
    """Answered and correct on the learner's diary days ``first_day``..``last_day``."""
    answered, correct = answered_between(user_id=user_id, first_day=first_day, last_day=last_day)
    return WeekTotals(answered=answered, correct=correct)


def active_candidate_ids_between(*, first_day: date, last_day: date) -> QuerySet[User, int]:
    """Candidates who answered anything on the diary days ``first_day``..``last_day``."""
    active = learner_ids_active_between(first_day=first_day, last_day=last_day)
    return candidates().filter(pk__in=active).order_by("pk").values_list("pk", flat=True)


@dataclass(frozen=True)
class TopicScore:
    category: str
    category_slug: str
    answered: int
    score_percent: int


WEAKEST_MIN_ANSWERED = 5


def weakest_topics(
    stats: LearnerStats, *, min_answered: int = WEAKEST_MIN_ANSWERED, limit: int = 3
) -> list[TopicScore]:
    """The lowest-scoring active categories among those with enough answers to judge."""
    judged = [c for c in stats.categories if c.answered >= min_answered]
    judged.sort(key=lambda c: (c.correct / c.answered, -c.answered, c.order, c.category_id))
    return [
        TopicScore(
            category=c.name,
            category_slug=c.slug,
            answered=c.answered,
            score_percent=c.score_percent,
        )
        for c in judged[:limit]
    ]


@dataclass(frozen=True)
class Suggestion:
    category: str
    category_slug: str
    reason: str
    text: str
    expected_gain_marks: float | None = None

    @property
    def link(self) -> str:
        return f"/practice?category={self.category_slug}"

    def as_context(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "category_slug": self.category_slug,
            "reason": self.reason,
            "text": self.text,
            "link": self.link,
            "expected_gain_marks": self.expected_gain_marks,
        }


_SUGGESTION_TEXT = {
    "Low Score": "Practise {category}: you score {score}% there.",
    "Needs Review": "Review {category}: you have not practised it for a while.",
    "Not Started": "Start {category}: you have not practised it yet.",
    "Keep Practising": "Keep practising {category} ({score}% so far).",
}


def suggestion_for(*, user_id: int, stats: LearnerStats | None = None) -> Suggestion | None:
    """The learner's best suggested topic, as the dashboard shows it first (ranked by expected
    marks gained, ``apps.recommendations``), phrased for a message with its reason and, when
    there is one, the gain; None if there is none."""
    topics = suggested_topics(user_id=user_id, stats=stats, limit=1)
    if not topics:
        return None
    topic = topics[0]
    template = _SUGGESTION_TEXT.get(topic["reason"], "Practise {category} next.")
    text = template.format(category=topic["category"], score=topic["score_percent"])
    gain = (topic.get("evidence") or {}).get("expected_gain_marks")
    if gain:
        text += f" An hour there is expected to gain {gain:.1f} marks on Part A."
    return Suggestion(
        category=topic["category"],
        category_slug=topic["category_slug"],
        reason=topic["reason"],
        text=text,
        expected_gain_marks=gain,
    )


@dataclass(frozen=True)
class WeeklySummary:
    week_start: date
    week: WeekTotals
    previous: WeekTotals
    weakest: list[TopicScore]
    suggestion: Suggestion | None

    @property
    def answered_change(self) -> int:
        return self.week.answered - self.previous.answered

    @property
    def accuracy_change(self) -> int | None:
        """Percentage points versus the week before; None unless both weeks have answers."""
        if self.week.accuracy_percent is None or self.previous.accuracy_percent is None:
            return None
        return self.week.accuracy_percent - self.previous.accuracy_percent

    @property
    def trend(self) -> str:
        """``up``, ``down``, ``steady`` or ``new`` (nothing to compare with)."""
        change = self.accuracy_change
        if change is None:
            return "new"
        if change > 0:
            return "up"
        return "down" if change < 0 else "steady"

    def as_context(self) -> dict[str, Any]:
        return {
            "week_start": self.week_start,
            "week_end": self.week_start + timedelta(days=6),
            "answered": self.week.answered,
            "correct": self.week.correct,
            "accuracy_percent": self.week.accuracy_percent,
            "previous_answered": self.previous.answered,
            "previous_accuracy_percent": self.previous.accuracy_percent,
            "answered_change": self.answered_change,
            "accuracy_change": self.accuracy_change,
            "accuracy_change_abs": abs(self.accuracy_change or 0),
            "trend": self.trend,
            "weakest_topics": [
                {
                    "category": t.category,
                    "category_slug": t.category_slug,
                    "answered": t.answered,
                    "score_percent": t.score_percent,
                }
                for t in self.weakest
            ],
            "suggestion": self.suggestion.as_context() if self.suggestion else None,
        }


def weekly_summary_for(*, user_id: int, week_start: date) -> WeeklySummary:
    """The learner's week from Monday ``week_start`` (their own diary days) compared with the
    week before."""
    stats = learner_stats(user_id=user_id)
    return WeeklySummary(
        week_start=week_start,
        week=week_totals(
            user_id=user_id, first_day=week_start, last_day=week_start + timedelta(days=6)
        ),
        previous=week_totals(
            user_id=user_id,
            first_day=week_start - timedelta(days=7),
            last_day=week_start - timedelta(days=1),
        ),
        weakest=weakest_topics(stats),
        suggestion=suggestion_for(user_id=user_id, stats=stats),
    )


# --- Personal data (GDPR export) -----------------------------------------------------------


def personal_data(*, user_id: int) -> dict[str, Any]:
    """The user's inbox, delivery preferences and the ledger of messages sent to them,
    JSON-ready. Three queries."""
    from apps.notifications.models import ReminderLog

    preference = NotificationPreference.objects.filter(user_id=user_id).first()
    preference_fields = [
        f.name
        for f in NotificationPreference._meta.get_fields()
        if f.concrete and f.name not in ("id", "user")
    ]
    return {
        "notifications": [
            {
                "id": n.pk,
                "title": n.title,
                "body": n.body,
                "kind": n.kind,
                "link": n.link,
                "is_read": n.is_read,
                "read_at": n.read_at.isoformat() if n.read_at else None,
                "created_at": n.created_at.isoformat(),
            }
            for n in Notification.objects.filter(user_id=user_id).order_by("created_at", "id")
        ],
        "preferences": None
        if preference is None
        else {
            name: (value.isoformat() if isinstance(value, datetime) else value)
            for name in preference_fields
            for value in [getattr(preference, name)]
        },
        "messages_sent": [
            {
                "kind": r.kind,
                "key": r.key,
                "sent_at": r.sent_at.isoformat(),
                "emailed_at": r.emailed_at.isoformat() if r.emailed_at else None,
            }
            for r in ReminderLog.objects.filter(user_id=user_id).order_by("sent_at", "id")
        ],
    }
