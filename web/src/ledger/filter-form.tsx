import { useId, useState, type ReactNode, type SubmitEvent } from 'react';
import { NO_FILTER, readFilter, type EventFilter, type FilterText } from './event-filter.js';

const FIELDS: readonly { key: keyof FilterText; label: string; placeholder: string }[] = [
  { key: 'type', label: 'Event type', placeholder: 'e.g. promotion.approved' },
  { key: 'subject', label: 'Subject', placeholder: 'e.g. promotion:…' },
  { key: 'actor', label: 'Actor', placeholder: 'e.g. carol' },
  { key: 'from', label: 'From (UTC)', placeholder: '2026-12-01T00:00:00Z' },
  { key: 'to', label: 'To (UTC, not included)', placeholder: '2026-12-02' },
];

/**
 * The event filters. A window bound that is no date is refused here, naming the field, before
 * anything is asked of the service (which refuses it too).
 */
export function FilterForm({ onFilter }: { onFilter: (filter: EventFilter) => void }): ReactNode {
  const id = useId();
  const [text, setText] = useState<FilterText>(NO_FILTER);
  const [refusal, setRefusal] = useState<{ field: keyof FilterText; reason: string } | null>(null);
  const submit = (event: SubmitEvent<HTMLFormElement>): void => {
    event.preventDefault();
    const read = readFilter(text);
    if (read.ok) {
      setRefusal(null);
      onFilter(read.filter);
    } else {
      setRefusal({ field: read.field, reason: read.reason });
    }
  };
  return (
    <form className="filter" onSubmit={submit} role="search" aria-label="Filter events" noValidate>
      {FIELDS.map(({ key, label, placeholder }) => (
        <div key={key}>
          <label htmlFor={`${id}-${key}`}>{label}</label>
          <input
            id={`${id}-${key}`}
            name={key}
            placeholder={placeholder}
            value={text[key]}
            aria-invalid={refusal?.field === key ? true : undefined}
            aria-describedby={refusal?.field === key ? `${id}-refusal` : undefined}
            onChange={(event) => {
              setText({ ...text, [key]: event.target.value });
            }}
          />
        </div>
      ))}
      <button type="submit">Filter</button>
      {refusal && (
        <p id={`${id}-refusal`} className="failed" role="alert">
          {refusal.reason}
        </p>
      )}
    </form>
  );
}
