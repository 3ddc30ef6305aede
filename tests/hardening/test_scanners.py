"""The security scanners of `make security`: bandit's configuration still catches real findings
(assert allowed in tests only), and the pip-audit gate fails on any known vulnerability while a
service it cannot reach only warns."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
BANDIT = Path(sys.executable).with_name("bandit")


def load_gate() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "pip_audit_gate", ROOT / "scripts/pip_audit_gate.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gate = load_gate()


# --- bandit --------------------------------------------------------------------------------------


def run_bandit(target: Path) -> tuple[int, list[dict[str, object]]]:
    result = subprocess.run(
        [str(BANDIT), "-q", "-r", str(target), "-c", str(ROOT / "pyproject.toml"), "-f", "json"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    return result.returncode, json.loads(result.stdout)["results"]


def test_bandit_config_catches_real_findings_and_allows_assert_only_in_tests(
    tmp_path: Path,
) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "views.py").write_text(
        "import subprocess\n\n\ndef run(cmd):\n    assert cmd\n"
        "    return subprocess.call(cmd, shell=True)\n"
    )
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_views.py").write_text("def test_it():\n    assert 1 + 1 == 2\n")
    code, results = run_bandit(tmp_path)
    found = {(Path(str(r["filename"])).name, r["test_id"]) for r in results}
    assert code == 1
    assert ("views.py", "B602") in found
    assert ("views.py", "B101") in found
    assert not any(name == "test_views.py" for name, _ in found)


def test_the_project_is_bandit_clean() -> None:
    code, results = run_bandit(ROOT / "apps")
    assert results == []
    assert code == 0
    code, results = run_bandit(ROOT / "config")
    assert results == []


# --- the pip-audit gate --------------------------------------------------------------------------


def dep(name: str, *vulns: str, skip: str | None = None) -> dict[str, object]:
    if skip:
        return {"name": name, "skip_reason": skip}
    return {
        "name": name,
        "version": "1.0",
        "vulns": [
            {"id": v, "fix_versions": ["1.1"], "aliases": [], "description": ""} for v in vulns
        ],
    }


def test_a_known_vulnerability_fails() -> None:
    report = {"dependencies": [dep("django"), dep("pyjwt", "PYSEC-2099-1")], "fixes": []}
    code, message = gate.classify(1, report, "")
    assert code == 1
    assert "PYSEC-2099-1" in message
    assert "pyjwt" in message


def test_a_vulnerability_fails_even_when_other_packages_were_skipped() -> None:
    report = {
        "dependencies": [
            dep("django", skip="Dependency not found on PyPI and could not be audited"),
            dep("pyjwt", "GHSA-xxxx"),
        ]
    }
    assert gate.classify(1, report, "")[0] == 1


def test_clean_dependencies_pass() -> None:
    code, message = gate.classify(0, {"dependencies": [dep("django"), dep("pyjwt")]}, "")
    assert code == 0
    assert "2 dependencies audited" in message


@pytest.mark.parametrize(
    "stderr",
    [
        "requests.exceptions.ConnectionError: HTTPSConnectionPool(host='pypi.org', port=443): "
        "Max retries exceeded",
        "urllib3.exceptions.NameResolutionError: Failed to resolve 'pypi.org' "
        "([Errno -3] Temporary failure in name resolution)",
        "pip_audit._service.interface.ServiceError: Connection timed out",
    ],
)
def test_a_network_error_warns_without_failing(stderr: str) -> None:
    code, message = gate.classify(1, None, stderr)
    assert code == 0
    assert "WARNING" in message
    assert "NOT checked" in message


def test_a_service_that_knows_no_package_warns_without_failing() -> None:
    report = {
        "dependencies": [
            dep(n, skip=f"Dependency not found on PyPI and could not be audited: {n} (1.0)")
            for n in ("django", "pyjwt")
        ]
    }
    code, message = gate.classify(0, report, "")
    assert code == 0
    assert "none of the 2 dependencies was audited" in message


def test_any_other_failure_fails() -> None:
    assert gate.classify(1, None, "ResolutionImpossible: no matching distribution")[0] == 1
    assert gate.classify(2, None, "usage: pip-audit [-h]")[0] == 1
    assert gate.classify(0, None, "")[0] == 1
