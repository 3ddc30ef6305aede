"""Walks the web client's whole journey over HTTP against a running server.

    python scripts/journey.py [BASE_URL]        # default http://127.0.0.1:8000

register -> log in -> dashboard -> practice (answer, complete) -> timed mock (save, submit,
review) -> dashboard again -> export -> delete. Exits non-zero at the first step that does not
match the API contract. Uses only the standard library.
"""

from __future__ import annotations

import json
import sys
import uuid
from typing import Any
from urllib import error, request

BASE = "http://127.0.0.1:8000/api/v1"


class JourneyFailed(AssertionError):
    pass


def call(method: str, path: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = request.Request(BASE + path, data=data, method=method)  # noqa: S310
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with request.urlopen(req, timeout=30) as resp:  # noqa: S310
            raw = resp.read()
            return resp.status, json.loads(raw) if raw else None
    except error.HTTPError as exc:
        raw = exc.read()
        return exc.code, json.loads(raw) if raw else None


def step(name: str, ok: bool, detail: Any = "") -> None:
    print(f"{'ok  ' if ok else 'FAIL'} {name}" + (f"  {detail}" if detail and not ok else ""))
    if not ok:
        raise JourneyFailed(f"{name}: {detail}")


def run_journey(base_url: str) -> None:
    """Runs every step against ``base_url``; raises JourneyFailed at the first mismatch."""
    global BASE
    BASE = base_url.rstrip("/") + "/api/v1"
    email = f"journey-{uuid.uuid4().hex[:8]}@example.com"
    password = f"sutures and knots {uuid.uuid4().int % 10**12}"
    status, body = call("POST", "/auth/register", {"email": email, "password": password})
    step("register", status == 201 and body["email"] == email, body)
    status, tokens = call("POST", "/auth/login", {"email": email, "password": password})
    step("login", status == 200 and {"access", "refresh"} <= set(tokens), tokens)
    access = tokens["access"]

    status, dash = call("GET", "/dashboard", token=access)
    step(
        "dashboard (new user)",
        status == 200 and dash["recent_activity"]["last_practice"] is None,
        dash,
    )
    status, cats = call("GET", "/categories", token=access)
    step("categories", status == 200 and len(cats) > 0, cats)

    status, session = call(
        "POST",
        "/practice/sessions",
        {"categories": [cats[0]["slug"]], "question_count": 3, "include_explanations": True},
        token=access,
    )
    step("practice: start", status == 201 and session["question_ids"], session)
    status, questions = call("GET", f"/practice/sessions/{session['id']}/questions", token=access)
    items = questions["results"] if isinstance(questions, dict) else questions
    step(
        "practice: questions without the key",
        status == 200 and "is_correct" not in json.dumps(items),
    )
    for question in items:
        status, graded = call(
            "POST",
            f"/practice/sessions/{session['id']}/attempts",
            {
                "question_id": question["id"],
                "selected_option_ids": [question["options"][0]["id"]],
                "time_spent_sec": 30,
            },
            token=access,
        )
        step("practice: answer", status in (200, 201) and "is_correct" in graded, graded)
    status, summary = call("POST", f"/practice/sessions/{session['id']}/complete", token=access)
    step("practice: complete", status == 200 and summary["answered"] == len(items), summary)

    status, dash = call("GET", "/dashboard", token=access)
    step(
        "dashboard shows the practice at once",
        status == 200 and dash["recent_activity"]["last_practice"] is not None,
        dash,
    )

    status, templates = call("GET", "/exams/templates", token=access)
    usable = [t for t in templates if t.get("available", True)]
    step("exam templates", status == 200 and bool(usable), templates)
    status, exam = call("POST", "/exams/sessions", {"template_id": usable[0]["id"]}, token=access)
    step("exam: start", status == 201 and exam["expires_at"], exam)
    status, detail = call("GET", f"/exams/sessions/{exam['id']}", token=access)
    step("exam: paper without the key", status == 200 and "is_correct" not in json.dumps(detail))
    batch = [
        {
            "question_id": q["id"],
            "selected_option_ids": [q["options"][0]["id"]],
            "time_spent_sec": 20,
        }
        for q in detail["questions"][:5]
    ]
    status, saved = call(
        "POST", f"/exams/sessions/{exam['id']}/attempts", {"attempts": batch}, token=access
    )
    step("exam: save answers", status in (200, 201), saved)
    status, review = call("GET", f"/exams/sessions/{exam['id']}/review", token=access)
    step("exam: no review before submission", status in (403, 409), review)
    status, result = call("POST", f"/exams/sessions/{exam['id']}/submit", token=access)
    step("exam: submit", status == 200 and "score_percent" in result, result)
    status, again = call("POST", f"/exams/sessions/{exam['id']}/submit", token=access)
    step("exam: second submit returns the same", status == 200 and again == result, again)
    status, review = call("GET", f"/exams/sessions/{exam['id']}/review", token=access)
    step("exam: review", status == 200 and len(review["attempts"]) >= 5, review)

    status, dash = call("GET", "/dashboard", token=access)
    step("dashboard shows the exam", status == 200 and dash["recent_activity"]["last_exam"], dash)

    status, export = call("GET", "/me/export", token=access)
    step("export", status == 200 and email in json.dumps(export), export)
    status, _ = call("DELETE", "/me", {"password": password}, token=access)
    step("delete account", status == 204)
    status, _ = call("POST", "/auth/refresh", {"refresh": tokens["refresh"]})
    step("tokens dead after deletion", status == 401)
    print("journey complete")


if __name__ == "__main__":
    try:
        run_journey(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000")
    except JourneyFailed:
        sys.exit(1)
