"""Rendering and sending templated email through Django's email framework.

A template is a folder under ``templates/email/``: ``email/<name>/subject.txt`` (one line),
``email/<name>/body.txt`` (plain text) and ``email/<name>/body.html``. Every message goes out
as plain text with an HTML alternative. The backend is a setting (console in development, SMTP or
a provider in production, in-memory in tests).

This module imports nothing from other apps, so any app may use it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def _base_context(context: Mapping[str, Any]) -> dict[str, Any]:
    return {"site_name": "OpenMRCS", "frontend_url": settings.FRONTEND_URL, **context}


def render_templated_email(*, template: str, context: Mapping[str, Any]) -> RenderedEmail:
    """Renders the three parts of ``email/<template>/``. The subject is collapsed to one line."""
    full = _base_context(context)
    subject = render_to_string(f"email/{template}/subject.txt", full)
    return RenderedEmail(
        subject=" ".join(subject.split()),
        text=render_to_string(f"email/{template}/body.txt", full),
        html=render_to_string(f"email/{template}/body.html", full),
    )


def send_templated_email(
    *,
    to: str | Sequence[str],
    template: str,
    context: Mapping[str, Any],
    headers: Mapping[str, str] | None = None,
) -> int:
    """Renders ``template`` with ``context`` and sends it now; returns the number sent (0 or 1).

    Raises what the email backend raises (``smtplib.SMTPException``, ``OSError``): callers that
    run in Celery tasks retry on those.
    """
    rendered = render_templated_email(template=template, context=context)
    recipients = [to] if isinstance(to, str) else list(to)
    message = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
        headers=dict(headers or {}),
    )
    message.attach_alternative(rendered.html, "text/html")
    return message.send(fail_silently=False)
