import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JWK } from 'jose';
import type { LedgerConfig } from '../config/config.js';
import { thumbprintKid, type PublicJwk } from './jws-verify.js';

/** An Ed25519 signing key of the ledger; `kid` is the RFC 7638 thumbprint of its public JWK. */
export interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicJwk: PublicJwk;
}

export class SigningKeyError extends Error {
  override readonly name = 'SigningKeyError';
}

/**
 * The private keys this process can sign with: the configured key file plus every key in the
 * keys folder. Which one is *current* is not decided here but by the ledger (the newest row of
 * ledger_keys), so that every replica signs with the same key after a rotation.
 */
export class KeyRing {
  private constructor(
    private readonly keys: Map<string, SigningKey>,
    private readonly dir: string,
  ) {}

  static async load(config: LedgerConfig): Promise<KeyRing> {
    const keys = new Map<string, SigningKey>();
    const add = (key: SigningKey): void => {
      keys.set(key.kid, key);
    };
    if (config.signingKeyFile !== undefined) {
      if (!existsSync(config.signingKeyFile)) {
        throw new SigningKeyError(
          `GATEHOUSE_SIGNING_KEY_FILE: ${config.signingKeyFile} does not exist`,
        );
      }
      add(await signingKeyFrom(readFileSync(config.signingKeyFile, 'utf8'), config.signingKeyFile));
    }
    if (existsSync(config.signingKeysDir)) {
      for (const file of readdirSync(config.signingKeysDir)
        .filter((f) => f.endsWith('.jwk'))
        .sort()) {
        const path = join(config.signingKeysDir, file);
        add(await signingKeyFrom(readFileSync(path, 'utf8'), path));
      }
    }
    const ring = new KeyRing(keys, config.signingKeysDir);
    if (keys.size === 0) {
      if (!config.generateSigningKey) {
        throw new SigningKeyError(
          'no ledger signing key: set GATEHOUSE_SIGNING_KEY_FILE or put a key in GATEHOUSE_SIGNING_KEYS_DIR',
        );
      }
      await ring.generate();
    }
    return ring;
  }

  get(kid: string): SigningKey | undefined {
    return this.keys.get(kid);
  }

  /**
   * Reads keys added to the keys folder since this process loaded it. Replicas sharing the
   * folder (one volume) learn a key another replica rotated to without a restart; a key kept
   * elsewhere still needs each replica to be given it (docs/operations.md).
   */
  async refresh(): Promise<boolean> {
    if (!existsSync(this.dir)) return false;
    let added = false;
    for (const file of readdirSync(this.dir).filter((f) => f.endsWith('.jwk'))) {
      if (this.keys.has(file.slice(0, -'.jwk'.length))) continue;
      const path = join(this.dir, file);
      const key = await signingKeyFrom(readFileSync(path, 'utf8'), path);
      if (!this.keys.has(key.kid)) {
        this.keys.set(key.kid, key);
        added = true;
      }
    }
    return added;
  }

  /** Deterministic choice for a brand-new ledger: the configured or first key. */
  first(): SigningKey {
    const key = this.keys.values().next().value;
    if (!key) throw new SigningKeyError('the key ring is empty');
    return key;
  }

  /** A new key, written to the keys folder (mode 0600) and added to the ring. */
  async generate(): Promise<SigningKey> {
    const { privateKey } = generateKeyPairSync('ed25519');
    const key = await signingKeyOf(privateKey);
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const jwk = privateKey.export({ format: 'jwk' });
    writeFileSync(join(this.dir, `${key.kid}.jwk`), JSON.stringify({ ...jwk, kid: key.kid }), {
      mode: 0o600,
      flag: 'wx',
    });
    this.keys.set(key.kid, key);
    return key;
  }
}

/** A PKCS#8 PEM or a private JWK, Ed25519 only. */
export async function signingKeyFrom(text: string, source: string): Promise<SigningKey> {
  let privateKey: KeyObject;
  try {
    privateKey = text.includes('-----BEGIN')
      ? createPrivateKey(text)
      : createPrivateKey({ key: JSON.parse(text) as JsonWebKeyInput, format: 'jwk' });
  } catch {
    throw new SigningKeyError(`${source}: not a PKCS#8 PEM or private JWK`);
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new SigningKeyError(
      `${source}: the ledger signs with Ed25519, this is ${privateKey.asymmetricKeyType ?? 'unknown'}`,
    );
  }
  return signingKeyOf(privateKey);
}

type JsonWebKeyInput = Parameters<typeof createPrivateKey>[0] extends infer T
  ? T extends { format: 'jwk'; key: infer K }
    ? K
    : never
  : never;

async function signingKeyOf(privateKey: KeyObject): Promise<SigningKey> {
  const exported = createPublicKey(privateKey).export({ format: 'jwk' }) as JWK;
  const x = exported.x ?? '';
  const kid = await thumbprintKid({ kty: 'OKP', crv: 'Ed25519', x });
  return {
    kid,
    privateKey,
    publicJwk: { kty: 'OKP', crv: 'Ed25519', x, kid, alg: 'EdDSA', use: 'sig' },
  };
}
