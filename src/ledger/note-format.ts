/**
 * C2SP signed notes (c2sp.org/signed-note): a text ending in a newline, a blank line, and
 * signature lines `— <key name> base64(key ID || signature)`. The transparency-log formats
 * (checkpoints, witness cosignatures) are notes, so this is what lets outside tools — Go's
 * sumdb/note, the witness network — read the ledger's checkpoints without Gatehouse's code.
 *
 * Environment-neutral (WebCrypto, no node: module, no Buffer): the offline report verifier,
 * which the console also runs in the browser, checks witnessed checkpoints with it. Signing,
 * and synchronous verification for the witness, are in signed-note.ts.
 */
import { textFault } from '../common/text-rules.js';

/** Signature type of a note's Ed25519 signature over the text. */
export const NOTE_ED25519 = 0x01;
/** Signature type of a timestamped Ed25519 cosignature (c2sp.org/tlog-cosignature). */
export const NOTE_COSIGNATURE_V1 = 0x04;

const EM_DASH_PREFIX = '\u2014 ';
/** More than the spec's minimum of 16 a verifier must accept; a bound against huge notes. */
export const MAX_NOTE_SIGNATURES = 64;
export const MAX_NOTE_BYTES = 1 << 20;
const UTF8 = new TextEncoder();

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

/** A signature from a known key that verified, with the time a cosignature states. */
export interface VerifiedSignature {
  readonly key: NoteVerifierKey;
  /** Cosignatures only: the POSIX time the cosigner signed at. */
  readonly timestamp?: number;
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
  const material = new Uint8Array(1 + key.publicKey.length);
  material[0] = key.type;
  material.set(key.publicKey, 1);
  return `${key.name}+${hexId(key.keyId)}+${encodeBase64(material)}`;
}

/**
 * A vkey's parts, checked in every way but one: that the key ID is the one its name, type and
 * key give, which needs SHA-256 (`parseVkey`, `parseVkeyAsync`).
 */
export function decodeVkey(vkey: string): NoteVerifierKey {
  // The key is base64, which may itself hold "+": only the first two separate.
  const parts = splitPlus(vkey, 3);
  if (!parts) throw new NoteError('a verifier key is <name>+<key ID>+<key>');
  const [name = '', idHex = '', material = ''] = parts;
  checkKeyName(name);
  if (!/^[0-9a-f]{8}$/.test(idHex))
    throw new NoteError('a verifier key ID is 8 lowercase hex digits');
  const bytes = decodeBase64(material, 'the verifier key');
  const type = bytes[0] ?? 0;
  if (type !== NOTE_ED25519 && type !== NOTE_COSIGNATURE_V1)
    throw new NoteError(
      `verifier key type 0x${type.toString(16)} is not supported (Ed25519: 0x01, 0x04)`,
    );
  const publicKey = bytes.slice(1);
  if (publicKey.length !== 32) throw new NoteError('an Ed25519 verifier key holds 32 bytes');
  return { name, keyId: Number.parseInt(idHex, 16), type, publicKey };
}

/** What the recommended key ID is computed over: name, newline, type, public key. */
export function keyIdInput(name: string, type: number, publicKey: Uint8Array): Uint8Array {
  const nameBytes = UTF8.encode(name);
  const input = new Uint8Array(nameBytes.length + 2 + publicKey.length);
  input.set(nameBytes, 0);
  input[nameBytes.length] = 0x0a;
  input[nameBytes.length + 1] = type;
  input.set(publicKey, nameBytes.length + 2);
  return input;
}

/** SHA-256(name || 0x0A || type || public key)[:4], big-endian, with WebCrypto. */
export async function noteKeyIdAsync(
  name: string,
  type: number,
  publicKey: Uint8Array,
): Promise<number> {
  const hash = await crypto.subtle.digest('SHA-256', ownBuffer(keyIdInput(name, type, publicKey)));
  return new DataView(hash).getUint32(0);
}

/** `decodeVkey` and the key ID check. */
export async function parseVkeyAsync(vkey: string): Promise<NoteVerifierKey> {
  const key = decodeVkey(vkey);
  if ((await noteKeyIdAsync(key.name, key.type, key.publicKey)) !== key.keyId)
    throw new NoteError('the verifier key ID does not match its name and key');
  return key;
}

export function formatSignatureLine(s: NoteSignature): string {
  const bytes = new Uint8Array(4 + s.signature.length);
  new DataView(bytes.buffer).setUint32(0, s.keyId);
  bytes.set(s.signature, 4);
  return `${EM_DASH_PREFIX}${s.name} ${encodeBase64(bytes)}\n`;
}

export function formatNote(note: Note): string {
  checkNoteText(note.text);
  return `${note.text}\n${note.signatures.map(formatSignatureLine).join('')}`;
}

/** The text a note may sign: UTF-8, newline-terminated, no control character but newline. */
export function checkNoteText(text: string): void {
  if (!text.endsWith('\n')) throw new NoteError('a note text ends with a newline');
  if (hasControl(text.replaceAll('\n', '')))
    throw new NoteError('a note text holds a control character');
  if (textFault(text) !== undefined) throw new NoteError('a note text must be valid Unicode');
}

/**
 * Splits a note into its text and signature lines. The text ends at the last blank line; every
 * line after it must be a well-formed signature line.
 */
export function parseNote(note: string): Note {
  if (UTF8.encode(note).length > MAX_NOTE_BYTES)
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
  const bytes = decodeBase64(rest.slice(space + 1), 'a signature');
  if (bytes.length < 5) throw new NoteError('a signature holds a key ID and at least one byte');
  return {
    name,
    keyId: new DataView(bytes.buffer, bytes.byteOffset).getUint32(0),
    signature: bytes.slice(4),
  };
}

/** Appends signature lines (a witness's answer) to a note, once each. */
export function withSignatures(note: Note, added: readonly NoteSignature[]): Note {
  const seen = new Set(note.signatures.map(formatSignatureLine));
  const signatures = [...note.signatures];
  for (const s of added) {
    const line = formatSignatureLine(s);
    if (seen.has(line)) continue;
    seen.add(line);
    signatures.push(s);
  }
  return { text: note.text, signatures };
}

/** What an Ed25519 cosignature (tlog-cosignature v1) signs: a header, the time, the note text. */
export function cosignedMessage(text: string, timestamp: number): string {
  return `cosignature/v1\ntime ${timestamp}\n${text}`;
}

/** What one signature of a known key asks to be checked: the message and the Ed25519 bytes. */
export interface SignatureCheck {
  readonly key: NoteVerifierKey;
  readonly message: Uint8Array;
  readonly ed25519: Uint8Array;
  readonly timestamp?: number;
}

/**
 * The signatures of a note made by the given keys, each with what to verify (a cosignature's
 * message is its header, time and the text); null for one whose shape cannot verify. Those of
 * unknown keys (name and ID not both matching) are left out, as the spec says.
 */
export function signatureChecks(
  note: Note,
  keys: readonly NoteVerifierKey[],
): { signature: NoteSignature; check: SignatureCheck | null }[] {
  const found: { signature: NoteSignature; check: SignatureCheck | null }[] = [];
  for (const signature of note.signatures) {
    const key = keys.find((k) => k.name === signature.name && k.keyId === signature.keyId);
    if (!key) continue;
    found.push({ signature, check: checkOf(note.text, signature, key) });
  }
  return found;
}

function checkOf(text: string, s: NoteSignature, key: NoteVerifierKey): SignatureCheck | null {
  if (key.type === NOTE_ED25519)
    return s.signature.length === 64
      ? { key, message: UTF8.encode(text), ed25519: s.signature }
      : null;
  if (s.signature.length !== 72) return null;
  const time = new DataView(s.signature.buffer, s.signature.byteOffset).getBigUint64(0);
  if (time > BigInt(Number.MAX_SAFE_INTEGER)) return null;
  const timestamp = Number(time);
  return {
    key,
    message: UTF8.encode(cosignedMessage(text, timestamp)),
    ed25519: s.signature.slice(8),
    timestamp,
  };
}

/**
 * The spec's verdict over the checks' results: one of a known key that failed makes the note
 * refused, and so does none verified.
 */
export function concludeVerification(
  checks: readonly { signature: NoteSignature; check: SignatureCheck | null }[],
  verified: readonly boolean[],
): VerifiedSignature[] {
  const out: VerifiedSignature[] = [];
  checks.forEach(({ signature, check }, i) => {
    if (!check || verified[i] !== true)
      throw new NoteError(
        `the signature of ${signature.name} (key ${hexId(signature.keyId)}) does not verify`,
      );
    out.push(
      check.timestamp === undefined
        ? { key: check.key }
        : { key: check.key, timestamp: check.timestamp },
    );
  });
  if (out.length === 0) throw new NoteError('no signature of a known key');
  return out;
}

/** `verifyNote` with WebCrypto's Ed25519, for the browser and the offline report verifier. */
export async function verifyNoteAsync(
  note: Note,
  keys: readonly NoteVerifierKey[],
): Promise<VerifiedSignature[]> {
  const checks = signatureChecks(note, keys);
  const verified = await Promise.all(
    checks.map(async ({ check }) => {
      if (!check) return false;
      const key = await crypto.subtle.importKey(
        'raw',
        ownBuffer(check.key.publicKey),
        'Ed25519',
        false,
        ['verify'],
      );
      return crypto.subtle.verify(
        'Ed25519',
        key,
        ownBuffer(check.ed25519),
        ownBuffer(check.message),
      );
    }),
  );
  return concludeVerification(checks, verified);
}

/** Standard base64 with padding, and nothing that decodes loosely (spaces, other alphabets). */
export function decodeBase64(text: string, what: string): Uint8Array {
  if (text === '' || !/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text))
    throw new NoteError(`${what} is not standard base64`);
  const binary = atob(text);
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  if (encodeBase64(bytes) !== text) throw new NoteError(`${what} is not canonical base64`);
  return bytes;
}

export function encodeBase64(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/** The first `count - 1` "+"-separated fields and the rest; null with fewer fields. */
export function splitPlus(text: string, count: number): string[] | null {
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

/**
 * A copy backed by a plain ArrayBuffer: the DOM's WebCrypto types refuse a view that might
 * be over a SharedArrayBuffer, which the bytes of a parsed note never are.
 */
function ownBuffer(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(bytes);
}

function hasControl(text: string): boolean {
  return /[\u0000-\u001f]/.test(text);
}

export function hexId(id: number): string {
  return id.toString(16).padStart(8, '0');
}
