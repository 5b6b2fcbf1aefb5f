import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import {
  NOTE_ED25519,
  NoteError,
  checkKeyName,
  parseVkey,
  type NoteVerifierKey,
} from '../ledger/signed-note.js';
import { checkOrigin } from '../ledger/tlog-checkpoint.js';

/** A witness's configuration file is wrong: names the file and what. */
export class WitnessConfigError extends Error {
  override readonly name = 'WitnessConfigError';
}

/** Who the witness is and which logs it cosigns, each by origin with the log's verifier keys. */
export interface WitnessConfig {
  /** The cosigner name: the key name of its cosignatures, a schema-less URL by convention. */
  readonly name: string;
  /** Origin → the log's keys. A rotated log key is a second vkey under the same origin. */
  readonly logs: ReadonlyMap<string, readonly NoteVerifierKey[]>;
}

/**
 * ```yaml
 * name: witness.example.org/w1
 * logs:
 *   - origin: gatehouse.example.com/v1/ledger/tlog
 *     vkeys:
 *       - gatehouse.example.com/v1/ledger/tlog+1a2b3c4d+AQ…
 * ```
 * JSON is YAML, so the same file may be JSON.
 */
export function readWitnessConfig(file: string): WitnessConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new WitnessConfigError(`${file}: ${(error as Error).message}`);
  }
  try {
    return witnessConfigOf(parse(text) as unknown);
  } catch (error) {
    throw new WitnessConfigError(`${file}: ${(error as Error).message}`);
  }
}

export function witnessConfigOf(doc: unknown): WitnessConfig {
  if (!isRecord(doc)) throw new WitnessConfigError('expected a mapping with name and logs');
  const { name, logs } = doc;
  if (typeof name !== 'string') throw new WitnessConfigError('name: the cosigner name, a string');
  try {
    checkKeyName(name);
  } catch (error) {
    throw new WitnessConfigError(`name: ${(error as NoteError).message}`);
  }
  if (!Array.isArray(logs) || logs.length === 0)
    throw new WitnessConfigError('logs: a list of {origin, vkeys}, at least one');
  const byOrigin = new Map<string, NoteVerifierKey[]>();
  logs.forEach((log: unknown, i) => {
    const at = `logs[${i}]`;
    if (!isRecord(log) || typeof log.origin !== 'string' || !Array.isArray(log.vkeys))
      throw new WitnessConfigError(`${at}: {origin: string, vkeys: [string, …]}`);
    const origin = log.origin;
    try {
      checkOrigin(origin);
    } catch (error) {
      throw new WitnessConfigError(`${at}.origin: ${(error as NoteError).message}`);
    }
    if (byOrigin.has(origin)) throw new WitnessConfigError(`${at}: origin ${origin} twice`);
    if (log.vkeys.length === 0) throw new WitnessConfigError(`${at}.vkeys: at least one`);
    const keys = log.vkeys.map((vkey: unknown, j) => {
      const where = `${at}.vkeys[${j}]`;
      if (typeof vkey !== 'string') throw new WitnessConfigError(`${where}: a vkey string`);
      let key: NoteVerifierKey;
      try {
        key = parseVkey(vkey);
      } catch (error) {
        throw new WitnessConfigError(`${where}: ${(error as NoteError).message}`);
      }
      // A log signs its checkpoints under its origin (c2sp.org/tlog-checkpoint).
      if (key.name !== origin)
        throw new WitnessConfigError(`${where}: the key is named ${key.name}, not ${origin}`);
      if (key.type !== NOTE_ED25519)
        throw new WitnessConfigError(`${where}: a log key is of type 0x01 (Ed25519)`);
      return key;
    });
    byOrigin.set(origin, keys);
  });
  return { name, logs: byOrigin };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
