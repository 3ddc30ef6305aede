"""Candidates' problem reports on questions, and the editors resolving or reopening them."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.audit.models import AuditEvent
from apps.audit.services import record_event
from apps.core.exceptions import ValidationFailed
from apps.practice.exceptions import AlreadyReported
from apps.practice.models import QuestionReport, ReportReason, ReportStatus
from apps.practice.services.flags import require_published_question


@transaction.atomic
def report_question(
    *, user: User, question_id: int, reason: str, message: str = ""
) -> QuestionReport:
    """Files a problem report for the editors' queue. A user has at most one open report per
    question; "other" needs a message."""
    require_published_question(question_id)
    message = message.strip()
    if reason not in ReportReason.values:
        raise ValidationFailed(fields={"reason": ["Unknown reason."]})
    if reason == ReportReason.OTHER and not message:
        raise ValidationFailed(fields={"message": ["Describe the problem."]})
    try:
        # A partial unique constraint holds the rule, so a double click files one report.
        with transaction.atomic():
            return QuestionReport.objects.create(
                user=user, question_id=question_id, reason=reason, message=message
            )
    except IntegrityError as exc:
        raise AlreadyReported() from exc


def resolve_question_reports(*, report_ids: Iterable[int], by: User) -> int:
    """Marks open reports resolved by ``by`` (an editor); returns how many changed. Each
    resolution is in the audit trail."""
    return _move_reports(
        report_ids=report_ids, by=by, to=ReportStatus.RESOLVED, action="practice.report_resolved"
    )


def reopen_question_reports(*, report_ids: Iterable[int], by: User) -> int:
    """Puts resolved reports back in the queue; returns how many changed."""
    return _move_reports(
        report_ids=report_ids, by=by, to=ReportStatus.OPEN, action="practice.report_reopened"
    )


@transaction.atomic
def _move_reports(*, report_ids: Iterable[int], by: User, to: str, action: str) -> int:
    """Moves the reports that are in the other state to ``to`` (open <-> resolved) under row
    locks, each move audited; reports already there are left alone (a repeated click)."""
    source = ReportStatus.OPEN if to == ReportStatus.RESOLVED else ReportStatus.RESOLVED
    now = timezone.now()
    reports = list(
        QuestionReport.objects.select_for_update().filter(id__in=list(report_ids), status=source)
    )
    for report in reports:
        report.status = to
        report.resolved_at = now if to == ReportStatus.RESOLVED else None
        report.resolved_by = by if to == ReportStatus.RESOLVED else None
        report.save(update_fields=["status", "resolved_at", "resolved_by"])
        record_event(
            kind=AuditEvent.Kind.CONTENT,
            action=action,
            actor=by,
            target=report,
            before={"status": source},
            after={"status": to, "question_id": report.question_id},
        )
    return len(reports)
