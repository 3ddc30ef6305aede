"""The editors' workbench in Django Admin (editors and admins by role; other staff get 403).

- **Quality queue** (``/admin/quality/itemstatistics/queue/``): flagged questions and questions
  with open candidate reports, sortable, filtered by flag.
- **Staff overview** (``.../overview/``, linked from the admin index): answers per day, the
  weakest questions, open reports and flagged items, with charts.
- **The question page**: the question admin is re-registered as a subclass that adds, below the
  form, the statistics per version with the quintile chart, the open reports (resolvable there),
  the version history with a diff, and the re-key form, which posts to a view that calls
  :func:`apps.quality.services.regrade.rekey_and_regrade`.

The pages and their data are in :mod:`apps.quality.workbench`; this module wires them in.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.views.decorators.http import require_POST

from apps.accounts.models import User
from apps.audit.admin_mixins import is_content_editor
from apps.core.exceptions import DomainError
from apps.practice.services import resolve_question_reports
from apps.quality.models import ItemStatistics
from apps.quality.services.analysis import request_item_analysis
from apps.quality.services.regrade import rekey_and_regrade
from apps.quality.workbench import pages
from apps.quality.workbench.question_page import workbench_context
from apps.questions.admin import QuestionAdmin
from apps.questions.models import Question

# The index gains a "Workbench" box (queue and overview) for editors and admins.
admin.site.index_template = "admin/quality/index.html"


def _editor_only(request: HttpRequest) -> None:
    if not is_content_editor(request):
        raise PermissionDenied


@admin.register(ItemStatistics)
class ItemStatisticsAdmin(admin.ModelAdmin):
    """The statistics rows as stored (read-only), and the home of the queue and overview."""

    list_display = (
        "question",
        "version",
        "n",
        "facility",
        "discrimination",
        "flags",
        "computed_at",
    )
    list_filter = ("computed_at",)
    search_fields = ("question__stem",)
    list_select_related = ("question",)
    raw_id_fields = ("question",)
    readonly_fields = [f.name for f in ItemStatistics._meta.fields]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_content_editor(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_content_editor(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # written only by the analysis

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        return [
            path("queue/", wrap(self.queue_view), name="quality_queue"),
            path("overview/", wrap(self.overview_view), name="quality_overview"),
            *super().get_urls(),
        ]

    def _render(self, request: HttpRequest, template: str, title: str, **context: Any) -> Any:
        return TemplateResponse(
            request,
            template,
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": title,
                **context,
            },
        )

    def queue_view(self, request: HttpRequest) -> HttpResponse:
        _editor_only(request)
        context = pages.queue_context(
            flag=request.GET.get("flag", pages.ALL_FLAGGED),
            ordering=request.GET.get("o", ""),
            page=request.GET.get("p"),
        )
        return self._render(request, "admin/quality/queue.html", "Quality queue", **context)

    def overview_view(self, request: HttpRequest) -> HttpResponse:
        _editor_only(request)
        context = pages.overview_context()
        return self._render(request, "admin/quality/overview.html", "Staff overview", **context)


admin.site.unregister(Question)


@admin.register(Question)
class WorkbenchQuestionAdmin(QuestionAdmin):
    """The question admin with the workbench's panels below the form."""

    change_form_template = "admin/quality/question_change_form.html"

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        return [
            path(
                "<int:question_id>/rekey/",
                wrap(require_POST(self.rekey_view)),
                name="questions_question_rekey",
            ),
            path(
                "<int:question_id>/analyse/",
                wrap(require_POST(self.analyse_view)),
                name="questions_question_analyse",
            ),
            path(
                "<int:question_id>/resolve-reports/",
                wrap(require_POST(self.resolve_reports_view)),
                name="questions_question_resolve_reports",
            ),
            *super().get_urls(),
        ]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        extra = dict(extra_context or {})
        question = Question.objects.filter(pk=object_id).first() if object_id.isdigit() else None
        if question is not None and is_content_editor(request):
            extra["workbench"] = workbench_context(
                question, diff_from=request.GET.get("from"), diff_to=request.GET.get("to")
            )
        return super().change_view(request, object_id, form_url, extra)

    def _question(self, request: HttpRequest, question_id: int) -> Question:
        _editor_only(request)
        question = get_object_or_404(Question, pk=question_id)
        if not self.has_change_permission(request, question):
            raise PermissionDenied
        return question

    def _back(self, question: Question, anchor: str) -> HttpResponseRedirect:
        url = reverse("admin:questions_question_change", args=[question.pk])
        return HttpResponseRedirect(f"{url}#{anchor}")

    def rekey_view(self, request: HttpRequest, question_id: int) -> HttpResponse:
        """Re-keys the question and regrades what was graded on the old key (the service
        refuses an invalid or unchanged key, and a re-key while one is still regrading)."""
        question = self._question(request, question_id)
        try:
            ids = [int(v) for v in request.POST.getlist("correct_option_ids")]
        except ValueError:
            ids = []
        reason = request.POST.get("reason", "").strip()
        if not reason:
            self.message_user(request, "Say why the key changes.", messages.ERROR)
            return self._back(question, "workbench-rekey")
        try:
            result = rekey_and_regrade(
                question_id=question.pk,
                correct_option_ids=ids,
                reason=reason,
                by=cast(User, request.user),
            )
        except DomainError as exc:
            details = "; ".join(m for ms in (exc.fields or {}).values() for m in ms)
            self.message_user(
                request, f"Not re-keyed: {exc.message} {details}".strip(), messages.ERROR
            )
            return self._back(question, "workbench-rekey")
        tail = "" if result.done else " Regrading goes on in the background."
        self.message_user(
            request,
            f"Re-keyed: now version {result.version}. Regraded {result.practice_attempts} "
            f"practice attempt(s) and {result.exam_answers} exam answer(s) in "
            f"{result.exam_sessions} exam session(s).{tail}",
            messages.SUCCESS,
        )
        return self._back(question, "workbench-versions")

    def analyse_view(self, request: HttpRequest, question_id: int) -> HttpResponse:
        """Queues item analysis of this question now instead of tonight."""
        question = self._question(request, question_id)
        request_item_analysis(question_ids=[question.pk])
        self.message_user(
            request, "Item analysis queued; reload in a minute for the new statistics."
        )
        return self._back(question, "workbench-stats")

    def resolve_reports_view(self, request: HttpRequest, question_id: int) -> HttpResponse:
        question = self._question(request, question_id)
        try:
            ids = [int(v) for v in request.POST.getlist("report_ids")]
        except ValueError:
            ids = []
        mine = list(question.reports.filter(pk__in=ids).values_list("pk", flat=True))
        changed = resolve_question_reports(report_ids=mine, by=cast(User, request.user))
        self.message_user(request, f"{changed} report(s) marked resolved.", messages.SUCCESS)
        return self._back(question, "workbench-reports")
