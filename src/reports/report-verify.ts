/**
 * Offline verification of an audit report: nothing but the file and, optionally, a
 * JWKS the auditor trusts. No database, no network, no framework — the `gatehouse
 * verify-report` command and the tests run exactly this.
 *
 * What is checked, each failure named:
 * - `format`: the file is a report of this format;
 * - `keys`: every public key is Ed25519 and its kid is its RFC 7638 thumbprint;
 * - `signature`: the report's detached JWS over the JCS of `report`, by a trusted key;
 * - `checkpoint`: the checkpoint's JWS by a trusted key, over exactly the checkpoint shown;
 * - `event seq N`: the canonical form is the JCS of the event, its hash is
 *   sha256(0x00 ‖ canonical), its JWS is by the key current at that seq (from the key rotation
 *   events carried), events that follow each other link by `prev`, and the RFC 9162 inclusion
 *   proof leads from its hash to the checkpoint's root;
 * - `checkpoint note`: the checkpoint as a C2SP signed note, when the report carries one, states
 *   the same tree size and root as the JSON checkpoint and is signed by a trusted ledger key
 *   under the note's origin;
 * - `witnesses`, with witness keys: at least the quorum of those witnesses cosigned the note,
 *   and none of their cosignatures fails to verify;
 * - `figures`: every section equals what the events say (they are derived again from the
 *   events and compared member by member), the evaluation results and gate evidence hash to
 *   the digests their events record, the request content to its digest, and the approvals to
 *   the `promotion.approved` event that closed them.
 *
 * Environment-neutral: WebCrypto and jose, no node: module and no Buffer, so the console runs
 * this same module in the browser (web/ imports it by relative path).
 */
import { base64url } from 'jose';
import { canonicalBytes, canonicalize } from '../ledger/canonical-json.js';
import { KEY_ROTATED } from '../ledger/event-catalogue.js';
import { canonicalEvent, type LedgerEvent } from '../ledger/ledger-event.js';
import { kidOf, thumbprintKid, verifyAttached, verifyDetached } from '../ledger/jws-verify.js';
import { leafHashHex, sha256Hex, verifyInclusionHex } from '../ledger/merkle-inclusion.js';
import {
  NOTE_COSIGNATURE_V1,
  NOTE_ED25519,
  noteKeyIdAsync,
  parseNote,
  signatureChecks,
  verifyNoteAsync,
  type Note,
  type NoteVerifierKey,
} from '../ledger/note-format.js';
import { parseCheckpointText, type CheckpointText } from '../ledger/tlog-checkpoint.js';
import {
  REPORT_TYPE,
  type Json,
  type JsonObject,
  type Jwks,
  type PublicKey,
  type ReportBody,
  type ReportEvent,
  type ReportSections,
} from './report-document.js';
import { assembleSections, type ReportFacts } from './report-sections.js';

export interface ReportFailure {
  /**
   * `format`, `keys`, `signature`, `checkpoint`, `checkpoint note`, `witnesses`, `event seq N`
   * or `figures`.
   */
  readonly check: string;
  readonly detail: string;
}

export interface ReportVerification {
  readonly ok: boolean;
  readonly reportId: string | null;
  readonly subject: string | null;
  /** Whose public keys were trusted: the auditor's JWKS file, or the keys inside the report. */
  readonly keysFrom: 'jwks-file' | 'report';
  readonly checkpoint: { readonly treeSize: number; readonly rootHash: string } | null;
  /** SHA-256 of the file's bytes: `report.exported` records it for the file as exported. */
  readonly fileSha256: string;
  /**
   * Whether the file is byte for byte its own RFC 8785 form, as exported. A reformatted file
   * (pretty-printed, say) still verifies — the signature covers the content — but its bytes
   * no longer match the digest in `report.exported`.
   */
  readonly canonicalFile: boolean;
  readonly eventsChecked: number;
  readonly proofsChecked: number;
  readonly signaturesChecked: number;
  /** The cosignatures of the checkpoint note; null when the report carries no readable note. */
  readonly witnessed: ReportWitnessing | null;
  readonly failures: ReportFailure[];
}

/** Who cosigned the checkpoint a report is proved against, and whether that was checked. */
export interface ReportWitnessing {
  /** The log's name in the note, under which the witnesses cosigned. */
  readonly origin: string;
  readonly treeSize: number;
  /**
   * True when witness keys were given: `by` then holds only the trusted witnesses whose
   * cosignature verified. False without them: `by` lists every cosignature the note carries,
   * as each states itself, none of them checked.
   */
  readonly checked: boolean;
  /** With witness keys: the quorum asked for and how many distinct witnesses were trusted. */
  readonly quorum: number | null;
  readonly trusted: number | null;
  /** One per witness, with the POSIX time its cosignature states. */
  readonly by: readonly { readonly witness: string; readonly timestamp: number }[];
}

/** The witnesses an auditor trusts: their cosignature verifier keys (type 0x04) and how many must have cosigned. */
export interface WitnessTrust {
  readonly keys: readonly NoteVerifierKey[];
  readonly quorum: number;
}

export interface VerifyReportOptions {
  /** Keys obtained independently (GET /.well-known/jwks.json); else the report's own. */
  readonly jwks?: Jwks;
  /** Without it, the note's cosignatures are listed but not checked. */
  readonly witnesses?: WitnessTrust;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;
const SECTION_NAMES = ['models', 'evaluations', 'promotions', 'rollouts'] as const;
const UTF8 = new TextEncoder();

/** Verifies the text of a report file. Never throws for a bad report: it says what failed. */
export async function verifyReport(
  text: string,
  options: VerifyReportOptions = {},
): Promise<ReportVerification> {
  try {
    return await verify(text, options);
  } catch (error) {
    // A shape no check anticipated: still an answer, never a crash of the verifier.
    return {
      ok: false,
      reportId: null,
      subject: null,
      keysFrom: options.jwks === undefined ? 'report' : 'jwks-file',
      checkpoint: null,
      fileSha256: await sha256Hex(text),
      canonicalFile: false,
      eventsChecked: 0,
      proofsChecked: 0,
      signaturesChecked: 0,
      witnessed: null,
      failures: [{ check: 'format', detail: `the report could not be checked: ${String(error)}` }],
    };
  }
}

async function verify(text: string, options: VerifyReportOptions): Promise<ReportVerification> {
  const failures: ReportFailure[] = [];
  const fail = (check: string, detail: string): void => {
    failures.push({ check, detail });
  };
  const counts = { events: 0, proofs: 0, signatures: 0 };
  let canonicalFile = false;
  let witnessed: ReportWitnessing | null = null;
  const keysFrom = options.jwks === undefined ? 'report' : 'jwks-file';
  const fileSha256 = await sha256Hex(text);
  const result = (report: ReportBody | null): ReportVerification => ({
    ok: failures.length === 0,
    reportId: report && typeof report.id === 'string' ? report.id : null,
    subject: report && typeof report.subject.text === 'string' ? report.subject.text : null,
    keysFrom,
    checkpoint: report
      ? {
          treeSize: report.checkpoint.checkpoint.treeSize,
          rootHash: report.checkpoint.checkpoint.rootHash,
        }
      : null,
    fileSha256,
    canonicalFile,
    eventsChecked: counts.events,
    proofsChecked: counts.proofs,
    signaturesChecked: counts.signatures,
    witnessed,
    failures,
  });

  let file: unknown;
  try {
    file = JSON.parse(text);
  } catch (error) {
    fail('format', `not JSON: ${(error as Error).message}`);
    return result(null);
  }
  const problem = formatProblem(file);
  if (problem !== null) {
    fail('format', problem);
    return result(null);
  }
  const { report, signature } = file as { report: ReportBody; signature: string };
  try {
    canonicalFile = canonicalize(file) === text;
  } catch {
    canonicalFile = false;
  }

  // Keys: the auditor's if given, else the report's own (then only self-consistent).
  const keys = new Map<string, PublicKey>();
  for (const key of (options.jwks ?? report.keys.jwks).keys) {
    const why = await keyProblem(key);
    // Only the key material is handed to jose: alg and use are checked here, not there.
    if (why === null) keys.set(key.kid, { kty: 'OKP', crv: 'Ed25519', x: key.x, kid: key.kid });
    else fail('keys', why);
  }

  // The report's own signature.
  let signed: Uint8Array | undefined;
  try {
    signed = canonicalBytes(report);
  } catch (error) {
    fail('signature', `the report has no canonical form: ${(error as Error).message}`);
  }
  if (
    signed !== undefined &&
    (await jwsHolds(
      signature,
      keys,
      (k) => verifyDetached(signature, signed, k),
      fail,
      'signature',
      'the report',
    ))
  ) {
    counts.signatures++;
  }

  // The checkpoint.
  const cp = report.checkpoint;
  const root = SHA256_HEX.test(cp.checkpoint.rootHash) ? cp.checkpoint.rootHash : undefined;
  if (root === undefined) fail('checkpoint', 'rootHash is not 64 lowercase hex digits');
  const key = keys.get(kidOf(cp.jws) ?? '');
  if (!key) {
    fail('checkpoint', `signed with key ${kidOf(cp.jws) ?? '(none)'}, which is not trusted`);
  } else if (!canonicalParts(cp.jws)) {
    fail('checkpoint', 'the JWS is not in canonical base64url');
  } else {
    const payload = await verifyAttached(cp.jws, key);
    if (payload === undefined) fail('checkpoint', 'bad signature');
    else if (!sameJson(payload, cp.checkpoint))
      fail('checkpoint', 'the signed checkpoint is not the one shown in the report');
    else counts.signatures++;
  }

  witnessed = await checkNote(report, keys, options.witnesses, fail, counts);

  // Events.
  const events: LedgerEvent[] = [];
  const bySeq = new Map<number, ReportEvent>();
  const keyAt = keySchedule(report);
  let previous: ReportEvent | undefined;
  for (const [i, entry] of report.events.entries()) {
    const where = `event seq ${String(entry.seq)}`;
    if (previous !== undefined && !(entry.seq > previous.seq)) {
      fail(where, `events[${i}] is out of seq order`);
    }
    const eventOk = await checkEvent(entry, keys, keyAt, (detail) => {
      fail(where, detail);
    });
    if (eventOk.signature) counts.signatures++;
    if (
      previous !== undefined &&
      entry.seq === previous.seq + 1 &&
      (entry.event as Partial<LedgerEvent> | undefined)?.prev !== previous.hash
    ) {
      fail(where, `prev does not link to the hash of seq ${previous.seq}`);
    }
    if (root !== undefined) {
      if (await proofHolds(entry, cp.checkpoint.treeSize, root)) counts.proofs++;
      else
        fail(
          where,
          `the inclusion proof does not lead to the checkpoint root (tree size ${cp.checkpoint.treeSize})`,
        );
    }
    counts.events++;
    if (eventOk.parsed) events.push(entry.event);
    bySeq.set(entry.seq, entry);
    previous = entry;
  }
  for (const seq of report.keys.rotations) {
    if (bySeq.get(seq)?.event.type !== KEY_ROTATED)
      fail('keys', `rotation seq ${seq} is not a ${KEY_ROTATED} event of the report`);
  }

  try {
    await checkFigures(report, events, bySeq, fail);
  } catch (error) {
    // A section of the wrong shape: the derivation or a digest could not even be computed.
    fail('figures', `a section is malformed: ${(error as Error).message}`);
  }
  return result(report);
}

/** The shape the rest relies on; a string naming the first problem, or null. */
function formatProblem(file: unknown): string | null {
  if (!isRecord(file)) return 'the file is not a JSON object';
  if (typeof file['signature'] !== 'string') return 'signature is missing';
  const r = file['report'];
  if (!isRecord(r)) return 'report is missing';
  if (r['type'] !== REPORT_TYPE || r['v'] !== 1) return `not a ${REPORT_TYPE} version 1`;
  const subject = r['subject'];
  if (
    !isRecord(subject) ||
    typeof subject['kind'] !== 'string' ||
    typeof subject['text'] !== 'string'
  )
    return 'subject is missing';
  const cp = r['checkpoint'];
  if (!isRecord(cp) || typeof cp['jws'] !== 'string' || !isRecord(cp['checkpoint']))
    return 'checkpoint is missing';
  const c = cp['checkpoint'];
  if (typeof c['treeSize'] !== 'number' || typeof c['rootHash'] !== 'string')
    return 'checkpoint has no treeSize or rootHash';
  if (r['checkpointNote'] !== undefined && typeof r['checkpointNote'] !== 'string')
    return 'checkpointNote is not a string';
  const keys = r['keys'];
  if (!isRecord(keys) || !isRecord(keys['jwks']) || !Array.isArray(keys['jwks']['keys']))
    return 'keys.jwks is missing';
  if (!Array.isArray(keys['rotations']) || !keys['rotations'].every((s) => typeof s === 'number'))
    return 'keys.rotations is missing';
  if (!Array.isArray(r['events'])) return 'events is missing';
  for (const [i, e] of (r['events'] as unknown[]).entries()) {
    if (
      !isRecord(e) ||
      typeof e['seq'] !== 'number' ||
      typeof e['canonical'] !== 'string' ||
      typeof e['hash'] !== 'string' ||
      typeof e['jws'] !== 'string' ||
      !Array.isArray(e['proof']) ||
      !e['proof'].every((h) => typeof h === 'string')
    )
      return `events[${i}] lacks seq, canonical, hash, jws or proof`;
  }
  for (const name of SECTION_NAMES) if (!Array.isArray(r[name])) return `${name} is missing`;
  return null;
}

/**
 * The note form of the checkpoint: the same tree, signed by the ledger, and — what the JSON
 * checkpoint cannot show — cosigned by witnesses, who cosign only a tree that extends every one
 * they saw before. The ledger's signature alone proves nothing its operator could not re-sign;
 * the cosignatures are what a truncated or forked ledger cannot obtain.
 */
async function checkNote(
  report: ReportBody,
  keys: ReadonlyMap<string, PublicKey>,
  witnesses: WitnessTrust | undefined,
  fail: (check: string, detail: string) => void,
  counts: { signatures: number },
): Promise<ReportWitnessing | null> {
  const text = report.checkpointNote;
  if (text === undefined) {
    if (witnesses)
      fail(
        'witnesses',
        'the report carries no checkpoint note, hence no cosignature (it was exported before reports carried one)',
      );
    return null;
  }
  let note: Note;
  let stated: CheckpointText;
  try {
    note = parseNote(text);
    stated = parseCheckpointText(note.text);
  } catch (error) {
    fail('checkpoint note', `the note cannot be read: ${(error as Error).message}`);
    if (witnesses) fail('witnesses', 'no cosignature can be read from the checkpoint note');
    return null;
  }
  const cp = report.checkpoint.checkpoint;
  if (stated.treeSize !== cp.treeSize || stated.rootHash !== cp.rootHash)
    fail(
      'checkpoint note',
      `the note states tree size ${stated.treeSize} and root ${stated.rootHash}, not the report's checkpoint (${cp.treeSize}, ${cp.rootHash})`,
    );
  const ledgerKeys: NoteVerifierKey[] = [];
  for (const key of keys.values()) {
    const publicKey = base64url.decode(key.x);
    if (publicKey.length !== 32) continue;
    ledgerKeys.push({
      name: stated.origin,
      type: NOTE_ED25519,
      keyId: await noteKeyIdAsync(stated.origin, NOTE_ED25519, publicKey),
      publicKey,
    });
  }
  try {
    await verifyNoteAsync(note, ledgerKeys);
    counts.signatures++;
  } catch (error) {
    fail(
      'checkpoint note',
      `the note is not signed by a trusted ledger key under its origin ${stated.origin}: ${(error as Error).message}`,
    );
  }
  const base = { origin: stated.origin, treeSize: stated.treeSize };
  if (!witnesses) {
    const by = note.signatures
      .filter((s) => s.name !== stated.origin && s.signature.length === 72)
      .map((s) => ({
        witness: s.name,
        timestamp: Number(new DataView(s.signature.buffer, s.signature.byteOffset).getBigUint64(0)),
      }));
    return { ...base, checked: false, quorum: null, trusted: null, by };
  }
  // Only cosignature keys: a ledger key passed as a witness would otherwise count its own note.
  const trustedKeys = witnesses.keys.filter((k) => k.type === NOTE_COSIGNATURE_V1);
  const trusted = new Set(trustedKeys.map((k) => k.name)).size;
  const by = new Map<string, number>();
  // One signature at a time, so that a bad one is named and the good ones still count.
  for (const { signature } of signatureChecks(note, trustedKeys)) {
    try {
      const [verified] = await verifyNoteAsync(
        { text: note.text, signatures: [signature] },
        trustedKeys,
      );
      if (verified?.timestamp !== undefined && !by.has(verified.key.name))
        by.set(verified.key.name, verified.timestamp);
    } catch (error) {
      fail('witnesses', `${(error as Error).message}: a trusted witness never signed this note`);
    }
  }
  if (!Number.isSafeInteger(witnesses.quorum) || witnesses.quorum < 1)
    fail('witnesses', `a quorum is a whole number of witnesses from 1, not ${witnesses.quorum}`);
  else if (by.size < witnesses.quorum)
    fail(
      'witnesses',
      `the checkpoint the report is proved against is cosigned by ${by.size} of the ${trusted} trusted witnesses; ${witnesses.quorum} needed: a history the witnesses did not see, e.g. a truncated or forked ledger`,
    );
  return {
    ...base,
    checked: true,
    quorum: witnesses.quorum,
    trusted,
    by: [...by].map(([witness, timestamp]) => ({ witness, timestamp })),
  };
}

async function keyProblem(key: PublicKey): Promise<string | null> {
  if (!isRecord(key) || key.kty !== 'OKP' || key.crv !== 'Ed25519' || typeof key.x !== 'string')
    return `key ${String((key as Partial<PublicKey> | null)?.kid)} is not an Ed25519 public key`;
  if (
    (key.alg !== undefined && key.alg !== 'EdDSA') ||
    (key.use !== undefined && key.use !== 'sig')
  )
    return `key ${key.kid}: alg must be EdDSA and use sig`;
  const thumbprint = await thumbprintKid({ kty: 'OKP', crv: 'Ed25519', x: key.x });
  return thumbprint === key.kid
    ? null
    : `key ${key.kid}: kid is not the RFC 7638 thumbprint of the key (${thumbprint})`;
}

/**
 * Every part of a compact JWS in canonical base64url: the last character of an Ed25519
 * signature carries unused bits, and a decoder that ignores them would accept a changed byte.
 */
function canonicalParts(jws: string): boolean {
  return jws.split('.').every((part) => {
    try {
      return base64url.encode(base64url.decode(part)) === part;
    } catch {
      return false;
    }
  });
}

async function jwsHolds(
  jws: string,
  keys: ReadonlyMap<string, PublicKey>,
  verify: (key: PublicKey) => Promise<boolean>,
  fail: (check: string, detail: string) => void,
  check: string,
  what: string,
): Promise<boolean> {
  const kid = kidOf(jws);
  const key = keys.get(kid ?? '');
  if (!key) {
    fail(check, `${what} is signed with key ${kid ?? '(none)'}, which is not trusted`);
    return false;
  }
  if (!canonicalParts(jws) || !(await verify(key))) {
    fail(check, `bad signature on ${what}`);
    return false;
  }
  return true;
}

/**
 * The kid that must have signed each seq: the ledger signs with one key until a
 * `ledger.key.rotated` event (signed by the old key) names the next. Without rotations in
 * the report, any trusted key is accepted.
 */
function keySchedule(report: ReportBody): (seq: number) => string | undefined {
  const rotations = report.events
    .filter((e) => isRecord(e.event) && e.event.type === KEY_ROTATED)
    .map((e) => ({ seq: e.seq, payload: e.event.payload as JsonObject }));
  if (rotations.length === 0) return () => undefined;
  return (seq) => {
    let kid: Json | undefined = rotations[0]?.payload['previousKid'];
    for (const r of rotations) if (r.seq < seq) kid = r.payload['kid'];
    return typeof kid === 'string' ? kid : undefined;
  };
}

async function checkEvent(
  entry: ReportEvent,
  keys: ReadonlyMap<string, PublicKey>,
  keyAt: (seq: number) => string | undefined,
  fail: (detail: string) => void,
): Promise<{ parsed: boolean; signature: boolean }> {
  let parsed = false;
  try {
    const canonical = canonicalEvent(entry.event);
    parsed = true;
    if (canonical !== entry.canonical) fail('the canonical form is not the JCS of the event');
  } catch (error) {
    fail(`invalid event: ${(error as Error).message}`);
  }
  if (parsed && entry.event.seq !== entry.seq) fail(`the event's seq is ${entry.event.seq}`);
  const hash = await leafHashHex(entry.canonical);
  if (hash !== entry.hash) fail(`hash mismatch: recorded ${entry.hash}, recomputed ${hash}`);
  const kid = kidOf(entry.jws);
  const expected = keyAt(entry.seq);
  if (expected !== undefined && kid !== expected) {
    fail(`signed with ${kid ?? '(no kid)'}, but the key current at this seq is ${expected}`);
    return { parsed, signature: false };
  }
  const key = keys.get(kid ?? '');
  if (!key) {
    fail(`signed with key ${kid ?? '(none)'}, which is not trusted`);
    return { parsed, signature: false };
  }
  const good =
    canonicalParts(entry.jws) &&
    (await verifyDetached(entry.jws, UTF8.encode(entry.canonical), key));
  if (!good) fail('bad signature');
  return { parsed, signature: good };
}

async function proofHolds(entry: ReportEvent, treeSize: number, root: string): Promise<boolean> {
  return verifyInclusionHex(entry.hash, entry.seq - 1, treeSize, entry.proof, root);
}

// ---------------------------------------------------------------------------------------------
// Figures: the sections against the events they cite.
// ---------------------------------------------------------------------------------------------

async function checkFigures(
  report: ReportBody,
  events: readonly LedgerEvent[],
  bySeq: ReadonlyMap<number, ReportEvent>,
  fail: (check: string, detail: string) => void,
): Promise<void> {
  const facts = factsOf(report);
  const derived = assembleSections(events, facts);
  for (const name of SECTION_NAMES) {
    const path = firstDifference(report[name], derived[name], name);
    if (path !== null) {
      const seq = citedSeq(report, path) ?? citedSeq(derived, path);
      fail(
        'figures',
        `${path} does not match the ledger${seq === undefined ? '' : ` (event seq ${seq})`}`,
      );
    }
  }
  const payloadAt = (seq: number | null): JsonObject | undefined =>
    seq === null ? undefined : (bySeq.get(seq)?.event.payload as JsonObject | undefined);

  for (const [i, e] of report.evaluations.entries()) {
    const where = `evaluations[${i}] (evaluation ${e.id}, event seq ${e.completedSeq})`;
    if (e.result === null) {
      fail('figures', `${where}: the result is missing`);
      continue;
    }
    if ((await sha256Hex(canonicalize(e.result))) !== e.resultSha256)
      fail('figures', `${where}: the result does not hash to resultSha256 of evaluation.completed`);
    const dataset = e.result['dataset'];
    if (
      e.result['evaluationId'] !== e.id ||
      e.result['artifactSha256'] !== e.artifactSha256 ||
      !isRecord(dataset) ||
      dataset['sha256'] !== e.datasetSha256
    )
      fail('figures', `${where}: the result names another evaluation, artifact or dataset`);
    const headline = payloadAt(e.completedSeq)?.['headline'];
    const wrong = isRecord(headline) ? headlineDifference(headline, e.result) : null;
    if (wrong !== null)
      fail('figures', `${where}: ${wrong} differs from the headline of evaluation.completed`);
  }

  for (const [i, p] of report.promotions.entries()) {
    const where = `promotions[${i}] (promotion ${p.id})`;
    const path = `promotions[${i}]`;
    if (p.content !== null && (await sha256Hex(canonicalize(p.content))) !== p.requestDigest)
      fail('figures', `${where}: the request content does not hash to its requestDigest`);
    if (p.approvedSeq !== null) {
      const approved = payloadAt(p.approvedSeq)?.['approvals'];
      const listed = p.approvals.map((a) => canonicalize({ approver: a.approver, role: a.role }));
      const recorded = Array.isArray(approved)
        ? approved.map((a) =>
            isRecord(a)
              ? canonicalize({ approver: a['approver'] ?? null, role: a['role'] ?? null })
              : '',
          )
        : [];
      if (listed.sort().join() !== recorded.sort().join())
        fail(
          'figures',
          `${where}: the approvals are not those of promotion.approved (event seq ${p.approvedSeq})`,
        );
    }
    for (const [j, g] of p.gateEvaluations.entries()) {
      const at = `${path}.gateEvaluations[${j}] (gate evaluation ${g.id}, event seq ${g.evaluatedSeq})`;
      if (g.gates === null) {
        fail('figures', `${at}: the gate results are missing`);
        continue;
      }
      if ((await sha256Hex(canonicalize(g.gates))) !== g.evidenceSha256)
        fail('figures', `${at}: the gate results do not hash to evidenceSha256 of gate.evaluated`);
      const summary = g.gates.map((r) =>
        isRecord(r)
          ? { gate: r['gate'] ?? null, passed: r['passed'] ?? null, summary: r['summary'] ?? null }
          : null,
      );
      const recorded = payloadAt(g.evaluatedSeq)?.['gates'];
      if (recorded === undefined || canonicalize(summary) !== canonicalize(recorded))
        fail('figures', `${at}: the gate results are not those gate.evaluated records`);
    }
  }

  const subject = report.subject;
  const present =
    subject.kind === 'model' || subject.kind === 'modelVersion'
      ? report.models.some((m) => m.name === subject.model)
      : subject.kind === 'promotion'
        ? report.promotions.some((p) => p.id === subject.id)
        : subject.kind === 'rollout'
          ? report.rollouts.some((r) => r.id === subject.id)
          : true;
  if (!present) fail('figures', `the report has no section for its subject ${subject.text}`);
}

function factsOf(report: ReportBody): ReportFacts {
  const evaluationResults = new Map<string, JsonObject>();
  for (const e of report.evaluations) if (e.result !== null) evaluationResults.set(e.id, e.result);
  const gateEvidence = new Map<string, Json[]>();
  for (const p of report.promotions)
    for (const g of p.gateEvaluations) if (g.gates !== null) gateEvidence.set(g.id, g.gates);
  return { evaluationResults, gateEvidence };
}

/** The path of the first member where the two differ (JSON semantics), or null. */
export function firstDifference(a: unknown, b: unknown, path: string): string | null {
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b)) return path;
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      if (i >= a.length || i >= b.length) return `${path}[${i}]`;
      const d = firstDifference(a[i], b[i], `${path}[${i}]`);
      if (d !== null) return d;
    }
    return null;
  }
  if (isRecord(a) && isRecord(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const key of keys) {
      const d = firstDifference(a[key], b[key], `${path}.${key}`);
      if (d !== null) return d;
    }
    return null;
  }
  return Object.is(a, b) || (a === 0 && b === 0) ? null : path;
}

/** The seq cited by the innermost object on `path` that cites one (`…Seq` or `seq`). */
function citedSeq(root: ReportBody | ReportSections, path: string): number | undefined {
  const steps = path.match(/[A-Za-z_$][\w$]*|\[\d+\]/g) ?? [];
  let node: unknown = root;
  let cited: number | undefined;
  for (const step of steps) {
    if (!isRecord(node) && !Array.isArray(node)) break;
    node = step.startsWith('[')
      ? (node as unknown[])[Number(step.slice(1, -1))]
      : (node as Record<string, unknown>)[step];
    if (isRecord(node)) {
      for (const [k, v] of Object.entries(node))
        if ((k === 'seq' || k.endsWith('Seq')) && typeof v === 'number') {
          cited = v;
          break;
        }
    }
  }
  return cited;
}

/** The headline figures of evaluation.completed against the full result they summarize. */
function headlineDifference(headline: JsonObject, result: JsonObject): string | null {
  const c = result['classification'];
  const r = result['regression'];
  const source =
    isRecord(c) && isRecord(c['performance']) ? c['performance'] : isRecord(r) ? r : {};
  for (const [name, value] of Object.entries(headline)) {
    if (name === 'fairness') continue;
    if (firstDifference(value, source[name] ?? null, name) !== null) return `headline ${name}`;
  }
  const fairness = headline['fairness'];
  if (Array.isArray(fairness) && isRecord(c) && Array.isArray(c['fairness'])) {
    const full = c['fairness'].filter(isRecord);
    for (const h of fairness.filter(isRecord)) {
      const f = full.find((x) => x['attribute'] === h['attribute']);
      if (!f) return `fairness of ${JSON.stringify(h['attribute'] ?? null)}`;
      for (const [name, value] of Object.entries(h))
        if (firstDifference(value, f[name] ?? null, name) !== null)
          return `fairness ${JSON.stringify(h['attribute'] ?? null)}.${name}`;
    }
  }
  return null;
}

function sameJson(a: unknown, b: unknown): boolean {
  return firstDifference(a, b, '$') === null;
}

function isRecord(value: unknown): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
