from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "apps.analytics"
    label = "analytics"

    def ready(self) -> None:
        # The ports of the layers below (apps.core.ports): the learning record records the
        # answers practice and exams publish, supplies the category list's progress and its
        # section of the GDPR export.
        from apps.accounts.personal_data import personal_data_sections
        from apps.analytics.answered import last_answered_questions
        from apps.analytics.selectors import category_progress_for, personal_data
        from apps.analytics.services import record_answers
        from apps.exams.answered import answered_questions
        from apps.questions.learning import answer_recorder
        from apps.taxonomy.progress import progress_provider

        answer_recorder.provide(record_answers)
        progress_provider.provide(category_progress_for)
        personal_data_sections.provide("analytics", personal_data)
        # The mock draw puts questions a candidate has never answered first.
        answered_questions.provide(last_answered_questions)
