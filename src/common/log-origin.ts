/**
 * Why `origin` cannot name a transparency log, or undefined when it can. A log signs its
 * checkpoints under its origin as the key name, so the origin obeys a key name's rule: not
 * empty, no space, no "+" (the verifier-key separator), no control character. The C2SP
 * recommendation of a schema-less URL is only that, and is not required of other logs.
 */
export function originFault(origin: string): string | undefined {
  if (origin === '') return 'must not be empty';
  if (/[\s+\u0000-\u001f]/u.test(origin)) return 'must hold no space, "+" or control character';
  return undefined;
}
