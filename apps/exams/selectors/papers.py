"""What a candidate sees of a session: the paper while it is open (never the key), the review
and the stored result once it is submitted."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from apps.exams.models import ExamAnswer, ExamSession
from apps.exams.selectors.sessions import saved_answers
from apps.exams.statements import SavedAnswer
from apps.questions.grading import answer_keys
from apps.questions.models import AnswerOption, Question, QuestionVersion
from apps.questions.selectors import (
    DisplayQuestion,
    display_questions,
    graded_version,
    questions_for_display,
    version_history,
)


def _answers_by_question(session: ExamSession) -> dict[int, ExamAnswer]:
    return {a.question_id: a for a in session.answers.all()}


def _answer_data(answer: ExamAnswer | SavedAnswer) -> dict[str, Any]:
    return {
        "question_id": answer.question_id,
        "selected_option_ids": list(answer.selected_option_ids),
        "flagged": answer.flagged,
        "time_spent_sec": answer.time_spent_sec,
        "saved_at": answer.saved_at,
    }


def _ordered_options(session: ExamSession, question: Question) -> list[AnswerOption]:
    """The question's options in the order stored for this session (new options, if an editor
    added any since, go last)."""
    order = session.option_order.get(str(question.id), [])
    position = {option_id: index for index, option_id in enumerate(order)}
    return sorted(question.options.all(), key=lambda o: (position.get(o.id, len(order)), o.id))


def _question_data(session: ExamSession, question: Question, position: int) -> dict[str, Any]:
    return {
        "id": question.id,
        "position": position,
        "stem": question.stem,
        "type": question.type,
        "category": question.category.name,
        "options": [{"id": o.id, "text": o.text} for o in _ordered_options(session, question)],
        "media": [
            {"url": m.url, "kind": m.kind, "alt_text": m.alt_text, "caption": m.caption}
            for m in question.media.all()
        ],
    }


def _paper_question(
    session: ExamSession, question: DisplayQuestion, position: int
) -> dict[str, Any]:
    """One question in the shape of ``ExamQuestionSerializer``, options in the order stored for
    this session (new options, if an editor added any since, go last)."""
    order = session.option_order.get(str(question.id), [])
    texts = dict(question.options)
    options = None
    if len(order) == len(texts):
        try:  # the usual case: the stored order is a permutation of the options
            options = [{"id": option_id, "text": texts[option_id]} for option_id in order]
        except KeyError:
            options = None
    if options is None:
        at = {option_id: index for index, option_id in enumerate(order)}
        options = [
            {"id": option_id, "text": text}
            for option_id, text in sorted(
                question.options, key=lambda o: (at.get(o[0], len(order)), o[0])
            )
        ]
    return {
        "id": question.id,
        "position": position,
        "stem": question.stem,
        "type": question.type,
        "category": question.category,
        "options": options,
        "media": question.media,
    }


def exam_paper(*, session: ExamSession, new: bool = False) -> dict[str, Any]:
    """The session as the candidate sits it: questions in session order with options in the
    stored order (never the key), saved answers and flags, the deadline and the server's now.

    ``questions`` is already plain data in its output shape (a paper has up to 500 questions;
    see ``ExamSessionOutputSerializer``). ``new``: the session was created by this request,
    so there are no saved answers to read."""
    questions = display_questions(question_ids=session.question_ids)
    saved = [] if new else saved_answers(session_id=session.id)
    answers = {a.question_id: a for a in saved}
    return {
        "id": session.id,
        "template": {
            "id": session.template.id,
            "name": session.template.name,
            "paper": session.template.paper,
        },
        "status": session.status,
        "started_at": session.started_at,
        "expires_at": session.expires_at,
        "server_now": timezone.now(),
        "submitted_at": session.submitted_at,
        # The session's own time (a paper template's is its paper's time for its length).
        "duration_minutes": round((session.expires_at - session.started_at).total_seconds() / 60),
        "total_questions": len(questions),
        "answered": sum(1 for a in answers.values() if a.selected_option_ids),
        "flagged": sum(1 for a in answers.values() if a.flagged),
        "questions": [_paper_question(session, q, i) for i, q in enumerate(questions, start=1)],
        "answers": [_answer_data(answers[q.id]) for q in questions if q.id in answers],
        "result": session.result if not session.is_open else None,
    }


def exam_review(*, session: ExamSession) -> dict[str, Any]:
    """Every question of a submitted session with the candidate's answer, the correct options,
    correctness and explanation, in the session's order. Unanswered questions are wrong.

    Each question is shown as the version the answer was graded on (``question_version``):
    its stem, options, key and explanation come from that snapshot, so an editor's later change
    never appears beside the old grading. A question with no snapshot of that version has not
    been edited since and is shown as it is now. A fixed number of queries."""
    questions = questions_for_display(question_ids=session.question_ids)
    answers = _answers_by_question(session)
    history = version_history(question_ids=session.question_ids)
    graded: dict[int, QuestionVersion | None] = {}
    for question in questions:
        answer = answers.get(question.id)
        graded[question.id] = graded_version(
            history.get(question.id, []),
            number=answer.question_version if answer else None,
            at=session.submitted_at,
        )
    unversioned = [qid for qid, version in graded.items() if version is None]
    keys = answer_keys(question_ids=unversioned) if unversioned else {}
    attempts = []
    for position, question in enumerate(questions, start=1):
        answer = answers.get(question.id)
        version = graded[question.id]
        shown = _question_data(session, question, position)
        del shown["id"]
        if version is None:
            number = (answer.question_version if answer else None) or question.version
            key, explanation = keys.get(question.id, []), question.explanation
        else:
            number, key, explanation = (
                version.number,
                version.correct_option_ids,
                version.explanation,
            )
            shown["stem"], shown["type"] = version.stem, version.type
            shown["options"] = _snapshot_options(session, question.id, version)
        attempts.append(
            {
                **shown,
                "question_id": question.id,
                "question_version": number,
                "selected_option_ids": list(answer.selected_option_ids) if answer else [],
                "flagged": bool(answer and answer.flagged),
                "correct_option_ids": list(key),
                "is_correct": bool(answer and answer.is_correct),
                "explanation": explanation,
                "reference": question.reference,
            }
        )
    return {
        "id": session.id,
        "template": {"id": session.template.id, "name": session.template.name},
        "status": session.status,
        "submitted_at": session.submitted_at,
        "score_percent": session.score_percent,
        "result": session.result,
        "attempts": attempts,
    }


def _snapshot_options(
    session: ExamSession, question_id: int, version: QuestionVersion
) -> list[dict[str, Any]]:
    """A snapshot's options in the order stored for this session (any the session did not
    order go last, in the snapshot's order)."""
    order = session.option_order.get(str(question_id), [])
    position = {option_id: index for index, option_id in enumerate(order)}
    ranked = sorted(
        enumerate(version.options), key=lambda o: (position.get(o[1]["id"], len(order)), o[0])
    )
    return [{"id": o["id"], "text": o["text"]} for _, o in ranked]


def exam_result(*, session: ExamSession) -> dict[str, Any]:
    """The stored outcome of a submitted session (the same document however often asked)."""
    result = dict(session.result or {})
    return {
        "id": session.id,
        "status": session.status,
        "submitted_at": session.submitted_at,
        "auto_submitted": session.auto_submitted,
        **result,
    }
