from django.apps import AppConfig


class StudyConfig(AppConfig):
    """The study engine: today's reviews and new questions within the candidate's limits, memory
    (FSRS retrievability), the plan to the exam date and streaks. Above readiness and analytics
    (it reads the learning record and the cards practice keeps), below recommendations."""

    name = "apps.study"
    label = "study"
