"""Schema-driven fuzzing of every operation, as a candidate and as staff.

The schema is the one drf-spectacular serves; schemathesis generates requests from it and sends
them to the Django WSGI application with a real Bearer token, against the test database with
real commits (``transactional_db``). Every response must not be a server error and must match
the documented schema, and no candidate response may carry an answer key (``is_correct``,
``correct_option_ids``, ``explanation``) except the ones that exist to reveal it after the
candidate answered or submitted. Counts are printed at the end of the run (fuzz_report).

Malformed requests get their own walk (``test_malformed_requests``): for each kind in
``MALFORMED`` (bodies nested 100,000 deep, over the upload limit, with more form fields than
allowed, in content types the API does not speak, ...), one request to every operation that
takes a body. Each must be a 4xx in the error envelope with nothing logged at ERROR; the
reliability line counts the kinds tried.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core.wsgi import get_wsgi_application
from django.test import Client
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


# --- Malformed requests --------------------------------------------------------------------------


def _multipart(fields: int, value: str = "1", boundary: str = "fuzzb0undary") -> bytes:
    parts = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="f{i}"\r\n\r\n{value}\r\n'
        for i in range(fields)
    )
    return (parts + f"--{boundary}--\r\n").encode()


def _too_many() -> int:
    return int(django_settings.DATA_UPLOAD_MAX_NUMBER_FIELDS) + 1


def _over_limit() -> int:
    return int(django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE) + 1


_FORM = "application/x-www-form-urlencoded"
_MULTIPART = "multipart/form-data; boundary=fuzzb0undary"
# kind -> (content type, body). Each is a client's fault, so each must be a 4xx.
MALFORMED: dict[str, Callable[[], tuple[str, bytes]]] = {
    "json nested 100000 deep": lambda: ("application/json", b"[" * 100_000 + b"]" * 100_000),
    "json objects nested 100000 deep": lambda: (
        "application/json",
        b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
    ),
    "json nested 900 deep, under the decoder's limit": lambda: (
        "application/json",
        b'{"attempts": ' + b"[" * 900 + b"]" * 900 + b"}",
    ),
    "json truncated": lambda: ("application/json", b'{"question_id": '),
    "json top-level array": lambda: ("application/json", b"[1, 2, 3]"),
    "json top-level string": lambda: ("application/json", b'"text"'),
    "json NaN": lambda: ("application/json", b'{"x": NaN}'),
    "json 5000-digit number": lambda: ("application/json", b'{"x": 1' + b"0" * 5000 + b"}"),
    "json invalid utf-8": lambda: ("application/json", b'{"x": "\xff\xfe"}'),
    # The charset is ignored (Django skips an unknown one); the stray key makes it a 400.
    "json unknown charset": lambda: ("application/json; charset=no-such-charset", b'{"x": 1}'),
    "json over the upload limit": lambda: (
        "application/json",
        b'{"x": "' + b"a" * _over_limit() + b'"}',
    ),
    "form over the upload limit": lambda: (_FORM, b"x=" + b"a" * _over_limit()),
    "form with too many fields": lambda: (
        _FORM,
        "&".join(f"f{i}=1" for i in range(_too_many())).encode(),
    ),
    "multipart with too many fields": lambda: (_MULTIPART, _multipart(_too_many())),
    "multipart field over the upload limit": lambda: (
        _MULTIPART,
        _multipart(1, "a" * _over_limit()),
    ),
    "multipart without a boundary": lambda: ("multipart/form-data", b"--x\r\n"),
    "text/plain": lambda: ("text/plain", b"question_id=1"),
    "xml": lambda: ("application/xml", b"<attempt><question_id>1</question_id></attempt>"),
    "no content type": lambda: ("", b'{"x": 1}'),
}
WRITE_METHODS = ("POST", "PUT", "PATCH")
BODY_OPERATIONS = sorted(
    label
    for label, op in OPERATIONS.items()
    if op.method.upper() in WRITE_METHODS and op.definition.raw.get("requestBody")
)


def _url(label: str, world: World) -> str:
    path = label.split(" ", 1)[1]
    for name in re.findall(r"{(\w+)}", path):
        value = next((v for (prefix, n), v in world.ids.items() if prefix in path and n == name), 1)
        path = path.replace(f"{{{name}}}", str(value))
    return path


@pytest.mark.parametrize("kind", list(MALFORMED))
def test_malformed_requests(kind: str, db: Any, caplog: pytest.LogCaptureFixture) -> None:
    """One malformed body of ``kind`` to every operation that takes a body, as an admin (so no
    operation refuses the caller before reading it): a 4xx envelope each time, never a 500,
    nothing at ERROR."""
    caplog.set_level(logging.INFO)
    record("malformed_kinds")
    record("server_errors", 0)
    world = make_world(Role.ADMIN)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {world.token}")
    content_type, body = MALFORMED[kind]()
    wrong: dict[str, str] = {}
    for label in BODY_OPERATIONS:
        method = label.split(" ", 1)[0]
        response = client.generic(method, _url(label, world), body, content_type=content_type)
        record("malformed_requests")
        if response.status_code >= 500:
            record("server_errors")
        try:
            envelope = response.json()
        except ValueError:
            envelope = {}
        if not (400 <= response.status_code < 500 and {"code", "message"} <= set(envelope)):
            wrong[label] = f"{response.status_code} {response.content[:200]!r}"
    errors = [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.levelno >= logging.ERROR]
    assert not wrong, wrong
    assert not errors, errors


def test_the_malformed_walk_reaches_the_write_operations() -> None:
    assert len(BODY_OPERATIONS) >= 25
    assert "POST /api/v1/exams/sessions/{session_id}/attempts" in BODY_OPERATIONS
    assert "POST /api/v1/auth/verify-email" in BODY_OPERATIONS


def test_the_reliability_line_counts_the_malformed_kinds() -> None:
    from collections import Counter

    from tests.reliability_report import summary_lines

    totals = Counter({"requests_fuzzed": 10, "malformed_kinds": 3, "malformed_requests": 81})
    totals["server_errors"] += 0
    headline = summary_lines(totals, None)[0]
    assert headline.startswith(
        "reliability: requests fuzzed 10, malformed-request kinds 3 (81 requests), server errors 0"
    )
