/**
 * Writing an edge bundle from facts already gathered: the files, their manifest, its
 * signature, the archive. The same inputs give the same bytes (canonical JSON, the canonical
 * archive, and Ed25519, whose signatures are deterministic). The model is streamed into the
 * archive, never held whole: its digest is its content address, known before it is read.
 */
import { canonicalize } from '../ledger/canonical-json.js';
import {
  EDGE_CANDIDATE_FILES,
  EDGE_FILES,
  MANIFEST,
  MANIFEST_JWS,
  eventLine,
  manifestOf,
  sha256OfBytes,
  type EdgeAssignment,
  type EdgeCandidateEvidence,
  type EdgeEvidence,
  type EdgeManifest,
  type EdgePromotion,
  type EdgeSpec,
} from './edge-bundle-format.js';
import { streamUstar, ustarLength, type UstarEntry } from './ustar.js';

/** The ONNX model's bytes, by their SHA-256 and size, read as the archive is written. */
export interface EdgeModelSource {
  readonly sha256: string;
  readonly size: number;
  readonly chunks: () => AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
}

export interface EdgeBundleInput {
  readonly model: EdgeModelSource;
  readonly spec: EdgeSpec;
  readonly modelCard: Record<string, unknown>;
  readonly promotion: EdgePromotion;
  readonly evidence: Omit<EdgeEvidence, 'event'>;
  /** A rollout's candidate, for the devices its stage covers; absent in a live bundle. */
  readonly candidate?: EdgeCandidateInput;
}

export interface EdgeCandidateInput {
  readonly model: EdgeModelSource;
  readonly spec: EdgeSpec;
  readonly promotion: EdgePromotion;
  /** The stage's event and its proof against the live evidence's checkpoint. */
  readonly evidence: Omit<EdgeCandidateEvidence, 'event'>;
  readonly assignment: EdgeAssignment;
}

export interface BuiltEdgeBundle {
  readonly manifest: EdgeManifest;
  /** The archive's length in bytes. */
  readonly size: number;
  /**
   * The archive. Fails (after the model's header has gone out) if the model's bytes are not
   * its declared size; the model source checks its digest.
   */
  readonly stream: () => AsyncGenerator<Uint8Array>;
}

/** Signs the manifest's bytes: a detached JWS (`header..signature`) by the ledger's current key. */
export type ManifestSigner = (manifest: Uint8Array) => Promise<string>;

const UTF8 = new TextEncoder();

export async function buildEdgeBundle(
  input: EdgeBundleInput,
  sign: ManifestSigner,
): Promise<BuiltEdgeBundle> {
  const { evidence } = input;
  const json = (value: unknown): Uint8Array => UTF8.encode(canonicalize(value));
  const files = new Map<string, Uint8Array>([
    [EDGE_FILES.spec, json(input.spec)],
    [EDGE_FILES.modelCard, json(input.modelCard)],
    [EDGE_FILES.promotion, json(input.promotion)],
    [EDGE_FILES.event, UTF8.encode(eventLine(evidence.canonical, evidence.hash, evidence.jws))],
    [EDGE_FILES.checkpoint, json(evidence.checkpoint)],
    [EDGE_FILES.proof, json(evidence.proof)],
  ]);
  const models: [string, EdgeModelSource][] = [[EDGE_FILES.model, input.model]];
  const { candidate } = input;
  if (candidate) {
    const e = candidate.evidence;
    files.set(EDGE_CANDIDATE_FILES.spec, json(candidate.spec));
    files.set(EDGE_CANDIDATE_FILES.promotion, json(candidate.promotion));
    files.set(EDGE_CANDIDATE_FILES.event, UTF8.encode(eventLine(e.canonical, e.hash, e.jws)));
    files.set(EDGE_CANDIDATE_FILES.proof, json(e.proof));
    files.set(EDGE_CANDIDATE_FILES.assignment, json(candidate.assignment));
    models.push([EDGE_CANDIDATE_FILES.model, candidate.model]);
  }
  const digests = new Map<string, string>(models.map(([name, m]) => [name, m.sha256]));
  for (const [name, bytes] of files) digests.set(name, await sha256OfBytes(bytes));
  const manifest = await manifestOf(`${input.spec.model}@${input.spec.version}`, digests);
  const manifestBytes = json(manifest);
  files.set(MANIFEST, manifestBytes);
  files.set(MANIFEST_JWS, UTF8.encode(await sign(manifestBytes)));
  const entries: UstarEntry[] = [...files].map(([name, bytes]) => ({
    name,
    size: bytes.length,
    data: () => [bytes],
  }));
  for (const [name, m] of models) entries.push({ name, size: m.size, data: m.chunks });
  return { manifest, size: ustarLength(entries), stream: () => streamUstar(entries) };
}

/** A model held in memory as a source (tools and tests; the service streams from its store). */
export async function modelSourceOf(bytes: Uint8Array): Promise<EdgeModelSource> {
  return {
    sha256: await sha256OfBytes(bytes),
    size: bytes.length,
    chunks: () => [bytes],
  };
}

/** The whole archive in memory. */
export async function bundleBytes(built: BuiltEdgeBundle): Promise<Uint8Array> {
  const out = new Uint8Array(built.size);
  let at = 0;
  for await (const chunk of built.stream()) {
    out.set(chunk, at);
    at += chunk.length;
  }
  if (at !== built.size) throw new Error(`the bundle is ${at} bytes, not ${built.size}`);
  return out;
}
