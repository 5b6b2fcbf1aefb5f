import { textFault } from '../common/text-rules.js';
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';

/**
 * C2SP signed notes (c2sp.org/signed-note): a text ending in a newline, a blank line, and
 * signature lines `— <key name> base64(key ID || signature)`. The transparency-log formats
 * (checkpoints, witness cosignatures) are notes, so this is what lets outside tools — Go's
 * sumdb/note, the witness network — read the ledger's checkpoints without Gatehouse's code.
 */

/** Signature type of a note's Ed25519 signature over the text. */
export const NOTE_ED25519 = 0x01;
/** Signature type of a timestamped Ed25519 cosignature (c2sp.org/tlog-cosignature). */
export const NOTE_COSIGNATURE_V1 = 0x04;

const EM_DASH_PREFIX = '\u2014 ';
/** More than the spec's minimum of 16 a verifier must accept; a bound against huge notes. */
export const MAX_NOTE_SIGNATURES = 64;
export const MAX_NOTE_BYTES = 1 << 20;

export class NoteError extends Error {
  override readonly name = 'NoteError';
}

/** A public key a note's signatures are checked against, as a vkey names it. */
export interface NoteVerifierKey {
  readonly name: string;
  /** The 32-bit key ID, as the signature lines carry it. */
  readonly keyId: number;
  readonly type: number;
  /** The key material after the type byte: 32 bytes for both Ed25519 types. */
  readonly publicKey: Uint8Array;
}

export interface NoteSignature {
  readonly name: string;
  readonly keyId: number;
  /** The bytes after the key ID. */
  readonly signature: Uint8Array;
}

export interface Note {
  /** The signed text, its final newline included. */
  readonly text: string;
  readonly signatures: readonly NoteSignature[];
}

/** SHA-256(name || 0x0A || type || public key)[:4], big-endian: the recommended key ID. */
export function noteKeyId(name: string, type: number, publicKey: Uint8Array): number {
  const hash = createHash('sha256')
    .update(name, 'utf8')
    .update(Buffer.from([0x0a, type]))
    .update(publicKey)
    .digest();
  return hash.readUInt32BE(0);
}

/** Key names are non-empty and hold no Unicode space and no `+` (the vkey separator). */
export function checkKeyName(name: string): void {
  if (name === '') throw new NoteError('a key name must not be empty');
  if (/[\s+\u0085\u2028\u2029]/u.test(name) || hasControl(name))
    throw new NoteError(
      `key name ${JSON.stringify(name)} holds a space, a "+" or a control character`,
    );
}

/** `<name>+<hex key ID>+base64(type || public key)`. */
export function formatVkey(key: NoteVerifierKey): string {
  return `${key.name}+${key.keyId.toString(16).padStart(8, '0')}+${Buffer.concat([
    Buffer.from([key.type]),
    key.publicKey,
  ]).toString('base64')}`;
}

/** Reads a vkey, refusing one whose ID is not the one its name, type and key give. */
export function parseVkey(vkey: string): NoteVerifierKey {
  // The key is base64, which may itself hold "+": only the first two separate.
  const parts = splitPlus(vkey, 3);
  if (!parts) throw new NoteError('a verifier key is <name>+<key ID>+<key>');
  const [name = '', idHex = '', material = ''] = parts;
  checkKeyName(name);
  if (!/^[0-9a-f]{8}$/.test(idHex))
    throw new NoteError('a verifier key ID is 8 lowercase hex digits');
  const bytes = strictBase64(material, 'the verifier key');
  const type = bytes[0];
  if (type !== NOTE_ED25519 && type !== NOTE_COSIGNATURE_V1)
    throw new NoteError(
      `verifier key type 0x${(type ?? 0).toString(16)} is not supported (Ed25519: 0x01, 0x04)`,
    );
  const publicKey = bytes.subarray(1);
  if (publicKey.length !== 32) throw new NoteError('an Ed25519 verifier key holds 32 bytes');
  const keyId = Number.parseInt(idHex, 16);
  if (noteKeyId(name, type, publicKey) !== keyId)
    throw new NoteError('the verifier key ID does not match its name and key');
  return { name, keyId, type, publicKey: Uint8Array.from(publicKey) };
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
  const bytes = strictBase64(material, 'the signer key');
  if (bytes[0] !== NOTE_ED25519 || bytes.length !== 33)
    throw new NoteError('a signer key holds 0x01 and a 32-byte Ed25519 seed');
  const privateKey = ed25519PrivateKeyOfSeed(bytes.subarray(1));
  const key = ed25519VerifierKey(name, rawEd25519PublicKey(privateKey));
  if (key.keyId.toString(16).padStart(8, '0') !== idHex)
    throw new NoteError('the signer key ID does not match its name and key');
  return { key, privateKey };
}

export function ed25519PrivateKeyOfSeed(seed: Uint8Array): KeyObject {
  // PKCS#8 wrapping of a raw Ed25519 seed: the fixed RFC 8410 prefix, then the 32 bytes.
  const prefix = Buffer.from('302e020100300506032b657004220420', 'hex');
  return createPrivateKey({ key: Buffer.concat([prefix, seed]), format: 'der', type: 'pkcs8' });
}

/** The ledger's own signature of a note text with an Ed25519 key. */
export function signNoteText(text: string, name: string, privateKey: KeyObject): NoteSignature {
  checkNoteText(text);
  const key = ed25519VerifierKey(name, rawEd25519PublicKey(privateKey));
  return {
    name,
    keyId: key.keyId,
    signature: Uint8Array.from(sign(null, Buffer.from(text, 'utf8'), privateKey)),
  };
}

export function formatSignatureLine(s: NoteSignature): string {
  const id = Buffer.alloc(4);
  id.writeUInt32BE(s.keyId);
  return `${EM_DASH_PREFIX}${s.name} ${Buffer.concat([id, s.signature]).toString('base64')}\n`;
}

export function formatNote(note: Note): string {
  checkNoteText(note.text);
  return `${note.text}\n${note.signatures.map(formatSignatureLine).join('')}`;
}

/** The text a note may sign: UTF-8, newline-terminated, no control character but newline. */
export function checkNoteText(text: string): void {
  if (!text.endsWith('\n')) throw new NoteError('a note text ends with a newline');
  if (textFault(text) !== undefined) throw new NoteError('a note text must be valid Unicode');
  if (hasControl(text.replaceAll('\n', '')))
    throw new NoteError('a note text holds a control character');
}

/**
 * Splits a note into its text and signature lines. The text ends at the last blank line; every
 * line after it must be a well-formed signature line.
 */
export function parseNote(note: string): Note {
  if (Buffer.byteLength(note, 'utf8') > MAX_NOTE_BYTES)
    throw new NoteError(`a note is at most ${MAX_NOTE_BYTES} bytes`);
  if (hasControl(note.replaceAll('\n', '')))
    throw new NoteError('a note holds a control character');
  if (textFault(note) !== undefined) throw new NoteError('a note must be valid UTF-8');
  if (!note.endsWith('\n')) throw new NoteError('a note ends with a newline');
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw new NoteError('a note has no blank line before its signatures');
  const text = note.slice(0, split + 1);
  const lines = note.slice(split + 2, -1).split('\n');
  if (lines.length > MAX_NOTE_SIGNATURES)
    throw new NoteError(`a note carries at most ${MAX_NOTE_SIGNATURES} signatures`);
  return { text, signatures: lines.map(parseSignatureLine) };
}

/** One `— <name> <base64>` line, without its newline. */
export function parseSignatureLine(line: string): NoteSignature {
  if (!line.startsWith(EM_DASH_PREFIX))
    throw new NoteError('a signature line starts with an em dash and a space');
  const rest = line.slice(EM_DASH_PREFIX.length);
  const space = rest.indexOf(' ');
  if (space < 0) throw new NoteError('a signature line is "— <key name> <signature>"');
  const name = rest.slice(0, space);
  checkKeyName(name);
  const bytes = strictBase64(rest.slice(space + 1), 'a signature');
  if (bytes.length < 5) throw new NoteError('a signature holds a key ID and at least one byte');
  return {
    name,
    keyId: bytes.readUInt32BE(0),
    signature: Uint8Array.from(bytes.subarray(4)),
  };
}

/** Appends signature lines (a witness's answer) to a note, once each. */
export function withSignatures(note: Note, added: readonly NoteSignature[]): Note {
  const seen = new Set(note.signatures.map(signatureKey));
  const signatures = [...note.signatures];
  for (const s of added) {
    const k = signatureKey(s);
    if (seen.has(k)) continue;
    seen.add(k);
    signatures.push(s);
  }
  return { text: note.text, signatures };
}

function signatureKey(s: NoteSignature): string {
  return `${s.name}\u0000${s.keyId}\u0000${Buffer.from(s.signature).toString('base64')}`;
}

/** A signature from a known key that verified, with the time a cosignature states. */
export interface VerifiedSignature {
  readonly key: NoteVerifierKey;
  /** Cosignatures only: the POSIX time the cosigner signed at. */
  readonly timestamp?: number;
}

/**
 * Verifies a note against known keys, as the spec asks: signatures of unknown keys (name and
 * ID not both matching) are ignored; one of a known key that fails makes the note refused; no
 * verified signature from a known key makes it refused. Returns what verified.
 */
export function verifyNote(note: Note, keys: readonly NoteVerifierKey[]): VerifiedSignature[] {
  const verified: VerifiedSignature[] = [];
  for (const s of note.signatures) {
    const key = keys.find((k) => k.name === s.name && k.keyId === s.keyId);
    if (!key) continue;
    const result = verifyOne(note.text, s, key);
    if (!result)
      throw new NoteError(`the signature of ${s.name} (key ${hexId(s.keyId)}) does not verify`);
    verified.push(result);
  }
  if (verified.length === 0) throw new NoteError('no signature of a known key');
  return verified;
}

function verifyOne(text: string, s: NoteSignature, key: NoteVerifierKey): VerifiedSignature | null {
  const publicKey = ed25519PublicKeyObject(key.publicKey);
  if (key.type === NOTE_ED25519) {
    if (s.signature.length !== 64) return null;
    return verify(null, Buffer.from(text, 'utf8'), publicKey, s.signature) ? { key } : null;
  }
  if (s.signature.length !== 72) return null;
  const timestamp = Buffer.from(s.signature).readBigUInt64BE(0);
  if (timestamp > BigInt(Number.MAX_SAFE_INTEGER)) return null;
  const message = cosignedMessage(text, Number(timestamp));
  return verify(null, Buffer.from(message, 'utf8'), publicKey, s.signature.subarray(8))
    ? { key, timestamp: Number(timestamp) }
    : null;
}

/** What an Ed25519 cosignature (tlog-cosignature v1) signs: a header, the time, the note text. */
export function cosignedMessage(text: string, timestamp: number): string {
  return `cosignature/v1\ntime ${timestamp}\n${text}`;
}

/** A witness's timestamped Ed25519 cosignature of a checkpoint note's text. */
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

function ed25519PublicKeyObject(raw: Uint8Array): KeyObject {
  return createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(raw).toString('base64url') },
    format: 'jwk',
  });
}

/** Standard base64 with padding, and nothing that decodes loosely (spaces, other alphabets). */
function strictBase64(text: string, what: string): Buffer {
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text) || text === '')
    throw new NoteError(`${what} is not standard base64`);
  const bytes = Buffer.from(text, 'base64');
  if (bytes.toString('base64') !== text) throw new NoteError(`${what} is not canonical base64`);
  return bytes;
}

/** The first `count - 1` "+"-separated fields and the rest; null with fewer fields. */
function splitPlus(text: string, count: number): string[] | null {
  const fields: string[] = [];
  let from = 0;
  for (let i = 1; i < count; i++) {
    const at = text.indexOf('+', from);
    if (at < 0) return null;
    fields.push(text.slice(from, at));
    from = at + 1;
  }
  fields.push(text.slice(from));
  return fields;
}

function hasControl(text: string): boolean {
  return /[\u0000-\u001f]/.test(text);
}

function hexId(id: number): string {
  return id.toString(16).padStart(8, '0');
}
