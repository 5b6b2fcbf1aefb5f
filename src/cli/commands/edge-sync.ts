/**
 * `gatehouse edge sync --log FILE --endpoint E`: uploads the device log records the service has
 * not accepted yet. The service's position for this device (its token's sub) is the truth:
 * asked first, and the log is sent from the record after it, in chunks, each answered with the
 * new position. Sending again what was accepted changes nothing, so a sync cut short is simply
 * run again.
 */
import { existsSync } from 'node:fs';
import { ProblemError } from '../../client/problem.js';
import { logLines } from '../../edge/device-log-file.js';
import { DeviceLogError, parseLine, readRecord } from '../../edge/device-log.js';
import { EXIT } from '../exit.js';
import { connect, finish, Progress, runVerb, type RemoteOptions } from '../remote/remote.js';

export interface EdgeSyncOptions extends RemoteOptions {
  readonly log: string;
  readonly endpoint: string;
}

/** Records in one upload, and bytes: well under the service's limits (10000, 8 MiB). */
const CHUNK_RECORDS = 2000;
const CHUNK_BYTES = 4 * 1024 * 1024;
const SLUG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

function badInput(message: string): ProblemError {
  return new ProblemError({ code: 'BAD_USER_INPUT', message });
}

function conflict(message: string): ProblemError {
  return new ProblemError({ code: 'CONFLICT', message });
}

export function edgeSync(options: EdgeSyncOptions): Promise<void> {
  return runVerb(options, async () => {
    const { endpoint, log } = options;
    if (endpoint.length > 63 || !SLUG.test(endpoint))
      throw badInput(
        `--endpoint: ${JSON.stringify(endpoint)} is not an endpoint name (lowercase letters and digits, words joined by single hyphens)`,
      );
    if (!existsSync(log)) throw badInput(`--log: ${log}: no such file`);
    const client = await connect(options);
    const path = `v1/edge/${endpoint}/predictions`;
    const position = JSON.parse(
      new TextDecoder().decode((await client.download(`${path}/position`)).bytes),
    ) as { deviceId: string; seq: number; hash: string };
    const start = position.seq;
    let at = { seq: position.seq, hash: position.hash };
    let sent = 0;
    let lastInLog = 0;
    let chunk: string[] = [];
    let bytes = 0;
    const progress = new Progress(options);
    const flush = async (): Promise<void> => {
      if (chunk.length === 0) return;
      const body = Buffer.from(`${chunk.join('\n')}\n`, 'utf8');
      const answer = await client.post(path, body, 'application/x-ndjson');
      const now = answer['position'] as { seq: number; hash: string };
      sent += chunk.length;
      at = now;
      progress.say(`uploaded up to seq ${now.seq}`);
      chunk = [];
      bytes = 0;
    };
    for (const { text, line } of logLines(log)) {
      let seq: number;
      let hash: string;
      try {
        const record = readRecord(parseLine(text, line), line);
        seq = record.seq;
        hash = record.hash;
        if (record.endpoint !== endpoint)
          throw badInput(
            `${log}: line ${line}: a record of endpoint ${record.endpoint}, not ${endpoint}`,
          );
      } catch (error) {
        if (error instanceof DeviceLogError) throw badInput(`${log}: ${error.message}`);
        throw error;
      }
      lastInLog = seq;
      if (seq < position.seq) continue;
      if (seq === position.seq) {
        if (hash !== position.hash)
          throw conflict(
            `${log}: seq ${seq} has hash ${hash}, the service accepted ${position.hash} for it: this is not the log the service holds for device ${position.deviceId}`,
          );
        continue;
      }
      chunk.push(text);
      bytes += text.length * 3 + 1;
      if (chunk.length >= CHUNK_RECORDS || bytes >= CHUNK_BYTES) await flush();
    }
    await flush();
    progress.done();
    if (lastInLog < position.seq)
      throw conflict(
        `${log} ends at seq ${lastInLog}, the service has accepted up to seq ${position.seq} from device ${position.deviceId}: this is not that device's whole log`,
      );
    finish(
      options,
      EXIT.ok,
      {
        sync: {
          deviceId: position.deviceId,
          endpoint,
          log,
          from: start,
          uploaded: sent,
          position: at,
        },
      },
      sent === 0
        ? `Nothing to upload: the service has device ${position.deviceId}'s log of ${endpoint} up to seq ${at.seq}`
        : `Uploaded ${sent} records (seq ${start + 1} to ${at.seq}) of device ${position.deviceId} for ${endpoint}; the service is at seq ${at.seq}`,
    );
  });
}
