/**
 * The calls shown in README.md, kept here so that `make client` type-checks them: the README
 * cannot drift from the schema unnoticed.
 */
import { createApiClient, type Schemas } from "../src/index";

export async function readmeCalls(): Promise<void> {
  let access: string | null = null;
  const api = createApiClient({ baseUrl: "http://127.0.0.1:8000", accessToken: () => access });

  const login = await api.POST("/api/v1/auth/login", {
    body: { email: "demo@openmrcs.local", password: "theatre list at half past eight" },
  });
  if (login.error) throw new Error(`${login.error.code}: ${login.error.message}`);
  access = login.data.access;

  const { data, error, response } = await api.GET("/api/v1/dashboard");
  if (error) {
    // Every 4xx/5xx body is the envelope {code, message, fields?}; 401 means sign in again.
    console.error(response.status, error.code, error.message, error.fields);
  } else {
    const dashboard: Schemas["Dashboard"] = data;
    console.log(`${dashboard.overall_progress.completed} of ${dashboard.overall_progress.total} categories`);
  }

  // Path and query parameters are typed too:
  await api.GET("/api/v1/exams/sessions/{session_id}/review", { params: { path: { session_id: 77 } } });
  await api.GET("/api/v1/resources", { params: { query: { featured: true, page_size: 10 } } });
}
