import type { ReactNode } from 'react';
import type { Problem } from './api/problem.js';

/** A failure, said in words, with the service's code for anyone who reports it. */
export function ProblemView({ title, problem }: { title: string; problem: Problem }): ReactNode {
  return (
    <div className="problem" role="alert">
      <p className="problem-title">{title}</p>
      <p>
        {problem.message} <span className="problem-code">({problem.code})</span>
      </p>
    </div>
  );
}
