import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import { mayOpen, pageNeeds, type Permission } from './abilities.js';
import { fetchAbilities } from './api/abilities.js';
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
import { useLoaded, type Loaded } from './use-loaded.js';

type SessionState =
  | { readonly state: 'loading' }
  | { readonly state: 'signed-out' }
  | { readonly state: 'signed-in'; readonly session: Session }
  | { readonly state: 'failed'; readonly problem: Problem };

/** The pages of the console, each with its nav entry; `/` shows the first the roles may open. */
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
  // What the session's roles allow, read once per session: the navigation and the page both ask.
  const csrfToken = session.state === 'signed-in' ? session.session.csrfToken : null;
  const abilities = useLoaded(
    () => (csrfToken === null ? Promise.resolve([]) : fetchAbilities(csrfToken)),
    [csrfToken],
  );
  // After a move between pages, focus goes to the new content, as a page load would put it.
  const main = useRef<HTMLElement>(null);
  const moved = useRef(false);
  useEffect(() => {
    if (moved.current) main.current?.focus();
    moved.current = true;
  }, [route]);

  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <p className="product">Gatehouse console</p>
        {session.state === 'signed-in' && <Navigation abilities={abilities} route={route} />}
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
        {session.state === 'signed-in' && (
          <Content session={session.session} route={route} abilities={abilities} />
        )}
      </main>
    </>
  );
}

/** The page `route` names, or the first the roles may open for the console's root. */
function pageAt(route: string, abilities: readonly Permission[]) {
  if (route === '/') return PAGES.find((entry) => mayOpen(abilities, entry.route));
  return PAGES.find((entry) => entry.route === route);
}

/** The pages the session's roles may open: a page they cannot use is not offered. */
function Navigation({
  abilities,
  route,
}: {
  abilities: Loaded<readonly Permission[]>;
  route: string;
}): ReactNode {
  if (abilities.state !== 'loaded') return null;
  const current = pageAt(route, abilities.value);
  return (
    <nav aria-label="Console">
      <ul>
        {PAGES.filter((entry) => mayOpen(abilities.value, entry.route)).map((entry) => (
          <li key={entry.route}>
            <Link to={entry.route} current={entry === current}>
              {entry.label}
            </Link>
          </li>
        ))}
      </ul>
    </nav>
  );
}

/** The page of the route, once the roles are known to open it. */
function Content({
  session,
  route,
  abilities,
}: {
  session: Session;
  route: string;
  abilities: Loaded<readonly Permission[]>;
}): ReactNode {
  if (abilities.state === 'loading') return <p role="status">Reading what your roles allow…</p>;
  if (abilities.state === 'failed')
    return (
      <ProblemView title="What your roles allow could not be read" problem={abilities.problem} />
    );
  const page = pageAt(route, abilities.value);
  if (!mayOpen(abilities.value, route) || (route === '/' && page === undefined))
    return <NotForYourRoles session={session} route={route} abilities={abilities.value} />;
  if (page) return page.render(session);
  // A request's and a rollout's own pages are reached from their lists, not the navigation.
  const requestId = REQUEST_ROUTE.exec(route)?.[1];
  if (requestId !== undefined)
    return <RequestPage session={session} id={decodeURIComponent(requestId)} />;
  const rolloutId = ROLLOUT_ROUTE.exec(route)?.[1];
  if (rolloutId !== undefined)
    return <RolloutPage session={session} id={decodeURIComponent(rolloutId)} />;
  return <NotFound route={route} first={pageAt('/', abilities.value)} />;
}

function NotForYourRoles({
  session,
  route,
  abilities,
}: {
  session: Session;
  route: string;
  abilities: readonly Permission[];
}): ReactNode {
  const first = pageAt('/', abilities);
  const needs = pageNeeds(route);
  return (
    <>
      <h1>Not a page for your roles</h1>
      <p role="alert">
        Your roles ({session.roles.join(', ') || 'none'}) may not open <code>{route}</code>
        {needs === null ? '' : `: it needs the permission to ${needs}`}. The service would refuse
        what it asks for (FORBIDDEN).
        {first && (
          <>
            {' '}
            <Link to={first.route}>Open {first.label}</Link>.
          </>
        )}
      </p>
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

function NotFound({
  route,
  first,
}: {
  route: string;
  first: (typeof PAGES)[number] | undefined;
}): ReactNode {
  return (
    <>
      <h1>Page not found</h1>
      <p>
        The console has no page at <code>{route}</code>.
        {first && (
          <>
            {' '}
            <Link to={first.route}>Open {first.label}</Link>.
          </>
        )}
      </p>
    </>
  );
}
