from django.apps import AppConfig


class ExamsConfig(AppConfig):
    name = "apps.exams"
    label = "exams"

    def ready(self) -> None:
        from apps.accounts.personal_data import personal_data_sections
        from apps.exams.selectors import personal_data
        from apps.exams.selectors.held_out import open_exam_questions
        from apps.questions.held_out import held_out_questions

        personal_data_sections.provide("exams", personal_data)
        held_out_questions.provide(open_exam_questions)
