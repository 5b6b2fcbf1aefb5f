import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { ConfigError, type WitnessingConfig } from '../config/config.js';
import { NOTE_COSIGNATURE_V1, parseVkey, type NoteVerifierKey } from '../ledger/signed-note.js';

/** A witness Gatehouse submits its checkpoints to. */
export interface WitnessEndpoint {
  /** The cosigner name: its vkey's key name, the name on its cosignature lines. */
  readonly name: string;
  /** `<name>+<key ID>+base64(0x04 || public key)`, as the witness prints it. */
  readonly vkey: string;
  readonly key: NoteVerifierKey;
  /** The submission prefix: add-checkpoint is POSTed to `<url>/add-checkpoint`. */
  readonly url: string;
}

/**
 * ```yaml
 * witnesses:
 *   - vkey: witness.example.org/w1+2a5e1c3b+BEo0…
 *     url: https://witness.example.org/w1
 * ```
 * Throws an Error naming the entry and what is wrong.
 */
export function parseWitnessesFile(text: string): WitnessEndpoint[] {
  const doc = parse(text) as unknown;
  if (!isRecord(doc) || !Array.isArray(doc.witnesses))
    throw new Error('a mapping with a list "witnesses" of {vkey, url}');
  const seen = new Set<string>();
  return doc.witnesses.map((entry: unknown, i) => {
    const at = `witnesses[${i}]`;
    if (!isRecord(entry) || typeof entry.vkey !== 'string' || typeof entry.url !== 'string')
      throw new Error(`${at}: {vkey: string, url: string}`);
    let key: NoteVerifierKey;
    try {
      key = parseVkey(entry.vkey);
    } catch (error) {
      throw new Error(`${at}.vkey: ${(error as Error).message}`);
    }
    if (key.type !== NOTE_COSIGNATURE_V1)
      throw new Error(`${at}.vkey: a witness key is a cosignature key, of type 0x04`);
    if (seen.has(key.name)) throw new Error(`${at}: the witness ${key.name} twice`);
    seen.add(key.name);
    if (!URL.canParse(entry.url) || !/^https?:$/.test(new URL(entry.url).protocol))
      throw new Error(`${at}.url: an http(s) URL`);
    return { name: key.name, vkey: entry.vkey, key, url: entry.url.replace(/\/+$/, '') };
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The witnesses and the quorum, as the service runs with them. */
export interface WitnessSet {
  readonly witnesses: readonly WitnessEndpoint[];
  /** 0 when there is no witness. */
  readonly quorum: number;
  readonly alertAfterSeconds: number;
  readonly retryMaxSeconds: number;
}

/** Reads GATEHOUSE_WITNESSES at start-up; a wrong file or quorum stops the service (status 2). */
export function loadWitnesses(config: WitnessingConfig): WitnessSet {
  if (config.witnessesFile === undefined) return { ...config, witnesses: [], quorum: 0 };
  let witnesses: WitnessEndpoint[];
  try {
    witnesses = parseWitnessesFile(readFileSync(config.witnessesFile, 'utf8'));
  } catch (error) {
    throw new ConfigError(
      'GATEHOUSE_WITNESSES',
      `a witnesses file: ${config.witnessesFile}: ${(error as Error).message}`,
      undefined,
    );
  }
  const quorum = config.quorum ?? witnesses.length;
  if (quorum > witnesses.length)
    throw new ConfigError(
      'GATEHOUSE_WITNESS_QUORUM',
      `at most the ${witnesses.length} witnesses of GATEHOUSE_WITNESSES`,
      String(quorum),
    );
  return { ...config, witnesses, quorum };
}
