"""Operational telemetry: Prometheus metrics, OpenTelemetry tracing, Sentry, slow query log.

Importing this package is free: each module imports its heavy dependencies only when it is
switched on, so an environment that configures nothing pays nothing.
"""
