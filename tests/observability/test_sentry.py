"""Sentry: on only with a DSN, and then every event carries the release and the environment.

Each case runs in a fresh interpreter: the SDK's client and integrations are process-wide."""

from __future__ import annotations

import json
import textwrap

from tests.observability.conftest import run_python

DSN = "https://public@sentry.example.invalid/1"
SETTINGS_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "DJANGO_SECRET_KEY": "sentry-test-" + "x" * 50,
    "DJANGO_ALLOWED_HOSTS": "testserver",
}

# Loads the settings, then reports the client the settings left behind.
CLIENT_REPORT = textwrap.dedent(
    """
    import json
    import django
    django.setup()
    import sentry_sdk
    client = sentry_sdk.get_client()
    print(json.dumps({
        "active": client.is_active(),
        "dsn": client.options.get("dsn"),
        "release": client.options.get("release"),
        "environment": client.options.get("environment"),
        "send_default_pii": client.options.get("send_default_pii"),
        "traces_sample_rate": client.options.get("traces_sample_rate"),
        "integrations": sorted(getattr(client, "integrations", {})),
    }))
    """
)


def last_json_line(stdout: str) -> dict[str, object]:
    parsed: dict[str, object] = json.loads(stdout.strip().splitlines()[-1])
    return parsed


def test_settings_with_a_dsn_start_sentry_with_release_and_environment() -> None:
    result = run_python(
        CLIENT_REPORT,
        **SETTINGS_ENV,
        SENTRY_DSN=DSN,
        RELEASE="2026.11.26-abc123",
        ENVIRONMENT="staging",
        SENTRY_TRACES_SAMPLE_RATE="0.25",
    )
    assert result.returncode == 0, result.stderr
    report = last_json_line(result.stdout)
    assert report["active"] is True
    assert report["dsn"] == DSN
    assert report["release"] == "2026.11.26-abc123"
    assert report["environment"] == "staging"
    assert report["send_default_pii"] is False
    assert report["traces_sample_rate"] == 0.25
    assert {"django", "celery"} <= set(report["integrations"])  # type: ignore[call-overload]


def test_settings_without_a_dsn_leave_sentry_off() -> None:
    result = run_python(CLIENT_REPORT, **SETTINGS_ENV, RELEASE="r1", ENVIRONMENT="staging")
    assert result.returncode == 0, result.stderr
    report = last_json_line(result.stdout)
    assert report["active"] is False
    assert report["dsn"] is None


def test_events_sent_carry_release_and_environment() -> None:
    """``configure_sentry`` with a transport that keeps envelopes instead of sending them."""
    code = textwrap.dedent(
        f"""
        import json
        import sentry_sdk
        from sentry_sdk.transport import Transport
        from apps.core.observability.sentry import configure_sentry

        sent = []

        class KeepingTransport(Transport):
            def capture_envelope(self, envelope):
                sent.extend(item.payload.json for item in envelope.items if item.payload.json)

        assert configure_sentry(dsn="", release="x", environment="y") is False
        assert not sentry_sdk.get_client().is_active()
        assert configure_sentry(
            dsn={DSN!r}, release="2026.11.26-abc123", environment="staging",
            transport=KeepingTransport,
        ) is True
        sentry_sdk.capture_message("observability test event")
        sentry_sdk.flush()
        events = [e for e in sent if e.get("message") == "observability test event"]
        print(json.dumps([{{k: e.get(k) for k in ("release", "environment")}} for e in events]))
        """
    )
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [
        {"release": "2026.11.26-abc123", "environment": "staging"}
    ]
