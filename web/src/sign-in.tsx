import { useEffect, useId, useState, type SubmitEvent, type ReactNode } from 'react';
import { problemOf, type Problem } from './api/problem.js';
import { devSignIn, devSignInAvailable, signInHref } from './api/session.js';
import { ProblemView } from './problem-view.js';
import { signInFailureMessage, withoutSignInFailure } from './sign-in-failure.js';

/** Signed out: the provider's sign-in, and the development issuer's when the service has it. */
export function SignIn({ onSignedIn }: { onSignedIn: () => void }): ReactNode {
  const returnTo = `${window.location.pathname}${withoutSignInFailure(window.location.search)}`;
  const failure = signInFailureMessage(window.location.search);
  const [devAvailable, setDevAvailable] = useState(false);
  useEffect(() => {
    let live = true;
    devSignInAvailable().then(
      (available) => {
        if (live) setDevAvailable(available);
      },
      () => {
        // Unreachable or refused: the provider's sign-in is the only one offered.
      },
    );
    return () => {
      live = false;
    };
  }, []);
  return (
    <section className="sign-in" aria-labelledby="sign-in-title">
      <h1 id="sign-in-title">Sign in</h1>
      {failure !== null && (
        <p className="problem" role="alert">
          {failure}
        </p>
      )}
      <p>The console shows what your roles allow. Sign in with your organisation's account.</p>
      <p>
        <a className="button" href={signInHref(returnTo)}>
          Sign in
        </a>
      </p>
      {devAvailable && <DevSignIn onSignedIn={onSignedIn} />}
    </section>
  );
}

function DevSignIn({ onSignedIn }: { onSignedIn: () => void }): ReactNode {
  const id = useId();
  const [subject, setSubject] = useState('');
  const [roles, setRoles] = useState('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const submit = (event: SubmitEvent<HTMLFormElement>): void => {
    event.preventDefault();
    setBusy(true);
    setProblem(null);
    const roleList = roles
      .split(/[\s,]+/)
      .map((role) => role.trim())
      .filter((role) => role !== '');
    devSignIn(subject.trim(), roleList).then(onSignedIn, (error: unknown) => {
      setProblem(problemOf(error));
      setBusy(false);
    });
  };
  return (
    <form className="dev-sign-in" onSubmit={submit} aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Dev sign-in (development issuer, not for production)</h2>
      <p>
        This service runs its development issuer: anyone can sign in as anyone. It is off in
        production.
      </p>
      <label htmlFor={`${id}-subject`}>Subject</label>
      <input
        id={`${id}-subject`}
        name="subject"
        required
        autoComplete="username"
        value={subject}
        onChange={(event) => {
          setSubject(event.target.value);
        }}
      />
      <label htmlFor={`${id}-roles`}>Roles (separated by commas or spaces)</label>
      <input
        id={`${id}-roles`}
        name="roles"
        value={roles}
        onChange={(event) => {
          setRoles(event.target.value);
        }}
      />
      <button type="submit" disabled={busy}>
        Dev sign-in
      </button>
      {problem && <ProblemView title="Dev sign-in failed" problem={problem} />}
    </form>
  );
}
