/** What went wrong, in words a person can act on; `code` is the service's error code. */
export interface Problem {
  readonly code: string;
  readonly message: string;
  /** What the service added to explain it: the field at fault, the gates that failed. */
  readonly details?: Record<string, unknown>;
}

/** A failed call to the service, carrying the problem to show. */
export class ProblemError extends Error {
  readonly problem: Problem;

  constructor(problem: Problem) {
    super(problem.message);
    this.name = 'ProblemError';
    this.problem = problem;
  }
}

/** The `{error: {code, message}}` body of a REST answer, or a problem named by its status. */
export async function problemOfResponse(response: Response): Promise<Problem> {
  const fallback = {
    code: `HTTP_${response.status}`,
    message: `The service answered ${response.status} ${response.statusText}.`.replace(' .', '.'),
  };
  try {
    const body: unknown = await response.json();
    if (isRecord(body) && isRecord(body['error'])) {
      const { code, message } = body['error'];
      if (typeof code === 'string' && typeof message === 'string') return { code, message };
    }
  } catch {
    // Not JSON: a proxy's page or an empty body; the status says enough.
  }
  return fallback;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
