import { Injectable, Logger, Optional } from '@nestjs/common';
import type { Principal } from '../auth/principal.js';
import { BadInputError, ConflictError, DomainError } from '../common/errors.js';
import { LedgerService } from '../ledger/ledger.service.js';
import { BatchBuilder } from '../prediction-log/prediction-digest.js';
import type { LoggedTensor } from '../prediction-log/prediction.js';
import { checkSlug } from '../registry/registry-rules.js';
import { GatehouseMetrics } from '../telemetry/metrics.js';
import {
  DeviceLogError,
  parseRecords,
  verifyChain,
  type ChainHead,
  type DeviceLogRecord,
} from './device-log.js';
import { ArmMetricsRecorder } from '../arm-metrics/arm-metrics-recorder.service.js';
import { EndpointStateReader } from '../inference/endpoint-state-reader.service.js';
import { deviceObservations } from './device-observations.js';
import { EdgeDevicesRepository } from './edge-devices.repository.js';
import { armRefusal } from './issued-bundle.js';

/** Bytes one upload may carry: a few thousand predictions of a credit model. */
export const MAX_UPLOAD_BYTES = 8 * 1024 * 1024;
/** Records one upload may carry. */
export const MAX_UPLOAD_RECORDS = 10_000;

export interface UploadAnswer {
  readonly deviceId: string;
  readonly endpoint: string;
  readonly received: number;
  readonly accepted: number;
  readonly alreadyAccepted: number;
  /** Where the device stands now: the last accepted record. */
  readonly position: ChainHead;
  /** The prediction batch the new records went into; null when there were none. */
  readonly batchId: number | null;
}

export interface DevicePosition {
  readonly deviceId: string;
  readonly endpoint: string;
  readonly seq: number;
  readonly hash: string;
}

/** Why an upload was refused, as counted (`gatehouse_edge_uploads_total{outcome}`). */
type Refusal = 'gap' | 'chain' | 'differs' | 'device' | 'bundle' | 'invalid';

class RefusedUpload extends Error {
  constructor(
    readonly outcome: Refusal,
    readonly error: DomainError,
  ) {
    super(error.message);
  }
}

/**
 * A device's log taken home (docs/edge.md, "Sync"): the records checked — each a well-formed
 * record of this device and endpoint, each hash and link, the seqs continuing what the device
 * already uploaded, the bundles ones this service issued — then written as one prediction
 * batch, sealed in the ledger as every batch is, with the device's position and an
 * `edge.predictions.uploaded` event in the same transaction. A refused upload writes nothing;
 * records sent again are compared with those accepted and answered as already there.
 */
@Injectable()
export class EdgeUploadsService {
  private static readonly logger = new Logger('EdgeUploads');

  constructor(
    private readonly repository: EdgeDevicesRepository,
    private readonly ledger: LedgerService,
    private readonly states: EndpointStateReader,
    private readonly armMetrics: ArmMetricsRecorder,
    @Optional() private readonly metrics?: GatehouseMetrics,
  ) {}

  async position(endpoint: string, principal: Principal): Promise<DevicePosition> {
    checkSlug('endpoint', endpoint);
    const head = await this.repository.position(principal.sub, endpoint);
    return { deviceId: principal.sub, endpoint, seq: head.seq, hash: head.hash };
  }

  async upload(endpoint: string, principal: Principal, body: Uint8Array): Promise<UploadAnswer> {
    checkSlug('endpoint', endpoint);
    const deviceId = principal.sub;
    try {
      const answer = await this.judgeAndWrite(endpoint, deviceId, principal, body);
      this.metrics?.recordEdgeUpload(endpoint, 'accepted');
      return answer;
    } catch (error) {
      if (!(error instanceof RefusedUpload)) throw error;
      this.metrics?.recordEdgeUpload(endpoint, error.outcome);
      EdgeUploadsService.logger.warn(
        `upload of device ${deviceId} for endpoint ${endpoint} refused (${error.outcome}): ${error.message}`,
      );
      throw error.error;
    }
  }

  private async judgeAndWrite(
    endpoint: string,
    deviceId: string,
    principal: Principal,
    body: Uint8Array,
  ): Promise<UploadAnswer> {
    const records = this.read(body);
    const first = records[0];
    const last = records[records.length - 1];
    if (!first || !last) throw refused('invalid', new BadInputError('body', 'holds no records'));
    for (const r of records) {
      if (r.deviceId !== deviceId)
        throw refused(
          'device',
          new DomainError(
            'FORBIDDEN',
            `seq ${r.seq}: deviceId ${r.deviceId} is not the device this token is for (${deviceId}); a device uploads its own log only`,
            { field: 'deviceId', seq: r.seq },
          ),
        );
      if (r.endpoint !== endpoint)
        throw refused(
          'invalid',
          new BadInputError(
            'endpoint',
            `seq ${r.seq}: the record is of endpoint ${r.endpoint}, the upload of ${endpoint}`,
            {
              seq: r.seq,
            },
          ),
        );
    }
    const chain = verifyChain(records, { seq: first.seq - 1, hash: first.prev });
    if (!chain.ok)
      throw refused(
        'chain',
        new ConflictError(`seq ${chain.seq}: the chain is broken: ${chain.reason}`, {
          seq: chain.seq,
          fault: chain.fault,
        }),
      );
    await this.checkBundles(endpoint, records);

    let accepted: readonly DeviceLogRecord[] = [];
    const { value, events } = await this.repository.underPosition(
      deviceId,
      endpoint,
      async (tx) => {
        const at = tx.position;
        if (first.seq > at.seq + 1)
          throw refused(
            'gap',
            new ConflictError(
              `the upload starts at seq ${first.seq}, the service expects seq ${at.seq + 1} next (device ${deviceId} has uploaded up to seq ${at.seq})`,
              { expectedSeq: at.seq + 1, firstSeq: first.seq },
            ),
          );
        const again = records.filter((r) => r.seq <= at.seq);
        if (again.length > 0) {
          const accepted = await tx.acceptedHashes(first.seq, Math.min(last.seq, at.seq));
          for (const r of again) {
            const hash = accepted.get(r.seq);
            if (hash !== r.hash)
              throw refused(
                'differs',
                new ConflictError(
                  `seq ${r.seq}: differs from the record already accepted with that seq (hash ${hash ?? 'unknown'}, sent ${r.hash})`,
                  { seq: r.seq },
                ),
              );
          }
        }
        const fresh = records.filter((r) => r.seq > at.seq);
        const next = fresh[0];
        if (!next)
          return {
            deviceId,
            endpoint,
            received: records.length,
            accepted: 0,
            alreadyAccepted: again.length,
            position: at,
            batchId: null,
          };
        if (next.prev !== at.hash)
          throw refused(
            'chain',
            new ConflictError(
              `seq ${next.seq}: prev ${next.prev} is not the hash of the accepted seq ${at.seq} (${at.hash})`,
              { seq: next.seq, fault: 'link' },
            ),
          );
        const batch = new BatchBuilder(endpoint);
        for (const r of fresh)
          batch.add({
            requestId: r.requestId,
            endpoint,
            modelVersion: r.modelVersion,
            arm: r.arm,
            inputs: r.inputs.map(tensor),
            outputs: r.outputs === null ? null : r.outputs.map(tensor),
            error: r.error,
            latencyMs: r.latencyMs,
            routingKeyHash: r.routingKeyHash,
            createdAt: new Date(r.ts),
          });
        accepted = fresh;
        const head = fresh[fresh.length - 1] ?? next;
        const stored = await tx.accept(batch.seal(), fresh, (batchId) => ({
          type: 'edge.predictions.uploaded',
          subject: `endpoint:${endpoint}`,
          actor: { sub: principal.sub, roles: [...principal.roles] },
          payload: {
            deviceId,
            endpoint,
            firstSeq: next.seq,
            lastSeq: head.seq,
            count: fresh.length,
            lastHash: head.hash,
            bundleSha256s: [...new Set(fresh.map((r) => r.bundleSha256))].sort(),
            batchId,
          },
        }));
        return {
          deviceId,
          endpoint,
          received: records.length,
          accepted: fresh.length,
          alreadyAccepted: again.length,
          position: { seq: head.seq, hash: head.hash },
          batchId: stored.sealed.batchId,
        };
      },
    );
    // Committed with the batch; sealing them into the chain is the sequencer's (its sweep would
    // get to them a second later). Waited for, so that an answered upload is in the ledger.
    if (events.length > 0)
      await this.ledger.sealQueued(events).catch((error: unknown) => {
        EdgeUploadsService.logger.warn(
          `sealing the upload of device ${deviceId} into the ledger failed (its sweep retries): ${error instanceof Error ? error.message : String(error)}`,
        );
      });
    if (accepted.length > 0) await this.observe(endpoint, accepted);
    return value;
  }

  /**
   * The accepted records into the arm metrics, as the HTTP path counts its requests, so that
   * the rollout controller judges device traffic by the same criteria. Scores are read as the
   * endpoint serves each version now; a version it no longer serves is counted without them.
   */
  private async observe(endpoint: string, records: readonly DeviceLogRecord[]): Promise<void> {
    const state = await this.states.byName(endpoint);
    const served = [state?.live, state?.candidate].filter((v) => v != null);
    const { observations, agreements } = deviceObservations(endpoint, records, served);
    for (const o of observations) this.armMetrics.record(o);
    for (const a of agreements) this.armMetrics.agreement(a.key, a.compared, a.agreed);
  }

  /** The body's records; anything that is not one, or too many, refused naming the line. */
  private read(body: Uint8Array): DeviceLogRecord[] {
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(body);
    } catch {
      throw refused('invalid', new BadInputError('body', 'is not UTF-8 text'));
    }
    // Counted before parsing: a body of short lines could otherwise make parsing the cost.
    let lines = 0;
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lines++;
    if (lines > MAX_UPLOAD_RECORDS)
      throw refused(
        'invalid',
        new DomainError(
          'PAYLOAD_TOO_LARGE',
          `body: more than ${MAX_UPLOAD_RECORDS} records (the record limit of one upload); send them in chunks`,
          { field: 'body', limit: MAX_UPLOAD_RECORDS },
        ),
      );
    try {
      return parseRecords(text);
    } catch (error) {
      if (!(error instanceof DeviceLogError)) throw error;
      throw refused(
        'invalid',
        new BadInputError(error.field === '' ? 'body' : error.field, error.message, {
          ...(error.at.seq === undefined ? {} : { seq: error.at.seq }),
          ...(error.at.line === undefined ? {} : { line: error.at.line }),
        }),
      );
    }
  }

  /** Every record's bundle is one served for the endpoint, and its arm and version ones that bundle carries. */
  private async checkBundles(endpoint: string, records: readonly DeviceLogRecord[]): Promise<void> {
    const digests = [...new Set(records.map((r) => r.bundleSha256))];
    const issued = await this.repository.issued(endpoint, digests);
    for (const r of records) {
      const bundle = issued.get(r.bundleSha256);
      if (!bundle)
        throw refused(
          'bundle',
          new BadInputError(
            'bundleSha256',
            `seq ${r.seq}: ${r.bundleSha256} is not a bundle this service issued for endpoint ${endpoint}`,
            { seq: r.seq },
          ),
        );
      const refusal = armRefusal(bundle, r);
      if (refusal)
        throw refused(
          'bundle',
          new BadInputError(refusal.field, refusal.reason, {
            seq: r.seq,
            arm: r.arm,
            modelVersion: r.modelVersion,
          }),
        );
    }
  }
}

function refused(outcome: Refusal, error: DomainError): RefusedUpload {
  return new RefusedUpload(outcome, error);
}

/** The tensor with its members in RFC 8785 order, whatever order the device sent them in. */
function tensor(t: LoggedTensor): LoggedTensor {
  return { data: t.data, datatype: t.datatype, name: t.name, shape: t.shape };
}
