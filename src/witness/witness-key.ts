import { generateKeyPairSync, createPrivateKey, type KeyObject } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import {
  NOTE_COSIGNATURE_V1,
  ed25519VerifierKey,
  formatVkey,
  rawEd25519PublicKey,
} from '../ledger/signed-note.js';

/**
 * The witness's Ed25519 key, a PKCS#8 PEM file readable by its owner only. Made on first use
 * when absent: the operator runs `gatehouse witness key` once and hands the printed vkey to the
 * logs it witnesses and to whoever verifies its cosignatures.
 */
export function loadOrCreateWitnessKey(file: string): { privateKey: KeyObject; created: boolean } {
  let pem: string | undefined;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (pem !== undefined) {
    const privateKey = createPrivateKey(pem);
    if (privateKey.asymmetricKeyType !== 'ed25519')
      throw new Error(`${file}: the witness key is an Ed25519 private key`);
    return { privateKey, created: false };
  }
  const { privateKey } = generateKeyPairSync('ed25519');
  const text = privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
  // "wx": never overwrite a key another process made meanwhile.
  const fd = openSync(file, 'wx', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return { privateKey, created: true };
}

/** The witness's cosignature verifier key: `<name>+<key ID>+base64(0x04 || public key)`. */
export function witnessVkey(name: string, privateKey: KeyObject): string {
  return formatVkey(ed25519VerifierKey(name, rawEd25519PublicKey(privateKey), NOTE_COSIGNATURE_V1));
}
