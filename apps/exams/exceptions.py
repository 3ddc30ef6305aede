"""The conflicts an exam can run into; the core exception handler turns them into 409s."""

from __future__ import annotations

from apps.core.exceptions import Conflict


class TemplateUnfillable(Conflict):
    code = "template_unfillable"
    default_message = "The question bank cannot fill this exam template at the moment."


class ExamExpired(Conflict):
    code = "exam_expired"
    default_message = "The time for this exam is over; answers are no longer accepted."


class ExamSubmitted(Conflict):
    code = "exam_submitted"
    default_message = "This exam has been submitted; answers can no longer be changed."


class ExamNotSubmitted(Conflict):
    code = "exam_not_submitted"
    default_message = "The review is available once the exam has been submitted."


class EventLimitReached(Conflict):
    code = "event_limit_reached"
    default_message = "This exam session has recorded as many integrity events as it keeps."
