/**
 * Signs in and reads the dashboard: the example `make client` type-checks, so a change of the
 * dashboard's shape that the web client relies on fails the build here first.
 *
 *   const access = await signIn("http://127.0.0.1:8000", "demo@openmrcs.local", password);
 *   summary(await loadDashboard("http://127.0.0.1:8000", access)).forEach((l) => console.log(l));
 */
import { createApiClient, type ApiError, type Schemas } from "../src/index";

export async function signIn(baseUrl: string, email: string, password: string): Promise<string> {
  const api = createApiClient({ baseUrl });
  const { data, error } = await api.POST("/api/v1/auth/login", { body: { email, password } });
  if (error) {
    throw new Error(describe(error));
  }
  return data.access;
}

export async function loadDashboard(baseUrl: string, access: string): Promise<Schemas["Dashboard"]> {
  const api = createApiClient({ baseUrl, accessToken: () => access });
  const { data, error } = await api.GET("/api/v1/dashboard");
  if (error) {
    throw new Error(describe(error));
  }
  return data;
}

export function summary(dashboard: Schemas["Dashboard"]): string[] {
  const { overall_progress: progress, performance, study_time: week } = dashboard;
  const lines = [
    `categories completed: ${progress.completed} of ${progress.total}`,
    `average score: ${performance.avg_score_percent}% (${performance.correct} correct, ${performance.incorrect} incorrect)`,
    `study this week: ${week.hours_this_week} h (${week.delta_vs_last_week >= 0 ? "+" : ""}${week.delta_vs_last_week} h)`,
  ];
  const exam = dashboard.recent_activity.last_exam;
  lines.push(exam ? `last mock: ${exam.exam}, ${exam.score_percent}%, ${exam.days_ago} day(s) ago` : "no mock yet");
  for (const topic of dashboard.suggested_topics) {
    lines.push(`suggested: ${topic.category} (${topic.reason})`);
  }
  return lines;
}

function describe(error: ApiError): string {
  const fields = Object.entries(error.fields ?? {}).map(([name, messages]) => `${name}: ${messages.join(" ")}`);
  return [`${error.code}: ${error.message}`, ...fields].join("; ");
}
