"""`make security`: pip-audit over the pinned runtime requirements, with an honest verdict.

- A known vulnerability in any dependency fails (exit 1), listing the advisories and fixes.
- When the vulnerability service cannot be reached (a network error, or a service that answers
  "not found" for every single package, as a mirror without PyPI's JSON API does), nothing was
  actually audited: a loud warning is printed and the target does not fail, because a red build
  would then say nothing about the code. Any other pip-audit failure fails.
- Otherwise the dependencies are clean (exit 0).

Usage: python scripts/pip_audit_gate.py [-r requirements/base.txt] [pip-audit args...]
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

NETWORK_ERROR = re.compile(
    r"ConnectionError|ConnectTimeout|ReadTimeout|NewConnectionError|NameResolutionError|"
    r"Temporary failure in name resolution|Name or service not known|Max retries exceeded|"
    r"Connection refused|Network is unreachable|timed out|ProxyError|SSLError|"
    r"ServiceError|HTTPError: 5\d\d",
    re.IGNORECASE,
)
UNREACHABLE_SKIP = re.compile(r"not found on PyPI|could not be audited", re.IGNORECASE)

BANNER = "=" * 78


def classify(returncode: int, report: dict[str, Any] | None, stderr: str) -> tuple[int, str]:
    """(exit code, message) for one pip-audit run."""
    if report is not None:
        deps = report.get("dependencies", [])
        vulnerable = [d for d in deps if d.get("vulns")]
        if vulnerable:
            lines = ["pip-audit: KNOWN VULNERABILITIES in the pinned requirements:"]
            for dep in vulnerable:
                for vuln in dep["vulns"]:
                    fixes = ", ".join(vuln.get("fix_versions") or []) or "no fix released"
                    lines.append(
                        f"  {dep['name']} {dep.get('version', '')}: {vuln['id']} ({fixes})"
                    )
            return 1, "\n".join(lines)
        skipped = [d for d in deps if d.get("skip_reason")]
        audited = [d for d in deps if not d.get("skip_reason")]
        if deps and not audited and all(UNREACHABLE_SKIP.search(d["skip_reason"]) for d in skipped):
            return 0, (
                f"{BANNER}\nWARNING: pip-audit could not reach its vulnerability service: none of "
                f"the {len(deps)} dependencies was audited.\nDependencies were NOT checked for "
                f"known vulnerabilities. Run `make security` where PyPI's JSON API is reachable.\n"
                f"{BANNER}"
            )
        if returncode != 0:
            return 1, f"pip-audit failed (exit {returncode}):\n{stderr.strip()}"
        message = f"pip-audit: {len(audited)} dependencies audited, no known vulnerabilities."
        if skipped:
            names = ", ".join(sorted(d["name"] for d in skipped))
            message += f"\nWARNING: {len(skipped)} could not be audited: {names}"
        return 0, message
    if returncode != 0 and NETWORK_ERROR.search(stderr):
        last = stderr.strip().splitlines()[-1] if stderr.strip() else ""
        return 0, (
            f"{BANNER}\nWARNING: pip-audit could not reach its vulnerability service (network "
            f"error):\n  {last}\nDependencies were NOT checked for known vulnerabilities.\n{BANNER}"
        )
    if returncode != 0:
        return 1, f"pip-audit failed (exit {returncode}):\n{stderr.strip()}"
    return 1, "pip-audit produced no report."


def main(argv: list[str]) -> int:
    args = argv or ["-r", "requirements/base.txt"]
    with tempfile.TemporaryDirectory() as tmp:
        output = Path(tmp) / "report.json"
        result = subprocess.run(
            [
                str(Path(sys.executable).with_name("pip-audit")),
                *args,
                "--progress-spinner",
                "off",
                "--format",
                "json",
                "--output",
                str(output),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        report = None
        if output.exists() and output.stat().st_size:
            try:
                report = json.loads(output.read_text())
            except json.JSONDecodeError:
                report = None
    code, message = classify(result.returncode, report, result.stderr)
    print(message, file=sys.stderr if code else sys.stdout)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
