"""Fixtures and report hooks for the trust tests (GDPR, fuzzing, access matrix)."""

from tests.trust.fuzz_report import (  # noqa: F401  (hooks pytest picks up from this conftest)
    pytest_sessionfinish,
    pytest_terminal_summary,
    pytest_testnodedown,
)
