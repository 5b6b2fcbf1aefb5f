/**
 * The one container an edge bundle is: a POSIX ustar archive (POSIX.1-1988, IEEE 1003.1 §10.1)
 * of regular files, written in one canonical form so that the same files give the same bytes.
 * Any tar reader (Python's tarfile, Go's archive/tar, GNU tar) opens it; this reader opens only
 * the canonical form, so that every byte of a bundle is covered by some check and an archive
 * another tool rewrote, or one built to confuse a reader (links, long names, pax headers,
 * duplicate or traversing names, sizes past the end), is refused with its member named.
 *
 * Written by hand rather than with a tar library: the one in node_modules is only a
 * dependency of a development tool, and the subset needed (512-byte headers, regular files,
 * names under 100 bytes) is small enough to check completely. Environment-neutral: no node:
 * module, so the console and any JavaScript runtime can run it.
 */

const BLOCK = 512;
/** The canonical form of every header: a regular file, read-only for others, owned by root. */
const MODE = '0000644';
/** The largest member: 11 octal digits, the ustar size field without base-256 extensions. */
export const MAX_MEMBER_BYTES = 8 ** 11 - 1;
/** Member names: a flat namespace, no directories, nothing a file system could resolve elsewhere. */
export const MEMBER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export interface UstarMember {
  readonly name: string;
  readonly bytes: Uint8Array;
}

/** A malformed or non-canonical archive; `member` names the file concerned, or `(archive)`. */
export class UstarError extends Error {
  override readonly name = 'UstarError';
  constructor(
    readonly member: string,
    readonly reason: string,
  ) {
    super(`${member}: ${reason}`);
  }
}

const ASCII = new TextEncoder();
const LATIN1 = new TextDecoder('latin1');

/** The archive of `members`, in name order, each with the canonical header. */
export function writeUstar(members: readonly UstarMember[]): Uint8Array {
  const sorted = layout(members.map((m) => ({ name: m.name, size: m.bytes.length, m })));
  const out = new Uint8Array(ustarLength(sorted));
  let at = 0;
  for (const { name, size, m } of sorted) {
    out.set(header(name, size), at);
    out.set(m.bytes, at + BLOCK);
    at += BLOCK + padded(size);
  }
  return out;
}

/** A member whose bytes are read as the archive is written, so that it is never held whole. */
export interface UstarEntry {
  readonly name: string;
  readonly size: number;
  readonly data: () => AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
}

/** The length of the archive of members of these sizes. */
export function ustarLength(members: readonly { readonly size: number }[]): number {
  return members.reduce((n, m) => n + BLOCK + padded(m.size), 2 * BLOCK);
}

/**
 * The same archive as `writeUstar`, as a stream of chunks: each header, the member's own
 * chunks, its padding, and the end. Throws UstarError when a member's data is not the size it
 * declared (the header already sent could not be taken back).
 */
export async function* streamUstar(entries: readonly UstarEntry[]): AsyncGenerator<Uint8Array> {
  for (const entry of layout(entries)) {
    yield header(entry.name, entry.size);
    let sent = 0;
    for await (const chunk of entry.data()) {
      sent += chunk.length;
      if (sent > entry.size) break;
      yield chunk;
    }
    if (sent !== entry.size)
      throw new UstarError(entry.name, `its data is not the ${entry.size} bytes declared`);
    yield new Uint8Array(padded(entry.size) - entry.size);
  }
  yield new Uint8Array(2 * BLOCK);
}

/** The members in name order, checked: a valid name each, once, of a size ustar can hold. */
function layout<T extends { readonly name: string; readonly size: number }>(
  members: readonly T[],
): T[] {
  const sorted = [...members].sort((a, b) => compareNames(a.name, b.name));
  for (const [i, m] of sorted.entries()) {
    const why = nameProblem(m.name);
    if (why !== null) throw new UstarError(m.name, why);
    if (i > 0 && sorted[i - 1]?.name === m.name) throw new UstarError(m.name, 'appears twice');
    if (!Number.isSafeInteger(m.size) || m.size < 0 || m.size > MAX_MEMBER_BYTES)
      throw new UstarError(m.name, `its size must be from 0 to ${MAX_MEMBER_BYTES} bytes`);
  }
  return sorted;
}

/**
 * The members of a canonical archive, in archive order. Throws UstarError naming the member
 * (or `(archive)`) and the reason for anything else.
 */
export function readUstar(bytes: Uint8Array): UstarMember[] {
  if (bytes.length % BLOCK !== 0)
    throw new UstarError('(archive)', `its length ${bytes.length} is not a multiple of ${BLOCK}`);
  const members: UstarMember[] = [];
  let at = 0;
  for (;;) {
    if (at + BLOCK > bytes.length)
      throw new UstarError(
        '(archive)',
        'ends without the two zero blocks that close a tar archive',
      );
    const block = bytes.subarray(at, at + BLOCK);
    if (isZero(block)) break;
    const index = members.length;
    const name = nameOf(block, index);
    const size = sizeOf(block, name);
    const expected = header(name, size);
    if (!sameBytes(block, expected)) {
      throw new UstarError(name, headerDifference(block, expected));
    }
    const start = at + BLOCK;
    const end = start + padded(size);
    if (end > bytes.length)
      throw new UstarError(name, `declares ${size} bytes, more than the archive holds`);
    if (!isZero(bytes.subarray(start + size, end)))
      throw new UstarError(name, 'the padding after its data is not zero');
    const previous = members.at(-1);
    if (previous !== undefined) {
      // In name order, a name seen before can only be the one just before.
      if (previous.name === name) throw new UstarError(name, 'appears twice');
      if (compareNames(previous.name, name) > 0)
        throw new UstarError(name, `is out of order: it comes after ${previous.name}`);
    }
    members.push({ name, bytes: bytes.subarray(start, start + size) });
    at = end;
  }
  if (at + 2 * BLOCK !== bytes.length || !isZero(bytes.subarray(at)))
    throw new UstarError(
      '(archive)',
      at + 2 * BLOCK > bytes.length
        ? 'ends after one zero block; a tar archive ends with two'
        : 'holds data after the two zero blocks that end it',
    );
  return members;
}

/** Why `name` cannot be a member name, or null. */
export function nameProblem(name: string): string | null {
  if (name.includes('\0')) return 'the name holds a NUL byte';
  if (name.includes('/') || name.includes('\\'))
    return 'the name holds a path separator; bundle members are flat file names';
  if (!MEMBER_NAME.test(name))
    return 'the name must be 1 to 100 characters of A-Z, a-z, 0-9, ".", "_" and "-", starting with a letter or digit';
  return null;
}

/** Byte order of ASCII names: what every language sorts the same way. */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function header(name: string, size: number): Uint8Array {
  const h = new Uint8Array(BLOCK);
  const put = (offset: number, text: string): void => {
    h.set(ASCII.encode(text), offset);
  };
  put(0, name);
  put(100, `${MODE}\0`);
  put(108, '0000000\0'); // uid
  put(116, '0000000\0'); // gid
  put(124, `${size.toString(8).padStart(11, '0')}\0`);
  put(136, '00000000000\0'); // mtime: the epoch, so that bytes depend on content only
  put(148, '        '); // the checksum is computed with its own field as spaces
  put(156, '0'); // a regular file
  put(257, 'ustar\0');
  put(263, '00');
  put(329, '0000000\0'); // devmajor
  put(337, '0000000\0'); // devminor
  const sum = h.reduce((n, b) => n + b, 0);
  put(148, `${sum.toString(8).padStart(6, '0')}\0 `);
  return h;
}

function nameOf(block: Uint8Array, index: number): string {
  const field = block.subarray(0, 100);
  const end = field.indexOf(0);
  const name = LATIN1.decode(field.subarray(0, end === -1 ? 100 : end));
  const label = MEMBER_NAME.test(name) ? name : `member ${index + 1}`;
  const typeflag = String.fromCharCode(block[156] ?? 0);
  if (typeflag !== '0')
    throw new UstarError(label, `is not a regular file (${typeKind(typeflag)})`);
  if (!isZero(block.subarray(345, 500)))
    throw new UstarError(label, 'uses the ustar name prefix; bundle members are flat file names');
  const why = nameProblem(name);
  if (why !== null) throw new UstarError(label, `${why} (${JSON.stringify(name)})`);
  return name;
}

function sizeOf(block: Uint8Array, name: string): number {
  const text = LATIN1.decode(block.subarray(124, 136));
  if (!/^[0-7]{11}\0$/.test(text))
    throw new UstarError(name, 'the size field is not 11 octal digits and a NUL');
  return parseInt(text.slice(0, 11), 8);
}

function typeKind(flag: string): string {
  switch (flag) {
    case '1':
      return 'a hard link';
    case '2':
      return 'a symbolic link';
    case '3':
    case '4':
      return 'a device';
    case '5':
      return 'a directory';
    case '6':
      return 'a FIFO';
    case 'x':
    case 'g':
      return 'a pax extended header';
    case 'L':
    case 'K':
      return 'a GNU long name';
    default:
      return `type ${JSON.stringify(flag)}`;
  }
}

function headerDifference(actual: Uint8Array, expected: Uint8Array): string {
  const fields: [number, number, string][] = [
    [100, 108, 'mode'],
    [108, 116, 'uid'],
    [116, 124, 'gid'],
    [136, 148, 'mtime'],
    [148, 156, 'checksum'],
    [157, 257, 'link name'],
    [257, 265, 'magic or version'],
    [265, 329, 'owner names'],
    [329, 345, 'device numbers'],
    [0, 100, 'name field padding'],
    [500, 512, 'header padding'],
  ];
  for (const [from, to, what] of fields)
    if (!sameBytes(actual.subarray(from, to), expected.subarray(from, to)))
      return what === 'checksum'
        ? 'the header checksum does not match the header'
        : `the header's ${what} is not the canonical one (a bundle is written with fixed modes, owners and times)`;
  return 'the header is not in the canonical form';
}

function padded(n: number): number {
  return Math.ceil(n / BLOCK) * BLOCK;
}

function isZero(bytes: Uint8Array): boolean {
  for (const b of bytes) if (b !== 0) return false;
  return true;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
