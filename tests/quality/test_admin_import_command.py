"""``manage.py import_questions``: the API's import from a shell, on the sample files."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from apps.audit.models import AuditEvent
from apps.questions.models import AnswerOption, ImportJob, Question, QuestionVersion
from tests.taxonomy.factories import CategoryFactory, SubcategoryFactory
from tests.terminal import Terminal

pytestmark = pytest.mark.django_db

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


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


def run(*args: Any, terminal: bool = False) -> tuple[str, str]:
    """The command's output and error streams; ``terminal``: both are a terminal, where the
    progress bar is drawn."""
    out, err = (Terminal(), Terminal()) if terminal else (StringIO(), StringIO())
    call_command("import_questions", *[str(a) for a in args], stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def counts() -> tuple[int, ...]:
    return tuple(
        model.objects.count()
        for model in (Question, AnswerOption, QuestionVersion, ImportJob, AuditEvent)
    )


def test_the_sample_csv_imports_with_a_progress_bar_and_reimports_as_duplicates(
    editor: Any,
) -> None:
    out, err = run(SAMPLES / "questions-import.csv", "--as", editor.email, terminal=True)
    assert "3 created, 0 duplicate(s), 0 invalid, of 3 row(s)." in out
    assert "importing" in err
    assert "3/3" in err  # tqdm's bar reached the end
    assert Question.objects.count() == 3
    assert set(Question.objects.values_list("created_by", flat=True)) == {editor.pk}
    job = ImportJob.objects.get()
    assert (job.status, job.dry_run, job.created_count) == ("succeeded", False, 3)
    assert AuditEvent.objects.filter(action="question.import", actor=editor).count() == 1

    again, err = run(SAMPLES / "questions-import.csv", "--no-progress", terminal=True)
    assert "0 created, 3 duplicate(s)" in again
    assert err == ""
    assert "row 2: duplicate: stem: already in the bank" in again
    assert Question.objects.count() == 3


def test_a_dry_run_reports_and_changes_nothing() -> None:
    before = counts()
    out, err = run(SAMPLES / "questions-import.json", "--dry-run", terminal=True)
    assert "Dry run, nothing written: 2 valid, 0 duplicate(s), 0 invalid, of 2 row(s)." in out
    assert "validating" in err
    assert counts() == before


def test_no_progress_bar_when_the_output_is_not_a_terminal(editor: Any) -> None:
    out, err = run(SAMPLES / "questions-import.csv", "--as", editor.email)  # e.g. a pipe

    assert "3 created" in out
    assert err == ""


def test_the_json_sample_imports_published_by_default_status(editor: Any) -> None:
    out, _ = run(SAMPLES / "questions-import.json", "--status", "published", "--no-progress")
    assert "2 created" in out
    assert Question.objects.filter(status="published").count() == 2
    assert QuestionVersion.objects.count() == 2  # each new question snapshotted once


def test_bad_files_and_users_are_refused_with_nothing_written(tmp_path: Path) -> None:
    before = counts()
    with pytest.raises(CommandError, match="No such file"):
        run(tmp_path / "missing.csv")
    pdf = tmp_path / "bank.pdf"
    pdf.write_bytes(b"%PDF-1.4")
    with pytest.raises(CommandError, match=r"\.csv, \.json or \.xlsx"):
        run(pdf)
    headless = tmp_path / "bank.csv"
    headless.write_text("stem\nWhat?\n")
    with pytest.raises(CommandError, match="Missing column"):
        run(headless)
    with pytest.raises(CommandError, match="No user"):
        run(SAMPLES / "questions-import.csv", "--as", "nobody@example.com")
    assert counts() == before


def test_invalid_rows_are_reported_and_valid_ones_imported(tmp_path: Path) -> None:
    content = (SAMPLES / "questions-import.csv").read_text().splitlines()
    broken = content[1].replace(",A,", ",Z,", 1)  # a key that names no option
    bank = tmp_path / "bank.csv"
    bank.write_text("\n".join([content[0], broken, content[2]]) + "\n")
    out, _ = run(bank, "--no-progress")
    assert "row 2: invalid:" in out
    assert "1 created, 0 duplicate(s), 1 invalid, of 2 row(s)." in out
    assert Question.objects.count() == 1
