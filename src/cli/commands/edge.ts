/**
 * `gatehouse edge bundle --endpoint E [--device ID] [-o FILE]`: the signed bundle of an
 * endpoint's live version (or, for a device, the one its rollout assignment gives it), downloaded and verified here (against the service's JWKS, or one pinned with
 * --jwks) before it is saved: a bundle that does not verify is never written.
 */
import { readFileSync } from 'node:fs';
import { ProblemError } from '../../client/problem.js';
import { verifyEdgeBundle, type EdgeJwks } from '../../edge/edge-bundle-verify.js';
import { EXIT } from '../exit.js';
import { connect, finish, runVerb, type RemoteOptions } from '../remote/remote.js';
import { save } from './report.js';

export interface EdgeBundleOptions extends RemoteOptions {
  readonly endpoint: string;
  readonly output?: string;
  readonly jwks?: string;
  /** The device whose bundle to fetch: it follows the endpoint's rollout for that device. */
  readonly device?: string;
}

const SLUG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

function badInput(message: string): ProblemError {
  return new ProblemError({ code: 'BAD_USER_INPUT', message });
}

/** A JWKS file the operator trusts; a file that is not one is a usage error, named. */
function pinnedJwks(path: string): EdgeJwks {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw badInput(`--jwks: ${path}: ${(error as NodeJS.ErrnoException).code ?? 'not JSON'}`);
  }
  if (typeof value !== 'object' || value === null || !Array.isArray((value as EdgeJwks).keys))
    throw badInput(`--jwks: ${path}: not a JWK set ({"keys": [...]})`);
  return value as EdgeJwks;
}

export function edgeBundle(options: EdgeBundleOptions): Promise<void> {
  return runVerb(options, async () => {
    const endpoint = options.endpoint;
    if (endpoint.length > 63 || !SLUG.test(endpoint))
      throw badInput(
        `--endpoint: ${JSON.stringify(endpoint)} is not an endpoint name (lowercase letters and digits, words joined by single hyphens)`,
      );
    const jwks = options.jwks === undefined ? undefined : pinnedJwks(options.jwks);
    const client = await connect(options);
    const query =
      options.device === undefined ? '' : `?device=${encodeURIComponent(options.device)}`;
    const { bytes } = await client.download(`v1/edge/${endpoint}/bundle${query}`);
    const keys =
      jwks ??
      (JSON.parse(
        new TextDecoder().decode((await client.download('.well-known/jwks.json')).bytes),
      ) as EdgeJwks);
    const verified = await verifyEdgeBundle(bytes, keys);
    if (!verified.ok)
      throw new Error(
        `the bundle of endpoint ${endpoint} does not verify (${verified.code}): ${verified.file}: ${verified.reason}`,
      );
    const { spec, promotion, evidence, manifest, kid, candidate } = verified.bundle;
    const assignment = candidate?.assignment ?? null;
    const output =
      options.output ??
      (assignment
        ? `${endpoint}-${spec.model}-${spec.version}-${assignment.mode}-${assignment.candidateVersion}.edge.tar`
        : `${endpoint}-${spec.model}-${spec.version}.edge.tar`);
    if (output === '-') {
      process.stdout.write(bytes);
      process.exitCode = EXIT.ok;
      return;
    }
    save(output, bytes);
    finish(
      options,
      EXIT.ok,
      {
        bundle: {
          file: output,
          bytes: bytes.byteLength,
          endpoint,
          model: spec.model,
          version: spec.version,
          subjectSha256: manifest.subject[0].digest.sha256,
          kid,
          promotionId: promotion.promotionId,
          eventSeq: evidence.event.seq,
          treeSize: evidence.checkpoint.checkpoint.treeSize,
          keysFrom: jwks === undefined ? 'service' : 'jwks-file',
          assignment: assignment && {
            mode: assignment.mode,
            rolloutId: assignment.rolloutId,
            stage: assignment.stage,
            basisPoints: assignment.basisPoints,
            candidateVersion: assignment.candidateVersion,
            stageEventSeq: candidate?.evidence.event.seq ?? null,
          },
        },
      },
      `Bundle of ${spec.model}@${spec.version} live on ${endpoint} (promotion ${promotion.promotionId}, ledger seq ${evidence.event.seq} in the checkpoint of tree size ${evidence.checkpoint.checkpoint.treeSize}, signed by ${kid})` +
        (assignment
          ? ` with candidate ${spec.model}@${assignment.candidateVersion} (${assignment.mode}, stage ${assignment.stage} of rollout ${assignment.rolloutId})`
          : '') +
        ` verified and saved to ${output}`,
    );
  });
}
