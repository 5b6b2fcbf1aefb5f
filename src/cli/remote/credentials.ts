import { readFileSync } from 'node:fs';

/** A client verb's way in: no token, an unreadable file or an empty one, said plainly. */
export class CredentialsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CredentialsError';
  }
}

export interface CredentialOptions {
  /** `--token-file`: a file holding the bearer token (a mounted secret, say). */
  readonly tokenFile?: string | undefined;
}

/**
 * The bearer token a client verb sends: `GATEHOUSE_TOKEN`, else the file named by
 * `--token-file` or `GATEHOUSE_TOKEN_FILE`. The environment comes first because that is how a
 * CI system hands a job its secret.
 */
export async function bearerToken(
  options: CredentialOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  const fromEnv = env['GATEHOUSE_TOKEN']?.trim();
  if (fromEnv) return fromEnv;
  const file = options.tokenFile ?? env['GATEHOUSE_TOKEN_FILE'];
  if (file !== undefined && file !== '') return tokenOfFile(file);
  throw new CredentialsError(
    'no token: set GATEHOUSE_TOKEN, or name a file holding one with --token-file or GATEHOUSE_TOKEN_FILE',
  );
}

function tokenOfFile(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new CredentialsError(
      `token file ${file}: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}`,
    );
  }
  const token = text.trim();
  if (token === '') throw new CredentialsError(`token file ${file} is empty`);
  if (/\s/.test(token)) throw new CredentialsError(`token file ${file} holds more than one word`);
  return token;
}
