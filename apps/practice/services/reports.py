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


@transaction.atomic
def resolve_question_reports(*, report_ids: Iterable[int], by: User) -> int:
    """Marks open reports resolved by ``by`` (an editor); returns how many changed. Each
    resolution is in the audit trail."""
    now = timezone.now()
    reports = list(
        QuestionReport.objects.select_for_update().filter(
            id__in=list(report_ids), status=ReportStatus.OPEN
        )
    )
    for report in reports:
        report.status = ReportStatus.RESOLVED
        report.resolved_at = now
        report.resolved_by = by
        report.save(update_fields=["status", "resolved_at", "resolved_by"])
        record_event(
            kind=AuditEvent.Kind.CONTENT,
            action="practice.report_resolved",
            actor=by,
            target=report,
            before={"status": ReportStatus.OPEN},
            after={"status": ReportStatus.RESOLVED, "question_id": report.question_id},
        )
    return len(reports)


@transaction.atomic
def reopen_question_reports(*, report_ids: Iterable[int], by: User) -> int:
    """Puts resolved reports back in the queue; returns how many changed."""
    reports = list(
        QuestionReport.objects.select_for_update().filter(
            id__in=list(report_ids), status=ReportStatus.RESOLVED
        )
    )
    for report in reports:
        report.status = ReportStatus.OPEN
        report.resolved_at = None
        report.resolved_by = None
        report.save(update_fields=["status", "resolved_at", "resolved_by"])
        record_event(
            kind=AuditEvent.Kind.CONTENT,
            action="practice.report_reopened",
            actor=by,
            target=report,
            before={"status": ReportStatus.RESOLVED},
            after={"status": ReportStatus.OPEN, "question_id": report.question_id},
        )
    return len(reports)
