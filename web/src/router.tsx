import { useEffect, useState, type MouseEvent, type ReactNode } from 'react';

/** Client routes live under the console's base path; the service answers index.html for them. */
export const BASE = '/console';

const NAVIGATED = 'gatehouse:navigated';

/** The route of the current location: the path under BASE, `/` for the console's root. */
function currentRoute(): string {
  const path = window.location.pathname;
  const route = path.startsWith(BASE) ? path.slice(BASE.length) : path;
  return route === '' ? '/' : route;
}

export function navigate(route: string): void {
  window.history.pushState(null, '', `${BASE}${route}`);
  window.dispatchEvent(new Event(NAVIGATED));
}

/** The current route, following links, back and forward. */
export function useRoute(): string {
  const [route, setRoute] = useState(currentRoute);
  useEffect(() => {
    const follow = (): void => {
      setRoute(currentRoute());
    };
    window.addEventListener('popstate', follow);
    window.addEventListener(NAVIGATED, follow);
    return () => {
      window.removeEventListener('popstate', follow);
      window.removeEventListener(NAVIGATED, follow);
    };
  }, []);
  return route;
}

/** A query parameter of the current location, following links, back and forward. */
export function useSearchParam(name: string): string | null {
  const read = (): string | null => new URLSearchParams(window.location.search).get(name);
  const [value, setValue] = useState(read);
  useEffect(() => {
    const follow = (): void => {
      setValue(new URLSearchParams(window.location.search).get(name));
    };
    window.addEventListener('popstate', follow);
    window.addEventListener(NAVIGATED, follow);
    return () => {
      window.removeEventListener('popstate', follow);
      window.removeEventListener(NAVIGATED, follow);
    };
  }, [name]);
  return value;
}

interface LinkProps {
  readonly to: string;
  readonly current?: boolean;
  readonly children: ReactNode;
}

/** A real link (it opens in a new tab, it is announced as one) that routes in place. */
export function Link({ to, current = false, children }: LinkProps): ReactNode {
  const follow = (event: MouseEvent<HTMLAnchorElement>): void => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
      return;
    }
    event.preventDefault();
    navigate(to);
  };
  return (
    <a href={`${BASE}${to}`} onClick={follow} aria-current={current ? 'page' : undefined}>
      {children}
    </a>
  );
}
