import { hash } from 'node:crypto';
import { rememberEventHash } from './ledger-event.js';

/**
 * The event hash: lowercase hex SHA-256 of 0x00 ‖ UTF-8(canonical) — the RFC 9162 leaf hash,
 * so the chain and the Merkle tree share one leaf hash. "\0" is the 0x00 byte.
 */
export function eventHash(canonical: string): string {
  // crypto.hash hashes a string in one call, markedly faster than createHash per event.
  const digest = hash('sha256', '\0' + canonical, 'hex');
  rememberEventHash(digest);
  return digest;
}
