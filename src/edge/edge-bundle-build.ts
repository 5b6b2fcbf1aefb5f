/**
 * Writing an edge bundle from facts already gathered: the files, their manifest, its
 * signature, the archive. The same inputs give the same bytes (canonical JSON, the canonical
 * archive, and Ed25519, whose signatures are deterministic).
 */
import { canonicalize } from '../ledger/canonical-json.js';
import {
  EDGE_FILES,
  MANIFEST,
  MANIFEST_JWS,
  eventLine,
  manifestOf,
  sha256OfBytes,
  type EdgeEvidence,
  type EdgeManifest,
  type EdgePromotion,
  type EdgeSpec,
} from './edge-bundle-format.js';
import { writeUstar } from './ustar.js';

export interface EdgeBundleInput {
  readonly model: Uint8Array;
  readonly spec: EdgeSpec;
  readonly modelCard: Record<string, unknown>;
  readonly promotion: EdgePromotion;
  readonly evidence: Omit<EdgeEvidence, 'event'>;
}

/** Signs the manifest's bytes: a detached JWS (`header..signature`) by the ledger's current key. */
export type ManifestSigner = (manifest: Uint8Array) => Promise<string>;

const UTF8 = new TextEncoder();

export async function buildEdgeBundle(
  input: EdgeBundleInput,
  sign: ManifestSigner,
): Promise<{ bytes: Uint8Array; manifest: EdgeManifest }> {
  const { evidence } = input;
  const json = (value: unknown): Uint8Array => UTF8.encode(canonicalize(value));
  const files = new Map<string, Uint8Array>([
    [EDGE_FILES.model, input.model],
    [EDGE_FILES.spec, json(input.spec)],
    [EDGE_FILES.modelCard, json(input.modelCard)],
    [EDGE_FILES.promotion, json(input.promotion)],
    [EDGE_FILES.event, UTF8.encode(eventLine(evidence.canonical, evidence.hash, evidence.jws))],
    [EDGE_FILES.checkpoint, json(evidence.checkpoint)],
    [EDGE_FILES.proof, json(evidence.proof)],
  ]);
  const digests = new Map<string, string>();
  for (const [name, bytes] of files) digests.set(name, await sha256OfBytes(bytes));
  const manifest = await manifestOf(`${input.spec.model}@${input.spec.version}`, digests);
  const manifestBytes = json(manifest);
  const jws = await sign(manifestBytes);
  const members = [...files.entries()].map(([name, bytes]) => ({ name, bytes }));
  members.push(
    { name: MANIFEST, bytes: manifestBytes },
    { name: MANIFEST_JWS, bytes: UTF8.encode(jws) },
  );
  return { bytes: writeUstar(members), manifest };
}
