"""Email templates render both parts with real content; the sender sends text + HTML."""

from __future__ import annotations

from datetime import date

import pytest
from django.core import mail
from django.template import TemplateDoesNotExist

from apps.notifications.emails import render_templated_email, send_templated_email

SUMMARY = {
    "week_start": date(2026, 3, 2),
    "week_end": date(2026, 3, 8),
    "answered": 42,
    "correct": 30,
    "accuracy_percent": 71,
    "previous_answered": 50,
    "previous_accuracy_percent": 75,
    "answered_change": -8,
    "accuracy_change": -4,
    "accuracy_change_abs": 4,
    "trend": "down",
    "weakest_topics": [
        {
            "category": "Head & Neck",
            "category_slug": "head-neck",
            "answered": 12,
            "score_percent": 41,
        },
        {"category": "Trauma", "category_slug": "trauma", "answered": 9, "score_percent": 55},
    ],
    "suggestion": {
        "category": "Head & Neck",
        "category_slug": "head-neck",
        "reason": "Low Score",
        "text": "Practise Head & Neck: you score 41% there.",
        "link": "/practice?category=head-neck",
    },
}


def test_weekly_summary_both_parts() -> None:
    rendered = render_templated_email(
        template="weekly_summary",
        context={
            "display_name": "Dr O'Neil",
            "summary": SUMMARY,
            "dashboard_url": "https://app.example/dashboard",
            "preferences_url": "https://app.example/settings/notifications",
        },
    )

    assert rendered.subject == "Your week: 42 questions at 71%"
    text = rendered.text
    assert "Hello Dr O'Neil," in text  # plain text is not HTML-escaped
    assert "Your week from 2 Mar to 8 Mar 2026" in text
    assert "Questions answered: 42 (-8 on the week before)" in text
    assert "Accuracy: 71% (30 correct)" in text
    assert "Trend: down 4 points on the week before (75%)" in text
    assert "- Head & Neck: 41% over 12 answers" in text
    assert "- Trauma: 55% over 9 answers" in text
    assert "Your best next step: Practise Head & Neck: you score 41% there." in text
    assert "Your dashboard: https://app.example/dashboard" in text
    assert "Choose which emails you get: https://app.example/settings/notifications" in text
    assert "&amp;" not in text
    assert "<" not in text

    html = rendered.html
    assert html.lstrip().startswith("<!DOCTYPE html>")
    assert "Hello Dr O&#x27;Neil," in html
    assert "&#9660; down 4 points" in html
    assert "<li>Head &amp; Neck: <strong>41%</strong> over 12 answers</li>" in html
    assert 'href="https://app.example/dashboard"' in html
    assert 'href="http://localhost:3000/practice?category=head-neck"' in html
    assert 'href="https://app.example/settings/notifications"' in html


def test_weekly_summary_without_answers_or_history() -> None:
    summary = {
        **SUMMARY,
        "answered": 0,
        "correct": 0,
        "accuracy_percent": None,
        "answered_change": -5,
        "accuracy_change": None,
        "trend": "new",
        "weakest_topics": [],
        "suggestion": None,
    }
    rendered = render_templated_email(
        template="weekly_summary",
        context={"display_name": "Sam", "summary": summary, "dashboard_url": "u"},
    )
    assert rendered.subject == "Your week: 0 questions"
    assert "Accuracy: no answers" in rendered.text
    assert "Trend: nothing to compare with yet" in rendered.text
    assert "Weakest topics" not in rendered.text
    assert "Weakest topics" not in rendered.html
    assert "Suggestion" not in rendered.html


def test_study_reminder_both_parts() -> None:
    context = {
        "display_name": "Ana",
        "days_inactive": 5,
        "suggestion": SUMMARY["suggestion"],
        "practice_url": "https://app.example/practice",
        "preferences_url": "https://app.example/prefs",
    }
    rendered = render_templated_email(template="study_reminder", context=context)

    assert rendered.subject == "Head & Neck is waiting for you"
    assert "It has been 5 days since you last studied." in rendered.text
    assert "Practise Head & Neck: you score 41% there." in rendered.text
    assert "Start practising: https://app.example/practice" in rendered.text
    assert "<strong>5 days</strong>" in rendered.html
    assert "Practise Head &amp; Neck: you score 41% there." in rendered.html
    assert 'href="https://app.example/practice"' in rendered.html

    one_day = render_templated_email(
        template="study_reminder", context={**context, "days_inactive": 1, "suggestion": None}
    )
    assert one_day.subject == "Time for a quick study session"
    assert "It has been 1 day since" in one_day.text


def test_broadcast_escapes_html_but_not_text() -> None:
    rendered = render_templated_email(
        template="broadcast",
        context={
            "display_name": "Kim",
            "title": "<b>Exam</b> dates",
            "body": "Line one\n\nLine <i>two</i>",
            "link": "https://app.example/exams",
        },
    )
    assert rendered.subject == "<b>Exam</b> dates"
    assert "<b>Exam</b> dates" in rendered.text
    assert "Line <i>two</i>" in rendered.text
    assert "&lt;b&gt;Exam&lt;/b&gt; dates" in rendered.html
    assert "<b>Exam</b>" not in rendered.html
    assert "<p>Line one</p>" in rendered.html
    assert "Line &lt;i&gt;two&lt;/i&gt;" in rendered.html


def test_subject_is_one_line() -> None:
    rendered = render_templated_email(
        template="broadcast", context={"title": "Two\nlines", "body": "", "display_name": "x"}
    )
    assert rendered.subject == "Two lines"


def test_send_templated_email_sends_text_with_html_alternative(settings: object) -> None:
    sent = send_templated_email(
        to="ana@example.com",
        template="study_reminder",
        context={"display_name": "Ana", "days_inactive": 3, "practice_url": "p"},
        headers={"List-Unsubscribe": "<https://app.example/prefs>"},
    )

    assert sent == 1
    message = mail.outbox[0]
    assert message.to == ["ana@example.com"]
    assert message.from_email == "OpenMRCS <no-reply@openmrcs.local>"
    assert message.subject == "Time for a quick study session"
    assert "It has been 3 days" in message.body
    assert message.alternatives[0][1] == "text/html"
    assert message.extra_headers["List-Unsubscribe"] == "<https://app.example/prefs>"


def test_unknown_template_raises() -> None:
    with pytest.raises(TemplateDoesNotExist):
        send_templated_email(to="a@example.com", template="nope", context={})
    assert mail.outbox == []
