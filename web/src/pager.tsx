import { useState, type ReactNode } from 'react';

/**
 * Pages read forward by cursor (a seq, an opaque string): the cursors of the pages shown so
 * far, the last being the current page's, so that Previous goes back without a backward query.
 */
export function useCursorTrail<C>(first: C): {
  readonly cursor: C;
  /** How many pages came before this one. */
  readonly depth: number;
  readonly back: () => void;
  readonly forward: (next: C) => void;
  readonly restart: () => void;
} {
  const [trail, setTrail] = useState<readonly C[]>([first]);
  return {
    cursor: trail[trail.length - 1] ?? first,
    depth: trail.length - 1,
    back: () => {
      setTrail(trail.length > 1 ? trail.slice(0, -1) : trail);
    },
    forward: (next) => {
      setTrail([...trail, next]);
    },
    restart: () => {
      setTrail([first]);
    },
  };
}

/** Previous and Next, each disabled where there is no page to go to. */
export function Pager<C>({
  label,
  size,
  trail,
  next,
}: {
  /** What the pages are, for the navigation's accessible name: "Event pages". */
  label: string;
  size: number;
  trail: ReturnType<typeof useCursorTrail<C>>;
  /** The next page's cursor; null on the last page (or while it is not known). */
  next: C | null;
}): ReactNode {
  return (
    <nav className="pager" aria-label={label}>
      <button type="button" disabled={trail.depth === 0} onClick={trail.back}>
        Previous {size}
      </button>
      <button
        type="button"
        disabled={next === null}
        onClick={() => {
          if (next !== null) trail.forward(next);
        }}
      >
        Next {size}
      </button>
    </nav>
  );
}
