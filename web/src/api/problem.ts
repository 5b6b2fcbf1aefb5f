import { ProblemError, type Problem } from '../../../src/client/problem.js';

export {
  isRecord,
  problemOfResponse,
  ProblemError,
  type Problem,
} from '../../../src/client/problem.js';

/** Any thrown value as a problem: the network, the service or the console itself. */
export function problemOf(error: unknown): Problem {
  if (error instanceof ProblemError) return error.problem;
  if (error instanceof TypeError) {
    return { code: 'NETWORK', message: 'The service could not be reached. Try again shortly.' };
  }
  return { code: 'CONSOLE', message: error instanceof Error ? error.message : String(error) };
}
