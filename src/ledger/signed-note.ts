import {
  createHash,
  createPrivateKey,
  createPublicKey,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import {
  checkKeyName,
  checkNoteText,
  concludeVerification,
  cosignedMessage,
  decodeBase64,
  decodeVkey,
  hexId,
  keyIdInput,
  NOTE_COSIGNATURE_V1,
  NOTE_ED25519,
  NoteError,
  signatureChecks,
  splitPlus,
  type Note,
  type NoteSignature,
  type NoteVerifierKey,
  type VerifiedSignature,
} from './note-format.js';

/**
 * Signing notes with the ledger's (or a witness's) key, and verifying them synchronously, with
 * node:crypto. The format itself, and the verification the browser can run, are note-format.ts.
 */
export * from './note-format.js';

/** SHA-256(name || 0x0A || type || public key)[:4], big-endian: the recommended key ID. */
export function noteKeyId(name: string, type: number, publicKey: Uint8Array): number {
  return createHash('sha256')
    .update(keyIdInput(name, type, publicKey))
    .digest()
    .readUInt32BE(0);
}

/** Reads a vkey, refusing one whose ID is not the one its name, type and key give. */
export function parseVkey(vkey: string): NoteVerifierKey {
  const key = decodeVkey(vkey);
  if (noteKeyId(key.name, key.type, key.publicKey) !== key.keyId)
    throw new NoteError('the verifier key ID does not match its name and key');
  return key;
}

/** The verifier key of an Ed25519 public key (raw 32 bytes) under `name`. */
export function ed25519VerifierKey(
  name: string,
  publicKey: Uint8Array,
  type: typeof NOTE_ED25519 | typeof NOTE_COSIGNATURE_V1 = NOTE_ED25519,
): NoteVerifierKey {
  checkKeyName(name);
  if (publicKey.length !== 32) throw new NoteError('an Ed25519 public key is 32 bytes');
  return {
    name,
    keyId: noteKeyId(name, type, publicKey),
    type,
    publicKey: Uint8Array.from(publicKey),
  };
}

/** The raw 32-byte public key of an Ed25519 KeyObject (private or public). */
export function rawEd25519PublicKey(key: KeyObject): Uint8Array {
  const jwk = (key.type === 'private' ? createPublicKey(key) : key).export({ format: 'jwk' });
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string')
    throw new NoteError('not an Ed25519 key');
  return Buffer.from(jwk.x, 'base64url');
}

/** A private key from the Go tools' `PRIVATE+KEY+<name>+<id>+base64(0x01 || seed)`. */
export function parseNoteSignerKey(skey: string): { key: NoteVerifierKey; privateKey: KeyObject } {
  const parts = splitPlus(skey, 5);
  if (!parts || parts[0] !== 'PRIVATE' || parts[1] !== 'KEY')
    throw new NoteError('a signer key is PRIVATE+KEY+<name>+<key ID>+<key>');
  const [, , name = '', idHex = '', material = ''] = parts;
  const bytes = decodeBase64(material, 'the signer key');
  if (bytes[0] !== NOTE_ED25519 || bytes.length !== 33)
    throw new NoteError('a signer key holds 0x01 and a 32-byte Ed25519 seed');
  const privateKey = ed25519PrivateKeyOfSeed(bytes.subarray(1));
  const key = ed25519VerifierKey(name, rawEd25519PublicKey(privateKey));
  if (hexId(key.keyId) !== idHex)
    throw new NoteError('the signer key ID does not match its name and key');
  return { key, privateKey };
}

export function ed25519PrivateKeyOfSeed(seed: Uint8Array): KeyObject {
  // PKCS#8 wrapping of a raw Ed25519 seed: the fixed RFC 8410 prefix, then the 32 bytes.
  const prefix = Buffer.from('302e020100300506032b657004220420', 'hex');
  return createPrivateKey({ key: Buffer.concat([prefix, seed]), format: 'der', type: 'pkcs8' });
}

/** A note text's Ed25519 signature (type 0x01) under `name`. */
export function signNoteText(text: string, name: string, privateKey: KeyObject): NoteSignature {
  checkNoteText(text);
  const key = ed25519VerifierKey(name, rawEd25519PublicKey(privateKey));
  return {
    name,
    keyId: key.keyId,
    signature: Uint8Array.from(sign(null, Buffer.from(text, 'utf8'), privateKey)),
  };
}

/** A witness's timestamped Ed25519 cosignature (type 0x04) of a checkpoint note's text. */
export function cosignNoteText(
  text: string,
  name: string,
  privateKey: KeyObject,
  timestamp: number,
): NoteSignature {
  checkNoteText(text);
  if (!Number.isSafeInteger(timestamp) || timestamp < 0)
    throw new NoteError('a cosignature timestamp is a non-negative integer of seconds');
  const key = ed25519VerifierKey(name, rawEd25519PublicKey(privateKey), NOTE_COSIGNATURE_V1);
  const time = Buffer.alloc(8);
  time.writeBigUInt64BE(BigInt(timestamp));
  const signature = sign(null, Buffer.from(cosignedMessage(text, timestamp), 'utf8'), privateKey);
  return { name, keyId: key.keyId, signature: Uint8Array.from(Buffer.concat([time, signature])) };
}

/**
 * Verifies a note against known keys, as the spec asks: signatures of unknown keys (name and
 * ID not both matching) are ignored; one of a known key that fails makes the note refused; no
 * verified signature from a known key makes it refused. Returns what verified.
 */
export function verifyNote(note: Note, keys: readonly NoteVerifierKey[]): VerifiedSignature[] {
  const checks = signatureChecks(note, keys);
  return concludeVerification(
    checks,
    checks.map(
      ({ check }) =>
        check !== null &&
        verify(null, check.message, ed25519PublicKeyObject(check.key.publicKey), check.ed25519),
    ),
  );
}

function ed25519PublicKeyObject(raw: Uint8Array): KeyObject {
  return createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(raw).toString('base64url') },
    format: 'jwk',
  });
}
