from django.apps import AppConfig


class QualityConfig(AppConfig):
    """Item quality: item analysis per question version, mis-key detection, re-keying with
    regrading, and the editors' workbench. It sits above practice, exams and analytics (it
    reads the learning record and regrades what they graded) and beside the dashboard."""

    name = "apps.quality"
    label = "quality"
