/**
 * Offline verification of an edge bundle against a JWKS the device trusts (pinned, or
 * fetched from GET /.well-known/jwks.json while it was online). No database, no network, no
 * framework: the CLI, the tests and an edge runtime run exactly this.
 *
 * A bundle is hostile input until this says otherwise. In order, and stopping at the first
 * failure with the file it concerns:
 * 1. the container is a canonical ustar archive of flat, sorted, unique names (ustar.ts);
 * 2. `manifest.jws` is there and is a ledger JWS by a trusted key over `manifest.json`'s bytes;
 * 3. the manifest is the model_signing v1.0 statement of exactly the bundle's files, its
 *    subject digest recomputed, and every file's SHA-256 is the one it lists;
 * 4. every JSON file is its own RFC 8785 form (so no duplicate members) with no prototype keys,
 *    and of the shape docs/edge.md gives;
 * 5. the ledger event's canonical form, leaf hash and JWS (by a trusted key) hold, and it is
 *    the `deployment.live.changed` that put this version live on this endpoint;
 * 6. the checkpoint's JWS holds, and the RFC 9162 inclusion proof leads from the event's hash
 *    to the checkpoint's root;
 * 7. the spec, the promotion and the model agree with each other and with the event;
 * 8. in a bundle that carries a candidate (all of the candidate members, or none), the
 *    candidate's files pass the same checks, its stage event (`rollout.stage.entered`) is
 *    proven against the same checkpoint, and the assignment is what that event records.
 */
import { base64url } from 'jose';
import { canonicalize } from '../ledger/canonical-json.js';
import { kidOf, thumbprintKid, verifyAttached, verifyDetached } from '../ledger/jws-verify.js';
import { canonicalEvent, validateEventShape, type LedgerEvent } from '../ledger/ledger-event.js';
import { leafHashHex, verifyInclusionHex } from '../ledger/merkle-inclusion.js';
import {
  BUNDLE_MEMBERS,
  CANDIDATE_MEMBERS,
  EDGE_CANDIDATE_FILES,
  EDGE_FILES,
  IN_TOTO_STATEMENT_TYPE,
  MANIFEST,
  MANIFEST_JWS,
  MODEL_SIGNING_PREDICATE_TYPE,
  SERIALIZATION,
  eventLine,
  sha256OfBytes,
  subjectDigest,
  type EdgeAssignment,
  type EdgeCandidateEvidence,
  type EdgeEvidence,
  type EdgeInclusionProof,
  type EdgeManifest,
  type EdgePromotion,
  type EdgeSpec,
  type ManifestResource,
  type SignedCheckpoint,
} from './edge-bundle-format.js';
import { readUstar, UstarError } from './ustar.js';

/** What kind of failure; `file` says where. */
export type EdgeBundleFailureCode =
  | 'container'
  | 'unsigned'
  | 'unknown-key'
  | 'signature'
  | 'manifest'
  | 'missing'
  | 'extra'
  | 'digest'
  | 'format'
  | 'event'
  | 'checkpoint'
  | 'proof'
  | 'mismatch';

export interface EdgeBundleFailure {
  readonly code: EdgeBundleFailureCode;
  /** The bundle member concerned, or `(archive)` for the container as a whole. */
  readonly file: string;
  readonly reason: string;
}

/** A verified bundle's contents, typed. */
export interface EdgeBundle {
  /** The kid of the key that signed the manifest. */
  readonly kid: string;
  readonly manifest: EdgeManifest;
  /** The ONNX model's bytes. */
  readonly model: Uint8Array;
  readonly spec: EdgeSpec;
  readonly modelCard: Record<string, unknown>;
  readonly promotion: EdgePromotion;
  readonly evidence: EdgeEvidence;
  /** The rollout's candidate and how this bundle's devices take part; null in a live bundle. */
  readonly candidate: EdgeBundleCandidate | null;
}

export interface EdgeBundleCandidate {
  readonly model: Uint8Array;
  readonly spec: EdgeSpec;
  readonly promotion: EdgePromotion;
  readonly evidence: EdgeCandidateEvidence;
  readonly assignment: EdgeAssignment;
}

export type EdgeBundleVerification =
  { readonly ok: true; readonly bundle: EdgeBundle } | ({ readonly ok: false } & EdgeBundleFailure);

export interface EdgeJwks {
  readonly keys: readonly unknown[];
}

/** Thrown inside, answered as a failure: the first check that fails ends verification. */
class Refusal extends Error {
  constructor(readonly failure: EdgeBundleFailure) {
    super(`${failure.file}: ${failure.reason}`);
  }
}

function refuse(code: EdgeBundleFailureCode, file: string, reason: string): never {
  throw new Refusal({ code, file, reason });
}

const SHA256_HEX = /^[0-9a-f]{64}$/;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const UTF8_STRICT = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const UTF8 = new TextEncoder();
type Ed25519Jwk = { kty: 'OKP'; crv: 'Ed25519'; x: string; kid: string };

/** Verifies a bundle's bytes; never throws for a bad bundle, it says what failed and where. */
export async function verifyEdgeBundle(
  bytes: Uint8Array,
  jwks: EdgeJwks,
): Promise<EdgeBundleVerification> {
  try {
    return { ok: true, bundle: await verify(bytes, await trustedKeys(jwks)) };
  } catch (error) {
    if (error instanceof Refusal) return { ok: false, ...error.failure };
    if (error instanceof UstarError)
      return { ok: false, code: 'container', file: error.member, reason: error.reason };
    // A shape no check anticipated is still an answer, never a crash of the device.
    return {
      ok: false,
      code: 'format',
      file: '(archive)',
      reason: `cannot be read: ${String(error)}`,
    };
  }
}

async function verify(
  bytes: Uint8Array,
  keys: ReadonlyMap<string, Ed25519Jwk>,
): Promise<EdgeBundle> {
  const members = new Map(readUstar(bytes).map((m) => [m.name, m.bytes]));

  // 2. The signature over the manifest's bytes.
  const jwsBytes = members.get(MANIFEST_JWS);
  if (jwsBytes === undefined) refuse('unsigned', MANIFEST_JWS, 'the bundle carries no signature');
  const manifestBytes = members.get(MANIFEST);
  if (manifestBytes === undefined) refuse('missing', MANIFEST, 'the bundle carries no manifest');
  const jws = text(MANIFEST_JWS, jwsBytes);
  const kid = await checkJws(MANIFEST_JWS, jws, keys, (key) =>
    verifyDetached(jws, manifestBytes, key),
  );

  // 3. The manifest, and every file against it.
  const manifest = manifestShape(json(MANIFEST, manifestBytes));
  const listed = new Map(manifest.predicate.resources.map((r) => [r.name, r]));
  if ((await subjectDigest(manifest.predicate.resources)) !== manifest.subject[0].digest.sha256)
    refuse('manifest', MANIFEST, 'the subject digest is not the digest of the resources listed');
  for (const name of members.keys()) {
    if (name === MANIFEST || name === MANIFEST_JWS) continue;
    if (!listed.has(name)) refuse('extra', name, 'the file is not in the signed manifest');
  }
  for (const name of listed.keys())
    if (!members.has(name))
      refuse('missing', name, 'the signed manifest lists it, the bundle lacks it');
  for (const name of BUNDLE_MEMBERS)
    if (!members.has(name)) refuse('missing', name, 'an edge bundle must hold it');
  const withCandidate = CANDIDATE_MEMBERS.some((name) => members.has(name));
  if (withCandidate)
    for (const name of CANDIDATE_MEMBERS)
      if (!members.has(name))
        refuse('missing', name, 'a bundle that carries a candidate must hold all its files');
  for (const [name, resource] of listed) {
    if (!BUNDLE_MEMBERS.includes(name) && !CANDIDATE_MEMBERS.includes(name))
      refuse('extra', name, 'the file is not part of an edge bundle of this format');
    const digest = await sha256OfBytes(members.get(name) ?? new Uint8Array());
    if (digest !== resource.digest)
      refuse('digest', name, `SHA-256 is ${digest}, the signed manifest says ${resource.digest}`);
  }
  const file = (name: string): Uint8Array => members.get(name) ?? new Uint8Array();

  // 4. The files' shapes.
  const spec = specShape(json(EDGE_FILES.spec, file(EDGE_FILES.spec)));
  const modelCard = json(EDGE_FILES.modelCard, file(EDGE_FILES.modelCard));
  if (!isRecord(modelCard))
    refuse('format', EDGE_FILES.modelCard, 'the model card is not a JSON object');
  const promotion = promotionShape(json(EDGE_FILES.promotion, file(EDGE_FILES.promotion)));
  const checkpoint = checkpointShape(json(EDGE_FILES.checkpoint, file(EDGE_FILES.checkpoint)));
  const proof = proofShape(json(EDGE_FILES.proof, file(EDGE_FILES.proof)));

  // 5. The ledger event.
  const evidence = await checkEvent(EDGE_FILES.event, file(EDGE_FILES.event), keys);
  const event = evidence.event;
  const to = event.payload['to'];
  if (event.type !== 'deployment.live.changed')
    refuse(
      'event',
      EDGE_FILES.event,
      `the event is a ${event.type}, not a deployment.live.changed`,
    );
  if (event.subject !== `endpoint:${spec.endpoint}`)
    refuse(
      'mismatch',
      EDGE_FILES.event,
      `the event is of ${event.subject}, the spec of endpoint:${spec.endpoint}`,
    );
  if (!isRecord(to) || to['liveVersion'] !== spec.version)
    refuse('mismatch', EDGE_FILES.event, `the event does not put version ${spec.version} live`);

  // 6. The checkpoint and the inclusion proof.
  await checkJws(EDGE_FILES.checkpoint, checkpoint.jws, keys, async (key) => {
    const signed = await verifyAttached(checkpoint.jws, key);
    if (signed === undefined) return false;
    if (canonicalize(signed) !== canonicalize(checkpoint.checkpoint))
      refuse('checkpoint', EDGE_FILES.checkpoint, 'the signed checkpoint is not the one shown');
    return true;
  });
  const cp = checkpoint.checkpoint;
  await checkProof(EDGE_FILES.proof, proof, event.seq, evidence.hash, cp);

  // 7. The parts agree.
  const model = file(EDGE_FILES.model);
  if (listed.get(EDGE_FILES.model)?.digest !== spec.artifactSha256)
    refuse(
      'mismatch',
      EDGE_FILES.model,
      `the model is not the artifact ${spec.artifactSha256} the spec names`,
    );
  if (manifest.subject[0].name !== `${spec.model}@${spec.version}`)
    refuse(
      'mismatch',
      MANIFEST,
      `the manifest's subject is ${manifest.subject[0].name}, the spec's version ${spec.model}@${spec.version}`,
    );
  if (
    promotion.endpoint !== spec.endpoint ||
    promotion.model !== spec.model ||
    promotion.version !== spec.version
  )
    refuse(
      'mismatch',
      EDGE_FILES.promotion,
      `the promotion puts ${promotion.model}@${promotion.version} on ${promotion.endpoint}, the spec is of ${spec.model}@${spec.version} on ${spec.endpoint}`,
    );
  await checkStatements(EDGE_FILES.promotion, promotion);

  const candidate = withCandidate
    ? await verifyCandidate(file, listed, keys, { spec, checkpoint: cp })
    : null;

  return {
    kid,
    manifest,
    model,
    spec,
    modelCard,
    promotion,
    evidence: { ...evidence, checkpoint, proof },
    candidate,
  };
}

/** 8. The candidate's files, as strictly as the live ones, and the assignment against its event. */
async function verifyCandidate(
  file: (name: string) => Uint8Array,
  listed: ReadonlyMap<string, ManifestResource>,
  keys: ReadonlyMap<string, Ed25519Jwk>,
  live: { readonly spec: EdgeSpec; readonly checkpoint: SignedCheckpoint['checkpoint'] },
): Promise<EdgeBundleCandidate> {
  const F = EDGE_CANDIDATE_FILES;
  const spec = specShape(json(F.spec, file(F.spec)), F.spec);
  const promotion = promotionShape(json(F.promotion, file(F.promotion)), F.promotion);
  const proof = proofShape(json(F.proof, file(F.proof)), F.proof);
  const assignment = assignmentShape(json(F.assignment, file(F.assignment)));
  const evidence = await checkEvent(F.event, file(F.event), keys);
  const event = evidence.event;
  await checkProof(F.proof, proof, event.seq, evidence.hash, live.checkpoint);

  const p = event.payload;
  if (event.type !== 'rollout.stage.entered')
    refuse('event', F.event, `the event is a ${event.type}, not a rollout.stage.entered`);
  const kind = assignment.mode === 'shadow' ? 'SHADOW' : 'CANARY';
  const share = assignment.mode === 'shadow' ? p['sampleBasisPoints'] : p['weightBasisPoints'];
  const disagrees: [string, unknown, unknown][] = [
    ['subject', event.subject, `rollout:${assignment.rolloutId}`],
    ['rolloutId', p['rolloutId'], assignment.rolloutId],
    ['endpoint', p['endpoint'], assignment.endpoint],
    ['stage', p['stage'], assignment.stage],
    ['index', p['index'], assignment.stageIndex],
    ['kind', p['kind'], kind],
    ['version', p['version'], assignment.candidateVersion],
    [
      assignment.mode === 'shadow' ? 'sampleBasisPoints' : 'weightBasisPoints',
      share,
      assignment.basisPoints,
    ],
  ];
  for (const [name, recorded, assigned] of disagrees)
    if (recorded !== assigned)
      refuse(
        'mismatch',
        F.assignment,
        `the assignment says ${name} ${String(assigned)}, the stage event records ${String(recorded)}`,
      );

  if (assignment.endpoint !== live.spec.endpoint || assignment.liveVersion !== live.spec.version)
    refuse(
      'mismatch',
      F.assignment,
      `the assignment is of version ${assignment.liveVersion} live on ${assignment.endpoint}, the bundle's live spec of version ${live.spec.version} on ${live.spec.endpoint}`,
    );
  if (
    spec.endpoint !== live.spec.endpoint ||
    spec.model !== live.spec.model ||
    spec.version !== assignment.candidateVersion
  )
    refuse(
      'mismatch',
      F.spec,
      `the candidate spec is of ${spec.model}@${spec.version} on ${spec.endpoint}, the assignment's candidate ${live.spec.model}@${assignment.candidateVersion} on ${live.spec.endpoint}`,
    );
  if (spec.version === live.spec.version)
    refuse('mismatch', F.spec, `the candidate is the live version ${spec.version}`);
  if (listed.get(F.model)?.digest !== spec.artifactSha256)
    refuse(
      'mismatch',
      F.model,
      `the candidate model is not the artifact ${spec.artifactSha256} its spec names`,
    );
  if (
    promotion.rolloutId !== assignment.rolloutId ||
    promotion.endpoint !== spec.endpoint ||
    promotion.model !== spec.model ||
    promotion.version !== spec.version
  )
    refuse(
      'mismatch',
      F.promotion,
      `the candidate promotion puts ${promotion.model}@${promotion.version} on ${promotion.endpoint} by rollout ${promotion.rolloutId}, not the assignment's candidate`,
    );
  await checkStatements(F.promotion, promotion);
  return { model: file(F.model), spec, promotion, evidence: { ...evidence, proof }, assignment };
}

async function checkStatements(file: string, promotion: EdgePromotion): Promise<void> {
  for (const [i, a] of promotion.approvals.entries()) {
    const statementSha256 =
      a.statement === null ? null : await sha256OfBytes(UTF8.encode(a.statement));
    if (a.statementSha256 !== statementSha256)
      refuse('mismatch', file, `approvals[${i}]: the statement does not hash to statementSha256`);
  }
}

/** The RFC 9162 inclusion proof of the event at `seq` against the checkpoint. */
async function checkProof(
  file: string,
  proof: EdgeInclusionProof,
  seq: number,
  hash: string,
  cp: SignedCheckpoint['checkpoint'],
): Promise<void> {
  if (proof.seq !== seq || proof.leafHash !== hash)
    refuse('proof', file, `the proof is of seq ${proof.seq}, the event is seq ${seq}`);
  if (proof.treeSize !== cp.treeSize || proof.rootHash !== cp.rootHash)
    refuse(
      'proof',
      file,
      `the proof is against tree size ${proof.treeSize}, the checkpoint's is ${cp.treeSize}`,
    );
  if (!(await verifyInclusionHex(hash, seq - 1, cp.treeSize, proof.proof, cp.rootHash)))
    refuse(
      'proof',
      file,
      `the inclusion proof does not lead to the checkpoint's root (tree size ${cp.treeSize})`,
    );
}

/** The keys of the JWKS that are Ed25519 keys named by their RFC 7638 thumbprint. */
async function trustedKeys(jwks: EdgeJwks): Promise<Map<string, Ed25519Jwk>> {
  const keys = new Map<string, Ed25519Jwk>();
  if (!isRecord(jwks) || !Array.isArray(jwks.keys)) return keys;
  for (const key of jwks.keys) {
    if (!isRecord(key) || key['kty'] !== 'OKP' || key['crv'] !== 'Ed25519') continue;
    const { x, kid, alg, use } = key;
    if (typeof x !== 'string' || typeof kid !== 'string') continue;
    if ((alg !== undefined && alg !== 'EdDSA') || (use !== undefined && use !== 'sig')) continue;
    // A kid that is not the key's thumbprint could make one key stand for another.
    if ((await thumbprintKid({ kty: 'OKP', crv: 'Ed25519', x })) !== kid) continue;
    keys.set(kid, { kty: 'OKP', crv: 'Ed25519', x, kid });
  }
  return keys;
}

/** Checks a ledger JWS by its kid's key; returns the kid. */
async function checkJws(
  file: string,
  jws: string,
  keys: ReadonlyMap<string, Ed25519Jwk>,
  holds: (key: Ed25519Jwk) => Promise<boolean>,
): Promise<string> {
  const code =
    file === MANIFEST_JWS ? 'signature' : file === EDGE_FILES.checkpoint ? 'checkpoint' : 'event';
  const kid = kidOf(jws);
  if (kid === undefined)
    refuse(
      code,
      file,
      'not a ledger JWS: the protected header must be exactly {"alg":"EdDSA","kid":…}',
    );
  const key = keys.get(kid);
  if (key === undefined)
    refuse('unknown-key', file, `signed with key ${kid}, which is not in the trusted JWKS`);
  // An Ed25519 signature's last base64url character carries unused bits; only one spelling is accepted.
  if (!canonicalBase64url(jws) || !(await holds(key)))
    refuse(code, file, `bad signature (key ${kid})`);
  return kid;
}

async function checkEvent(
  file: string,
  bytes: Uint8Array,
  keys: ReadonlyMap<string, Ed25519Jwk>,
): Promise<Omit<EdgeEvidence, 'checkpoint' | 'proof'>> {
  const line = text(file, bytes);
  const parsed = json(file, bytes);
  if (!isRecord(parsed) || typeof parsed['hash'] !== 'string' || typeof parsed['jws'] !== 'string')
    refuse('format', file, 'not an NDJSON export line {"event":…,"hash":…,"jws":…}');
  let event: LedgerEvent;
  let canonical: string;
  try {
    event = validateEventShape(parsed['event']);
    canonical = canonicalEvent(event);
  } catch (error) {
    refuse('event', file, (error as Error).message);
  }
  const { hash, jws } = parsed as { hash: string; jws: string };
  if (line !== eventLine(canonical, hash, jws))
    refuse(
      'event',
      file,
      'the line is not the export line of the event (its canonical form, hash and jws, then a newline)',
    );
  const recomputed = await leafHashHex(canonical);
  if (recomputed !== hash)
    refuse('event', file, `hash mismatch: recorded ${hash}, recomputed ${recomputed}`);
  await checkJws(file, jws, keys, (key) => verifyDetached(jws, UTF8.encode(canonical), key));
  return { event, canonical, hash, jws };
}

// ---------------------------------------------------------------------------------------------
// Shapes. Each JSON file must be exactly its RFC 8785 form: one spelling, no duplicate members.
// ---------------------------------------------------------------------------------------------

function text(file: string, bytes: Uint8Array): string {
  try {
    return UTF8_STRICT.decode(bytes);
  } catch {
    refuse('format', file, 'not UTF-8');
  }
}

function json(file: string, bytes: Uint8Array): unknown {
  const source = text(file, bytes);
  let value: unknown;
  try {
    value = JSON.parse(source);
  } catch (error) {
    refuse('format', file, `not JSON: ${(error as Error).message}`);
  }
  const forbidden = forbiddenKey(value, '$');
  if (forbidden !== null) refuse('format', file, `${forbidden}: a prototype key is not allowed`);
  // An NDJSON line is its canonical form and a newline.
  const body = file.endsWith('.ndjson') ? source.replace(/\n$/, '') : source;
  let canonical: string;
  try {
    canonical = canonicalize(value);
  } catch (error) {
    refuse('format', file, (error as Error).message);
  }
  if (canonical !== body)
    refuse(
      'format',
      file,
      'not in RFC 8785 canonical form (members sorted, each once, no whitespace)',
    );
  return value;
}

function forbiddenKey(value: unknown, path: string): string | null {
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) {
      const found = forbiddenKey(v, `${path}[${i}]`);
      if (found !== null) return found;
    }
  } else if (isRecord(value)) {
    for (const [k, v] of Object.entries(value)) {
      if (FORBIDDEN_KEYS.has(k)) return `${path}.${k}`;
      const found = forbiddenKey(v, `${path}.${k}`);
      if (found !== null) return found;
    }
  }
  return null;
}

function manifestShape(m: unknown): EdgeManifest {
  const bad = (why: string): never => refuse('manifest', MANIFEST, why);
  if (!isRecord(m)) return bad('not a JSON object');
  if (m['_type'] !== IN_TOTO_STATEMENT_TYPE) bad(`_type must be ${IN_TOTO_STATEMENT_TYPE}`);
  if (m['predicateType'] !== MODEL_SIGNING_PREDICATE_TYPE)
    bad(`predicateType must be ${MODEL_SIGNING_PREDICATE_TYPE}`);
  const subject = m['subject'];
  const s0: unknown = Array.isArray(subject) ? subject[0] : undefined;
  if (
    !Array.isArray(subject) ||
    subject.length !== 1 ||
    !isRecord(s0) ||
    typeof s0['name'] !== 'string' ||
    !isRecord(s0['digest']) ||
    Object.keys(s0['digest']).join() !== 'sha256' ||
    !SHA256_HEX.test(String(s0['digest']['sha256']))
  )
    bad('subject must be one {name, digest: {sha256}}');
  const predicate = m['predicate'];
  if (!isRecord(predicate)) return bad('predicate is missing');
  if (canonicalize(predicate['serialization'] ?? null) !== canonicalize(SERIALIZATION))
    bad(`predicate.serialization must be ${canonicalize(SERIALIZATION)}`);
  const resources = predicate['resources'];
  if (!Array.isArray(resources)) return bad('predicate.resources is missing');
  let previous = '';
  for (const [i, r] of resources.entries()) {
    if (
      !isRecord(r) ||
      Object.keys(r).length !== 3 ||
      typeof r['name'] !== 'string' ||
      r['algorithm'] !== 'sha256' ||
      typeof r['digest'] !== 'string' ||
      !SHA256_HEX.test(r['digest'])
    )
      bad(`predicate.resources[${i}] must be {name, algorithm: "sha256", digest: <64 hex>}`);
    const name = (r as unknown as ManifestResource).name;
    if (name <= previous)
      bad(`predicate.resources[${i}] (${name}) is out of name order or listed twice`);
    previous = name;
  }
  if (Object.keys(m).length !== 4 || Object.keys(predicate).length !== 2)
    bad(
      'the statement has members beyond _type, subject, predicateType and predicate {serialization, resources}',
    );
  return m as unknown as EdgeManifest;
}

function specShape(s: unknown, file: string = EDGE_FILES.spec): EdgeSpec {
  const bad = (why: string): never => refuse('format', file, why);
  if (!isRecord(s) || s['v'] !== 1) return bad('not an edge spec of version 1');
  for (const name of ['endpoint', 'model', 'task', 'inputName', 'scoreOutput'])
    if (typeof s[name] !== 'string' || s[name] === '') bad(`${name} must be a non-empty string`);
  if (!isPositiveInteger(s['version'])) bad('version must be a positive integer');
  if (typeof s['artifactSha256'] !== 'string' || !SHA256_HEX.test(s['artifactSha256']))
    bad('artifactSha256 must be 64 lowercase hex digits');
  const columns = s['featureColumns'];
  if (
    !Array.isArray(columns) ||
    columns.length === 0 ||
    !columns.every((c) => typeof c === 'string')
  )
    bad('featureColumns must be a non-empty list of names');
  if (!Number.isSafeInteger(s['scoreIndex']) || (s['scoreIndex'] as number) < 0)
    bad('scoreIndex must be an integer of at least 0');
  if (s['threshold'] !== null && typeof s['threshold'] !== 'number')
    bad('threshold must be a number or null');
  const signature = s['signature'];
  if (!isRecord(signature) || !tensorList(signature['inputs']) || !tensorList(signature['outputs']))
    bad('signature must be {inputs, outputs}, lists of {name, datatype, shape}');
  return s as unknown as EdgeSpec;
}

function tensorList(value: unknown): boolean {
  return (
    Array.isArray(value) &&
    value.every(
      (t) =>
        isRecord(t) &&
        typeof t['name'] === 'string' &&
        typeof t['datatype'] === 'string' &&
        Array.isArray(t['shape']) &&
        t['shape'].every((d) => Number.isSafeInteger(d) && (d as number) >= -1),
    )
  );
}

function promotionShape(p: unknown, file: string = EDGE_FILES.promotion): EdgePromotion {
  const bad = (why: string): never => refuse('format', file, why);
  if (!isRecord(p) || p['v'] !== 1) return bad('not an edge promotion of version 1');
  for (const name of [
    'promotionId',
    'rolloutId',
    'endpoint',
    'model',
    'strategy',
    'riskTier',
    'requestedBy',
  ])
    if (typeof p[name] !== 'string' || p[name] === '') bad(`${name} must be a non-empty string`);
  if (!isPositiveInteger(p['version'])) bad('version must be a positive integer');
  for (const name of ['requestDigest', 'policySha256', 'judgedUnderPolicySha256'])
    if (typeof p[name] !== 'string' || !SHA256_HEX.test(p[name]))
      bad(`${name} must be 64 lowercase hex digits`);
  const roles = p['requiredRoles'];
  if (!Array.isArray(roles) || !roles.every((r) => typeof r === 'string'))
    bad('requiredRoles must be a list of roles');
  const approvals = p['approvals'];
  if (!Array.isArray(approvals) || approvals.length === 0)
    return bad('approvals must be a non-empty list');
  for (const [i, a] of approvals.entries()) {
    const at = `approvals[${i}]`;
    if (!isRecord(a)) return bad(`${at} is not an object`);
    for (const name of ['role', 'approver', 'approvedAt'])
      if (typeof a[name] !== 'string' || a[name] === '')
        bad(`${at}.${name} must be a non-empty string`);
    for (const name of ['requestDigest', 'policySha256'])
      if (typeof a[name] !== 'string' || !SHA256_HEX.test(a[name]))
        bad(`${at}.${name} must be 64 lowercase hex digits`);
    if (
      !Array.isArray(a['approverRoles']) ||
      !a['approverRoles'].every((r) => typeof r === 'string')
    )
      bad(`${at}.approverRoles must be a list of roles`);
    if (typeof a['signOff'] !== 'boolean') bad(`${at}.signOff must be true or false`);
    if (a['statement'] !== null && typeof a['statement'] !== 'string')
      bad(`${at}.statement must be text or null`);
    if (
      a['statementSha256'] !== null &&
      (typeof a['statementSha256'] !== 'string' || !SHA256_HEX.test(a['statementSha256']))
    )
      bad(`${at}.statementSha256 must be 64 lowercase hex digits or null`);
    if (a['requestDigest'] !== p['requestDigest'])
      bad(
        `${at} approved request ${String(a['requestDigest'])}, not the promotion's ${String(p['requestDigest'])}`,
      );
  }
  return p as unknown as EdgePromotion;
}

function checkpointShape(c: unknown): SignedCheckpoint {
  const bad = (why: string): never => refuse('format', EDGE_FILES.checkpoint, why);
  if (!isRecord(c) || typeof c['jws'] !== 'string' || !isRecord(c['checkpoint']))
    return bad('must be {checkpoint, jws} as GET /v1/ledger/checkpoint gives it');
  const cp = c['checkpoint'];
  if (cp['v'] !== 1 || !isPositiveInteger(cp['treeSize']) || typeof cp['ts'] !== 'string')
    bad('checkpoint must be {v: 1, treeSize, rootHash, ts}');
  if (typeof cp['rootHash'] !== 'string' || !SHA256_HEX.test(cp['rootHash']))
    bad('checkpoint.rootHash must be 64 lowercase hex digits');
  return c as unknown as SignedCheckpoint;
}

function proofShape(p: unknown, file: string = EDGE_FILES.proof): EdgeInclusionProof {
  const bad = (why: string): never => refuse('format', file, why);
  if (!isRecord(p) || !isPositiveInteger(p['seq']) || !isPositiveInteger(p['treeSize']))
    return bad('must be {seq, treeSize, leafHash, rootHash, proof}');
  for (const name of ['leafHash', 'rootHash'])
    if (typeof p[name] !== 'string' || !SHA256_HEX.test(p[name]))
      bad(`${name} must be 64 lowercase hex digits`);
  const proof = p['proof'];
  // A proof is at most one hash per level of a tree of 2^53 leaves.
  if (
    !Array.isArray(proof) ||
    proof.length > 64 ||
    !proof.every((h) => typeof h === 'string' && SHA256_HEX.test(h))
  )
    bad('proof must be a list of at most 64 hashes of 64 lowercase hex digits');
  return p as unknown as EdgeInclusionProof;
}

function assignmentShape(a: unknown): EdgeAssignment {
  const bad = (why: string): never => refuse('format', EDGE_CANDIDATE_FILES.assignment, why);
  if (!isRecord(a) || a['v'] !== 1) return bad('not an edge assignment of version 1');
  if (a['mode'] !== 'shadow' && a['mode'] !== 'canary') bad('mode must be shadow or canary');
  for (const name of ['endpoint', 'rolloutId', 'stage'])
    if (typeof a[name] !== 'string' || a[name] === '') bad(`${name} must be a non-empty string`);
  for (const name of ['liveVersion', 'candidateVersion'])
    if (!isPositiveInteger(a[name])) bad(`${name} must be a positive integer`);
  if (!Number.isSafeInteger(a['stageIndex']) || (a['stageIndex'] as number) < 0)
    bad('stageIndex must be an integer of at least 0');
  const bp = a['basisPoints'];
  if (!Number.isSafeInteger(bp) || (bp as number) < 1 || (bp as number) > 10_000)
    bad('basisPoints must be an integer from 1 to 10000');
  if (Object.keys(a).length !== 9) bad('the assignment has members beyond those of version 1');
  return a as unknown as EdgeAssignment;
}

function canonicalBase64url(jws: string): boolean {
  return jws.split('.').every((part) => {
    try {
      return base64url.encode(base64url.decode(part)) === part;
    } catch {
      return false;
    }
  });
}

function isPositiveInteger(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 1;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
