import type { ReactNode } from 'react';
import type { Problem } from './api/problem.js';
import { signInHref } from './api/session.js';

/**
 * A failure, said in words, with the service's code for anyone who reports it. A session that
 * has ended comes with the way back in, returning to this page.
 */
export function ProblemView({ title, problem }: { title: string; problem: Problem }): ReactNode {
  return (
    <div className="problem" role="alert">
      <p className="problem-title">{title}</p>
      <p>
        {problem.message} <span className="problem-code">({problem.code})</span>
      </p>
      {problem.code === 'UNAUTHENTICATED' && (
        <p>
          Your session has ended.{' '}
          <a href={signInHref(`${window.location.pathname}${window.location.search}`)}>
            Sign in again
          </a>
        </p>
      )}
    </div>
  );
}
