"""What the workbench adds to a question's change page: its statistics per version with a chart
of option pick rate by ability quintile, its open reports, its version history with a diff
between two versions, and what the re-key form offers."""

from __future__ import annotations

import difflib
import textwrap
from typing import Any

from django.utils.html import strip_tags
from django.utils.safestring import SafeString, mark_safe

from apps.practice.models import QuestionReport
from apps.practice.selectors import open_reports_of
from apps.quality import selectors
from apps.quality.workbench import charts
from apps.quality.workbench.pages import FLAG_LABELS
from apps.questions.models import Question, QuestionVersion
from apps.questions.selectors import versions_of
from apps.questions.services.imports import OPTION_LETTERS

WRAP = 72


def _letter(index: int) -> str:
    return OPTION_LETTERS[index] if index < len(OPTION_LETTERS) else str(index + 1)


def _short(html: str, limit: int = 40) -> str:
    text = " ".join(strip_tags(html).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def statistics_panel(question_id: int, versions: list[QuestionVersion]) -> list[dict[str, Any]]:
    """Each version with statistics, newest first: the numbers, each option's row (letter and
    text from that version's snapshot) and the quintile chart."""
    texts = {v.number: {int(o["id"]): str(o.get("text", "")) for o in v.options} for v in versions}
    out = []
    for stats in selectors.question_statistics(question_id=question_id).versions:
        if not stats.n:
            continue
        snapshot = texts.get(stats.version, {})
        options = []
        labels: dict[int, str] = {}
        for index, option in enumerate(stats.options):
            option_id = int(option.get("option_id") or 0)
            labels[option_id] = _letter(index)
            options.append(
                {
                    "letter": _letter(index),
                    "text": _short(snapshot.get(option_id, ""), 60),
                    "is_key": bool(option.get("is_key")),
                    "suspected": option_id == stats.suspected_option_id,
                    "picked_percent": option.get("picked_percent"),
                    "by_quintile": option.get("by_quintile") or [],
                    "point_biserial": option.get("point_biserial"),
                }
            )
        out.append(
            {
                "stats": stats,
                "flags": [FLAG_LABELS.get(f, f) for f in stats.flags],
                "options": options,
                "chart": charts.option_quintile_chart(
                    options=stats.options,
                    labels=labels,
                    suspected_option_id=stats.suspected_option_id,
                ),
            }
        )
    return out


def open_reports(question_id: int) -> list[QuestionReport]:
    return open_reports_of(question_id=question_id)


def version_lines(version: QuestionVersion) -> list[str]:
    """A version as lines of text to diff: type, stem, options with the key marked, the key's
    letters and the explanation (HTML as stored; long lines wrapped)."""

    def block(title: str, html: str) -> list[str]:
        body = textwrap.wrap(" ".join(html.split()), WRAP, break_on_hyphens=False) or ["(blank)"]
        return [f"{title}:", *(f"  {line}" for line in body)]

    options = sorted(version.options, key=lambda o: (o.get("order", 0), o.get("id", 0)))
    key = {int(i) for i in version.correct_option_ids}
    lines = [f"Type: {version.type}", *block("Stem", version.stem), "Options:"]
    for index, option in enumerate(options):
        mark = "  [key]" if int(option["id"]) in key else ""
        text = " ".join(str(option.get("text", "")).split())
        wrapped = textwrap.wrap(text, WRAP - 6, break_on_hyphens=False) or [""]
        lines.append(f"  {_letter(index)}. {wrapped[0]}{mark}")
        lines.extend(f"     {more}" for more in wrapped[1:])
    letters = [_letter(i) for i, o in enumerate(options) if int(o["id"]) in key]
    lines.append(f"Key: {', '.join(letters) or 'none'}")
    lines.extend(block("Explanation", version.explanation))
    return lines


def version_diff(older: QuestionVersion, newer: QuestionVersion) -> SafeString:
    """An HTML table of the changes between two versions (difflib; it escapes the text)."""
    table = difflib.HtmlDiff(wrapcolumn=WRAP + 8).make_table(
        version_lines(older),
        version_lines(newer),
        f"version {older.number}",
        f"version {newer.number}",
        context=True,
        numlines=2,
    )
    return mark_safe(table)  # noqa: S308  # nosec B308 B703 # difflib escapes &, < and >


def versions_panel(
    versions: list[QuestionVersion], diff_from: str | None, diff_to: str | None
) -> dict[str, Any]:
    """The history, newest first, and the diff of two versions: the ones asked for (``?from=``
    and ``?to=``), else the last two."""
    by_number = {v.number: v for v in versions}
    numbers = sorted(by_number)
    newer = by_number.get(_int(diff_to)) or (by_number[numbers[-1]] if numbers else None)
    older = by_number.get(_int(diff_from))
    if older is None and newer is not None:
        earlier = [n for n in numbers if n < newer.number]
        older = by_number[earlier[-1]] if earlier else None
    return {
        "history": list(reversed(versions)),
        "older": older,
        "newer": newer,
        "diff": version_diff(older, newer) if older and newer else None,
    }


def _int(value: str | None) -> int:
    try:
        return int(value or "")
    except ValueError:
        return -1


def rekey_options(question: Question) -> list[dict[str, Any]]:
    """The current options, lettered, with the current key ticked."""
    return [
        {"id": o.pk, "letter": _letter(i), "text": _short(o.text, 80), "is_correct": o.is_correct}
        for i, o in enumerate(question.options.order_by("order", "id"))
    ]


def workbench_context(
    question: Question, *, diff_from: str | None = None, diff_to: str | None = None
) -> dict[str, Any]:
    versions = versions_of(question_id=question.pk)
    return {
        "statistics": statistics_panel(question.pk, versions),
        "reports": open_reports(question.pk),
        "versions": versions_panel(versions, diff_from, diff_to),
        "rekey_options": rekey_options(question),
        "question_type": question.type,
    }
