"""Schema-driven fuzzing of every operation, as a candidate and as staff.

The schema is the one drf-spectacular serves; schemathesis generates requests from it and sends
them to the Django WSGI application with a real Bearer token, against the test database with
real commits (``transactional_db``). Every response must not be a server error and must match
the documented schema, and no candidate response may carry an answer key (``is_correct``,
``correct_option_ids``, ``explanation``) except the ones that exist to reveal it after the
candidate answered or submitted. Counts are printed at the end of the run (fuzz_report).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from rest_framework.throttling import SimpleRateThrottle
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import response_schema_conformance

from apps.accounts.models import Role
from apps.accounts.tokens import issue_tokens_for
from tests.accounts.factories import UserFactory
from tests.reliability_report import record
from tests.trust.data import World, make_world
from tests.trust.fuzz_report import FUZZ_STATS

MAX_EXAMPLES = 10

ANSWER_KEYS = frozenset({"is_correct", "correct_option_ids", "explanation"})
# Responses whose purpose is to reveal the key: after an answer, after submission, or the
# candidate's own answered history in the GDPR export.
MAY_REVEAL_KEY = frozenset(
    {
        "POST /api/v1/practice/sessions/{session_id}/attempts",
        "POST /api/v1/exams/sessions/{session_id}/submit",
        "GET /api/v1/exams/sessions/{session_id}/review",
        "GET /api/v1/me/export",
    }
)
ANSWERED_SUBTREES = frozenset({"attempt"})
LEAK_MESSAGE = "answer key fields"
# Operations whose response schema check is switched off, and why (listed in docs/security.md).
SCHEMA_CHECK_EXCLUDED: dict[str, str] = {}


def _openapi() -> dict[str, Any]:
    raw = SchemaGenerator().get_schema(request=None, public=True)
    loaded: dict[str, Any] = json.loads(json.dumps(raw, default=str))
    return loaded


SCHEMA = schemathesis.openapi.from_dict(_openapi())
OPERATIONS = {
    op.label: op
    for op in (result.ok() for result in SCHEMA.get_all_operations())  # type: ignore[union-attr]
}
WSGI = get_wsgi_application()


def _walk_keys(value: Any, *, skip: frozenset[str] = frozenset()) -> set[str]:
    """Every key in a JSON document, except inside the values of keys in ``skip``."""
    if isinstance(value, dict):
        found = set(value)
        for key, item in value.items():
            if key not in skip:
                found |= _walk_keys(item, skip=skip)
        return found
    if isinstance(value, list):
        found = set()
        for item in value:
            found |= _walk_keys(item, skip=skip)
        return found
    return set()


def no_answer_key_before_submission(ctx: Any, response: Any, case: Any) -> bool | None:
    """A candidate never sees which option is right before answering or submitting."""
    if case.operation.label in MAY_REVEAL_KEY:
        return None
    try:
        body = json.loads(response.content or b"null")
    except ValueError:
        return None
    # A practice question the candidate already answered carries that answer's feedback under
    # ``attempt``; everywhere else (options, open exam papers) the key must be absent.
    skip = ANSWERED_SUBTREES if case.operation.path.startswith("/api/v1/practice/") else frozenset()
    leaked = _walk_keys(body, skip=skip) & ANSWER_KEYS
    if leaked:
        raise AssertionError(f"{LEAK_MESSAGE} {sorted(leaked)} in {case.operation.label}")
    return True


def _use_real_ids(case: Any, world: World) -> None:
    path = case.operation.path
    for (prefix, name), value in world.ids.items():
        if prefix in path and case.path_parameters and name in case.path_parameters:
            case.path_parameters[name] = value
    if isinstance(case.body, dict):
        for (prefix, name), value in world.body.items():
            if prefix in path and name in case.body:
                case.body[name] = value


_REPORTED_AS = {
    "requests": "requests_fuzzed",
    "server_errors": "server_errors",
    "schema_violations": "schema_violations",
    "leaks": "answer_leaks",
}


def _count(name: str) -> None:
    """One more of ``name`` in this run's fuzz line and in the suite's reliability report."""
    FUZZ_STATS[name] += 1
    record(_REPORTED_AS[name])


@pytest.fixture
def fast_throttles(monkeypatch: pytest.MonkeyPatch) -> None:
    """Throttles would answer most generated requests with 429; they have their own tests."""
    monkeypatch.setattr(
        SimpleRateThrottle,
        "THROTTLE_RATES",
        dict.fromkeys(
            ("anon", "user", "login", "register", "password_reset", "export", "import"),
            "100000/min",
        ),
    )


ROLES = {
    "candidate": Role.USER,
    "editor": Role.EDITOR,
    "examiner": Role.EXAMINER,
    "admin": Role.ADMIN,
}


def _group(label: str) -> str:
    """The API area of an operation: ``GET /api/v1/practice/flags`` -> ``practice``."""
    return label.split(" ", 1)[1].removeprefix("/api/v1/").split("/", 1)[0]


GROUPS: dict[str, list[str]] = {}
for _label in sorted(OPERATIONS):
    GROUPS.setdefault(_group(_label), []).append(_label)


def fuzz_operation(*, label: str, role: str) -> None:
    """Up to MAX_EXAMPLES generated requests to one operation, as a fresh user of ``role``;
    raises the first (shrunk) failing check."""
    operation = OPERATIONS[label]
    world = make_world(ROLES[role])
    headers = {"Authorization": f"Bearer {world.token}"}
    checks: list[Any] = [not_a_server_error]
    if label not in SCHEMA_CHECK_EXCLUDED:
        checks.append(response_schema_conformance)
    if role == "candidate":
        checks.append(no_answer_key_before_submission)
    FUZZ_STATS["operations"] += 1

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        phases=[Phase.explicit, Phase.generate],
        derandomize=True,
    )
    @given(case=operation.as_strategy(), real_ids=st.booleans())
    def run(case: Any, real_ids: bool) -> None:
        if real_ids:
            _use_real_ids(case, world)
        response = case.call(app=WSGI, headers=headers)
        _count("requests")
        if response.status_code < 300:
            FUZZ_STATS["responses_2xx"] += 1  # how much got past validation into real work
        if response.status_code >= 500:
            _count("server_errors")
        try:
            case.validate_response(response, checks=checks, headers=headers)
        except FailureGroup as group:
            if any("schema" in type(f).__name__.lower() for f in group.exceptions):
                _count("schema_violations")
            if any(LEAK_MESSAGE in str(f) for f in group.exceptions):
                _count("leaks")
            raise

    run()


@pytest.mark.parametrize("group", sorted(GROUPS))
@pytest.mark.parametrize("role", list(ROLES))
def test_fuzz(role: str, group: str, transactional_db: Any, fast_throttles: None) -> None:
    """Every operation of one API area, as one role. One test per area keeps the database
    flushes (``transactional_db``) few; each operation still gets a fresh user and objects."""
    for figure in ("requests_fuzzed", "server_errors", "schema_violations", "answer_leaks"):
        record(figure, 0)  # measured, even when nothing is found
    failures: dict[str, str] = {}
    for label in GROUPS[group]:
        try:
            fuzz_operation(label=label, role=role)
        except (Exception, BaseExceptionGroup) as exc:  # FailureGroup is a BaseExceptionGroup
            failures[label] = str(exc)
    assert not failures, "\n\n".join(f"{label}:\n{error}" for label, error in failures.items())


def test_the_checks_can_fail(transactional_db: Any) -> None:
    """The fuzzing proves something only if its checks fire: a response that breaks the schema
    and one that carries an answer key are both caught."""
    broken = _openapi()
    me = broken["paths"]["/api/v1/me"]["get"]["responses"]["200"]["content"]["application/json"]
    me["schema"] = {"type": "object", "required": ["not_a_field"]}
    operation = schemathesis.openapi.from_dict(broken)["/api/v1/me"]["GET"]
    user = UserFactory()
    headers = {"Authorization": f"Bearer {issue_tokens_for(user=user)['access']}"}
    case = operation.Case()
    response = case.call(app=WSGI, headers=headers)
    assert response.status_code == 200
    with pytest.raises(FailureGroup):
        case.validate_response(response, checks=[response_schema_conformance], headers=headers)

    leaky = OPERATIONS["GET /api/v1/me"].Case()
    fake = type("R", (), {"content": b'{"options": [{"id": 1, "is_correct": true}]}'})()
    with pytest.raises(AssertionError, match=LEAK_MESSAGE):
        no_answer_key_before_submission(None, fake, leaky)
