"""What a candidate is told when a re-key changed their grades: their own changes only."""

from __future__ import annotations

from typing import Any

from apps.accounts.models import User
from apps.notifications.models import Kind
from apps.notifications.services import notify_user
from apps.quality.models import RekeyRun


def notice_for(*, question_id: int, changes: dict[str, Any]) -> tuple[str, str]:
    """The title and body telling one candidate what the re-key of ``question_id`` changed for
    them (``changes``: their entry of :attr:`RekeyRun.affected`). It names no other candidate
    and no count beyond their own answers."""
    lines = [
        f"The answer key of question #{question_id} has been corrected, so your answers to it "
        "were marked again."
    ]
    right, wrong = changes.get("practice_right", 0), changes.get("practice_wrong", 0)
    if right:
        lines.append(f"Practice: {right} answer(s) now marked correct.")
    if wrong:
        lines.append(f"Practice: {wrong} answer(s) now marked wrong.")
    for session_id, (before, after) in sorted(
        changes.get("exams", {}).items(), key=lambda item: int(item[0])
    ):
        lines.append(f"Mock exam #{session_id}: your score changed from {before}% to {after}%.")
    return "Your results were corrected", "\n".join(lines)


def notify_regraded_candidates(run: RekeyRun) -> int:
    """One in-app notification to each candidate whose grade the run changed (a ``system``
    notification: a corrected score always arrives). Called once, when the run finishes, in
    its transaction. Returns how many were sent."""
    users = User.objects.in_bulk([int(uid) for uid in run.affected])
    sent = 0
    for uid, changes in sorted(run.affected.items(), key=lambda item: int(item[0])):
        user = users.get(int(uid))
        if user is None:  # the account was deleted meanwhile
            continue
        title, body = notice_for(question_id=run.question_id, changes=changes)
        if notify_user(user=user, title=title, body=body, kind=Kind.SYSTEM) is not None:
            sent += 1
    return sent
