/**
 * A client verb's way in: no token, an unreadable file or an empty one, a login that has expired
 * or a credentials file others can read, said plainly.
 */
export class CredentialsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CredentialsError';
  }
}
