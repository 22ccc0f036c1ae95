/** The CLI's exit codes (API.md "CLI"): scripts branch on them. */
export const EXIT = { ok: 0, apiError: 1, usage: 2, unreachable: 3 } as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** The command line itself is wrong: unknown option, missing argument, no organization chosen. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, EXIT.usage);
  }
}

/** No answer from the service: refused, reset, unknown host, timed out. */
export class UnreachableError extends CliError {
  constructor(url: string, cause: unknown) {
    const reason = describeNetworkError(cause);
    super(`cannot reach Latchkey at ${url}: ${reason}`, EXIT.unreachable);
  }
}

/** The service answered with an error; its problem details are shown as they came. */
export class ApiError extends CliError {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly requestId: string | undefined,
  ) {
    super(problemDetail(status, body), EXIT.apiError);
  }

  /** Field errors of a 422 (`errors:[{path,message}]`), or Confluent-shaped errors' details. */
  fieldErrors(): string[] {
    const errors = (this.body as { errors?: unknown } | undefined)?.errors;
    if (!Array.isArray(errors)) return [];
    return errors.flatMap((entry: { path?: unknown; message?: unknown; detail?: unknown }) => {
      if (typeof entry.path === 'string' && typeof entry.message === 'string') return [`${entry.path || '(body)'}: ${entry.message}`];
      return [];
    });
  }
}

function problemDetail(status: number, body: unknown): string {
  if (body && typeof body === 'object') {
    const problem = body as { detail?: unknown; title?: unknown; code?: unknown; errors?: { detail?: unknown }[] };
    const code = typeof problem.code === 'string' ? ` (${problem.code})` : '';
    if (typeof problem.detail === 'string' && problem.detail) return `${problem.detail}${code}`;
    if (typeof problem.title === 'string') return `${problem.title}${code}`;
    const confluent = problem.errors?.[0]?.detail;
    if (typeof confluent === 'string') return confluent;
  }
  if (typeof body === 'string' && body.trim()) return `HTTP ${status}: ${body.trim().slice(0, 200)}`;
  return `HTTP ${status}`;
}

function describeNetworkError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return cause.code;
  if (cause?.message) return cause.message;
  return error instanceof Error ? error.message : String(error);
}
