from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook
from rest_framework.test import APIClient

from apps.audit.models import AuditEvent
from apps.questions.models import ImportJob, ImportStatus, Question, QuestionStatus
from apps.questions.services import MAX_IMPORT_BYTES, MAX_IMPORT_ROWS, run_import_job
from tests.questions.factories import make_question
from tests.taxonomy.factories import CategoryFactory, SubcategoryFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/questions/import"
SAMPLES = Path(__file__).resolve().parents[2] / "samples"
HEADER = (
    "category,subcategory,type,difficulty,stem,option_a,option_b,option_c,option_d,option_e,"
    "correct,explanation,reference,tags\n"
)


@pytest.fixture(autouse=True)
def syllabus(db: Any) -> None:
    for cat, sub in [
        ("physiology", "cardiovascular"),
        ("general-surgery", "hernia"),
        ("microbiology", "surgical-infections"),
        ("trauma", "primary-survey"),
        ("pharmacology", "anaesthetic-agents"),
    ]:
        SubcategoryFactory(category=CategoryFactory(slug=cat, name=cat.title()), slug=sub)


def upload(client: APIClient, name: str, content: bytes, capture: Any, **data: Any) -> Any:
    with capture(execute=True):
        return client.post(
            URL, {"file": SimpleUploadedFile(name, content), **data}, format="multipart"
        )


def job_report(client: APIClient, job_id: int) -> dict[str, Any]:
    res = client.get(f"{URL}/{job_id}")
    assert res.status_code == 200
    return res.json()


# --- happy paths -------------------------------------------------------------------------------
def test_sample_csv_imports_and_reimport_creates_no_duplicates(
    editor_client: APIClient, editor: Any, django_capture_on_commit_callbacks: Any
) -> None:
    content = (SAMPLES / "questions-import.csv").read_bytes()
    res = upload(editor_client, "questions.csv", content, django_capture_on_commit_callbacks)
    assert res.status_code == 202
    assert set(res.json()) == {"job_id", "status"}
    job = job_report(editor_client, res.json()["job_id"])
    assert job["status"] == "succeeded"
    assert (job["total_rows"], job["created"], job["duplicates"], job["invalid"]) == (3, 3, 0, 0)
    assert [r["row"] for r in job["report"]] == [2, 3, 4]
    assert {r["status"] for r in job["report"]} == {"created"}

    spores = Question.objects.get(type="multi")
    assert spores.status == QuestionStatus.DRAFT  # the row said so
    assert spores.created_by == editor
    assert sorted(spores.options.filter(is_correct=True).values_list("text", flat=True)) == [
        "Bacillus anthracis",
        "Clostridioides difficile",
        "Clostridium perfringens",
    ]
    hernia = Question.objects.get(category__slug="general-surgery")
    assert hernia.status == QuestionStatus.PUBLISHED
    assert hernia.subcategory is not None
    assert hernia.subcategory.slug == "hernia"
    assert hernia.options.get(is_correct=True).text == "Indirect inguinal hernia"
    assert list(hernia.tags.values_list("slug", flat=True)) == ["inguinal-hernia"]
    event = AuditEvent.objects.get(action="question.import")
    assert event.actor == editor
    assert (event.after or {})["created"] == 3

    again = upload(editor_client, "questions.csv", content, django_capture_on_commit_callbacks)
    job = job_report(editor_client, again.json()["job_id"])
    assert (job["created"], job["duplicates"]) == (0, 3)
    assert all("already in the bank" in r["errors"][0] for r in job["report"])
    assert Question.objects.count() == 3


def test_sample_json_imports(
    editor_client: APIClient, django_capture_on_commit_callbacks: Any
) -> None:
    content = (SAMPLES / "questions-import.json").read_bytes()
    res = upload(editor_client, "bank.json", content, django_capture_on_commit_callbacks)
    job = job_report(editor_client, res.json()["job_id"])
    assert (job["format"], job["created"], job["invalid"]) == ("json", 2, 0)
    assert Question.objects.filter(status="published").count() == 1  # default status: draft
    assert Question.objects.get(type="multi").options.filter(is_correct=True).count() == 2


def test_xlsx_imports(editor_client: APIClient, django_capture_on_commit_callbacks: Any) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Category", "Type", "Difficulty", "Stem", "Option A", "Option B", "Correct"])
    sheet.append(
        ["physiology", "single", 2.0, "Where is renin secreted?", "JG cells", "Macula densa", "A"]
    )
    sheet.append([None, None, None, None, None, None, None])
    sheet.append(
        [
            "Trauma",
            "single",
            3,
            "What is the first step of the primary survey?",
            "Airway",
            "Breathing",
            "A",
        ]
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    res = upload(
        editor_client,
        "bank.xlsx",
        buffer.getvalue(),
        django_capture_on_commit_callbacks,
        status="published",
    )
    job = job_report(editor_client, res.json()["job_id"])
    assert job["created"] == 2, job
    assert [r["row"] for r in job["report"]] == [2, 4]  # sheet rows; the blank one is skipped
    assert Question.objects.filter(status="published").count() == 2
    assert Question.objects.filter(category__slug="trauma").exists()  # category by name


def test_dry_run_validates_and_writes_nothing(
    editor_client: APIClient, django_capture_on_commit_callbacks: Any
) -> None:
    content = (SAMPLES / "questions-import.csv").read_bytes()
    res = upload(
        editor_client, "questions.csv", content, django_capture_on_commit_callbacks, dry_run="true"
    )
    job = job_report(editor_client, res.json()["job_id"])
    assert job["dry_run"] is True
    assert job["status"] == "succeeded"
    assert [r["status"] for r in job["report"]] == ["valid"] * 3
    assert job["created"] == 0
    assert Question.objects.count() == 0
    assert not AuditEvent.objects.filter(action="question.import").exists()


# --- per-row validation ------------------------------------------------------------------------
def test_invalid_and_duplicate_rows_are_reported_and_valid_rows_imported(
    editor_client: APIClient, django_capture_on_commit_callbacks: Any
) -> None:
    existing = make_question(stem="What is already in the bank?")
    rows = [
        'physiology,,single,3,"Good question one?",A1,B1,C1,,,B,,,',  # row 2 ok
        'nowhere,,single,3,"Unknown category?",A,B,,,,A,,,',  # 3
        'physiology,,single,3,"Two correct for single?",A,B,C,,,A;B,,,',  # 4
        "physiology,,single,3,,A,B,,,,A,,,",  # 5 no stem
        'physiology,,single,7,"Difficulty seven?",A,B,,,,A,,,',  # 6
        'physiology,,single,3,"Answer letter not offered?",A,B,,,,D,,,',  # 7
        'physiology,,single,3,"good question ONE",X,Y,,,,A,,,',  # 8 duplicate of row 2
        f'physiology,,single,3,"{existing.stem}",A,B,,,,A,,,',  # 9 duplicate of the bank
        'physiology,not-a-sub,single,3,"Bad subcategory?",A,B,,,,A,,,',  # 10
        'physiology,,essay,3,"Bad type?",A,B,,,,A,,,',  # 11
        # 12 ok
        'physiology,cardiovascular,multi,1,"Good multi?",A,B,C,,,A;C,<script>x()</script>ok,,a;b',
    ]
    content = (HEADER + "\n".join(rows) + "\n").encode()
    res = upload(editor_client, "mixed.csv", content, django_capture_on_commit_callbacks)
    job = job_report(editor_client, res.json()["job_id"])
    by_row = {r["row"]: r for r in job["report"]}
    assert {n: r["status"] for n, r in by_row.items()} == {
        2: "created",
        3: "invalid",
        4: "invalid",
        5: "invalid",
        6: "invalid",
        7: "invalid",
        8: "duplicate",
        9: "duplicate",
        10: "invalid",
        11: "invalid",
        12: "created",
    }
    assert "unknown category" in by_row[3]["errors"][0]
    assert "exactly one correct" in " ".join(by_row[4]["errors"])
    assert by_row[5]["errors"] == ["stem: required."]
    assert "difficulty" in by_row[6]["errors"][0]
    assert "D is not one of the options" in " ".join(by_row[7]["errors"])
    assert by_row[8]["duplicate_of"] == "row 2"
    assert by_row[9]["duplicate_of"] == f"question {existing.pk}"
    assert "subcategory" in by_row[10]["errors"][0]
    assert "type" in by_row[11]["errors"][0]
    assert (job["created"], job["duplicates"], job["invalid"]) == (2, 2, 7)
    assert Question.objects.count() == 3
    multi = Question.objects.get(stem="Good multi?")
    assert multi.explanation == "ok"
    assert by_row[12]["question_id"] == multi.pk


def test_json_rows_with_wrong_shapes_are_invalid(
    editor_client: APIClient, django_capture_on_commit_callbacks: Any
) -> None:
    payload = {
        "questions": [
            "not an object",
            {
                "category": "trauma",
                "stem": "S?",
                "options": [{"text": "a", "is_correct": "yes"}, {"text": "b"}],
            },
        ]
    }
    res = upload(
        editor_client, "x.json", json.dumps(payload).encode(), django_capture_on_commit_callbacks
    )
    job = job_report(editor_client, res.json()["job_id"])
    assert [r["status"] for r in job["report"]] == ["invalid", "invalid"]
    assert "is_correct" in " ".join(job["report"][1]["errors"])


# --- refusals at upload ------------------------------------------------------------------------
def test_oversized_file_is_413(
    editor_client: APIClient, django_capture_on_commit_callbacks: Any
) -> None:
    res = upload(
        editor_client, "big.csv", b"a" * (MAX_IMPORT_BYTES + 1), django_capture_on_commit_callbacks
    )
    assert res.status_code == 413
    assert res.json()["code"] == "payload_too_large"
    assert ImportJob.objects.count() == 0


def test_too_many_rows_is_400(
    editor_client: APIClient, django_capture_on_commit_callbacks: Any
) -> None:
    rows = "".join(
        f'physiology,,single,3,"Q{i}?",A,B,,,,A,,,\n' for i in range(MAX_IMPORT_ROWS + 1)
    )
    res = upload(
        editor_client, "many.csv", (HEADER + rows).encode(), django_capture_on_commit_callbacks
    )
    assert res.status_code == 400
    assert res.json()["code"] == "too_many_rows"
    assert ImportJob.objects.count() == 0


@pytest.mark.parametrize(
    ("name", "content", "status", "code"),
    [
        ("notes.txt", b"category,stem\nx,y\n", 415, "unsupported_media_type"),
        ("bank.xlsx", b"category,stem\nx,y\n", 415, "unsupported_media_type"),
        ("bank.csv", b"PK\x03\x04binary", 415, "unsupported_media_type"),
        ("bank.json", b"{not json", 400, "validation_error"),
        ("bank.json", b'{"a": 1}', 400, "validation_error"),
        ("bank.csv", b"title,body\nx,y\n", 400, "validation_error"),
        ("bank.csv", HEADER.encode(), 400, "validation_error"),
        ("bank.csv", b"", 400, "validation_error"),
        (
            "bank.csv",
            "category,stem\nphysiology,caf\xe9\n".encode("latin-1"),
            400,
            "validation_error",
        ),
    ],
)
def test_bad_files_are_refused_in_the_envelope(
    editor_client: APIClient,
    django_capture_on_commit_callbacks: Any,
    name: str,
    content: bytes,
    status: int,
    code: str,
) -> None:
    res = upload(editor_client, name, content, django_capture_on_commit_callbacks)
    assert res.status_code == status, res.json()
    assert res.json()["code"] == code
    assert ImportJob.objects.count() == 0


def test_missing_file_is_400(editor_client: APIClient) -> None:
    res = editor_client.post(URL, {"dry_run": "true"}, format="multipart")
    assert res.status_code == 400
    assert "file" in res.json()["fields"]


# --- permissions -------------------------------------------------------------------------------
@pytest.mark.parametrize("client_name", ["user_client", "examiner_client"])
def test_only_editors_and_admins_import(
    request: pytest.FixtureRequest, client_name: str, django_capture_on_commit_callbacks: Any
) -> None:
    client: APIClient = request.getfixturevalue(client_name)
    content = (SAMPLES / "questions-import.csv").read_bytes()
    res = upload(client, "q.csv", content, django_capture_on_commit_callbacks)
    assert res.status_code == 403
    assert ImportJob.objects.count() == 0


def test_job_is_visible_to_its_creator_and_admins_only(
    editor_client: APIClient,
    admin_client_api: APIClient,
    user_client: APIClient,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from tests.accounts.factories import UserFactory
    from tests.conftest import client_for

    content = (SAMPLES / "questions-import.csv").read_bytes()
    job_id = upload(
        editor_client, "q.csv", content, django_capture_on_commit_callbacks, dry_run="true"
    ).json()["job_id"]
    other_editor = client_for(UserFactory(role="editor", is_staff=True))
    assert other_editor.get(f"{URL}/{job_id}").status_code == 404
    assert admin_client_api.get(f"{URL}/{job_id}").status_code == 200
    assert user_client.get(f"{URL}/{job_id}").status_code == 403
    assert editor_client.get(f"{URL}/999999").status_code == 404


# --- the worker --------------------------------------------------------------------------------
def test_job_runs_once(editor: Any) -> None:
    job = ImportJob.objects.create(
        created_by=editor,
        filename="q.csv",
        format="csv",
        content=(SAMPLES / "questions-import.csv").read_bytes(),
    )
    assert run_import_job(job_id=job.pk).created_count == 3
    again = run_import_job(job_id=job.pk)
    assert again.status == ImportStatus.SUCCEEDED
    assert again.created_count == 3
    assert Question.objects.count() == 3


def test_unreadable_stored_file_fails_the_job_cleanly(editor: Any) -> None:
    job = ImportJob.objects.create(
        created_by=editor, filename="q.json", format="json", content=b"{oops"
    )
    done = run_import_job(job_id=job.pk)
    assert done.status == ImportStatus.FAILED
    assert done.error
    assert done.finished_at is not None
    assert Question.objects.count() == 0
