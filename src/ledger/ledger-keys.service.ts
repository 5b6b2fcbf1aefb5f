import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { LedgerRepository } from './ledger.repository.js';
import { LedgerSequencer, type Actor } from './ledger-sequencer.service.js';
import type { PublicJwk } from './jws-verify.js';
import { KeyRing, SigningKeyError } from './signing-keys.js';

/**
 * The ledger's signing keys as the ledger itself records them. The first key is registered
 * with the first event (genesis); each rotation is an event signed by the old key that carries
 * the new public JWK, and the new key signs everything after it.
 */
@Injectable()
export class LedgerKeysService implements OnApplicationBootstrap {
  constructor(
    private readonly repository: LedgerRepository,
    private readonly sequencer: LedgerSequencer,
    private readonly ring: KeyRing,
  ) {}

  /**
   * Fails start-up when this process could not sign: the ledger's current key must be in its
   * key ring. (A new ledger registers its genesis key with its first event.)
   */
  async onApplicationBootstrap(): Promise<void> {
    const current = (await this.repository.keys()).at(-1);
    if (current !== undefined && !this.ring.get(current.kid)) {
      throw new SigningKeyError(
        `the ledger's current signing key ${current.kid} is not available: put it in GATEHOUSE_SIGNING_KEYS_DIR ` +
          'or GATEHOUSE_SIGNING_KEY_FILE',
      );
    }
  }

  /**
   * Rotates to `kid` if given (a key already placed in every replica's keys folder) or to a
   * newly generated key. The rotation event is signed by the old key.
   */
  async rotate(
    actor: Actor,
    kid?: string,
  ): Promise<{ seq: number; previousKid: string; key: PublicJwk }> {
    const next = kid === undefined ? await this.ring.generate() : this.ring.get(kid);
    if (!next)
      throw new SigningKeyError(`signing key ${kid ?? ''} is not in GATEHOUSE_SIGNING_KEYS_DIR`);
    const { rotation } = await this.sequencer.run({ kind: 'rotate', actor, to: next });
    if (!rotation) throw new Error('the rotation was not appended');
    return { seq: rotation.seq, previousKid: rotation.previousKid, key: next.publicJwk };
  }

  /** Every public key the ledger has ever used (RFC 7517 JWK set). */
  async jwks(): Promise<{ keys: PublicJwk[] }> {
    return { keys: (await this.repository.keys()).map((k) => k.publicJwk) };
  }
}
