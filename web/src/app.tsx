import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import { problemOf, type Problem } from './api/problem.js';
import { fetchSession, signOut, type Session } from './api/session.js';
import { EndpointsPage } from './pages/endpoints-page.js';
import { InboxPage } from './pages/inbox-page.js';
import { LedgerPage } from './pages/ledger-page.js';
import { ReportsPage } from './pages/reports-page.js';
import { RequestPage } from './pages/request-page.js';
import { RolloutPage } from './pages/rollout-page.js';
import { RolloutsPage } from './pages/rollouts-page.js';
import { ProblemView } from './problem-view.js';
import { Link, useRoute } from './router.js';
import { SignIn } from './sign-in.js';

type SessionState =
  | { readonly state: 'loading' }
  | { readonly state: 'signed-out' }
  | { readonly state: 'signed-in'; readonly session: Session }
  | { readonly state: 'failed'; readonly problem: Problem };

/** The pages of the console, each with its nav entry; `/` shows the first. */
const PAGES = [
  {
    route: '/ledger',
    label: 'Ledger',
    render: (session: Session) => <LedgerPage session={session} />,
  },
  {
    route: '/inbox',
    label: 'Inbox',
    render: (session: Session) => <InboxPage session={session} />,
  },
  {
    route: '/endpoints',
    label: 'Endpoints',
    render: (session: Session) => <EndpointsPage session={session} />,
  },
  {
    route: '/rollouts',
    label: 'Rollouts',
    render: (session: Session) => <RolloutsPage session={session} />,
  },
  {
    route: '/reports',
    label: 'Reports',
    render: (session: Session) => <ReportsPage session={session} />,
  },
] as const;

const REQUEST_ROUTE = /^\/requests\/([^/]+)$/;
const ROLLOUT_ROUTE = /^\/rollouts\/([^/]+)$/;

export function App(): ReactNode {
  const [session, setSession] = useState<SessionState>({ state: 'loading' });
  const load = useCallback(() => {
    fetchSession().then(
      (found) => {
        setSession(found ? { state: 'signed-in', session: found } : { state: 'signed-out' });
      },
      (error: unknown) => {
        setSession({ state: 'failed', problem: problemOf(error) });
      },
    );
  }, []);
  useEffect(load, [load]);
  const route = useRoute();
  // After a move between pages, focus goes to the new content, as a page load would put it.
  const main = useRef<HTMLElement>(null);
  const moved = useRef(false);
  useEffect(() => {
    if (moved.current) main.current?.focus();
    moved.current = true;
  }, [route]);
  const page =
    PAGES.find((candidate) => candidate.route === route) ?? (route === '/' ? PAGES[0] : undefined);
  // A promotion request's page is reached from the inbox, and is no entry of the navigation.
  const requestId = REQUEST_ROUTE.exec(route)?.[1];
  const rolloutId = ROLLOUT_ROUTE.exec(route)?.[1];

  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <p className="product">Gatehouse console</p>
        {session.state === 'signed-in' && (
          <nav aria-label="Console">
            <ul>
              {PAGES.map((entry) => (
                <li key={entry.route}>
                  <Link to={entry.route} current={entry === page}>
                    {entry.label}
                  </Link>
                </li>
              ))}
            </ul>
          </nav>
        )}
        {session.state === 'signed-in' && (
          <SignedIn
            session={session.session}
            onSignedOut={() => {
              setSession({ state: 'signed-out' });
            }}
          />
        )}
      </header>
      <main id="main" tabIndex={-1} ref={main}>
        {session.state === 'loading' && <p role="status">Checking your session…</p>}
        {session.state === 'failed' && (
          <ProblemView title="Your session could not be checked" problem={session.problem} />
        )}
        {session.state === 'signed-out' && <SignIn onSignedIn={load} />}
        {session.state === 'signed-in' &&
          (page ? (
            page.render(session.session)
          ) : rolloutId !== undefined ? (
            <RolloutPage session={session.session} id={decodeURIComponent(rolloutId)} />
          ) : requestId === undefined ? (
            <NotFound route={route} />
          ) : (
            <RequestPage session={session.session} id={decodeURIComponent(requestId)} />
          ))}
      </main>
    </>
  );
}

function SignedIn({
  session,
  onSignedOut,
}: {
  session: Session;
  onSignedOut: () => void;
}): ReactNode {
  const [problem, setProblem] = useState<Problem | null>(null);
  return (
    <div className="who">
      <p>
        Signed in as <strong>{session.subject}</strong>
        <span className="roles">
          {session.roles.length > 0 ? ` (${session.roles.join(', ')})` : ' (no roles)'}
        </span>
      </p>
      <button
        type="button"
        onClick={() => {
          signOut(session).then(onSignedOut, (error: unknown) => {
            setProblem(problemOf(error));
          });
        }}
      >
        Sign out
      </button>
      {problem && <ProblemView title="Sign-out failed" problem={problem} />}
    </div>
  );
}

function NotFound({ route }: { route: string }): ReactNode {
  return (
    <>
      <h1>Page not found</h1>
      <p>
        The console has no page at <code>{route}</code>. <Link to="/ledger">Open the ledger</Link>.
      </p>
    </>
  );
}
