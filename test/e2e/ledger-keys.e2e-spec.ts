import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { startTestApp, type TestApp } from '../support/app.js';
import { runCli } from '../support/cli.js';

async function jwks(app: TestApp): Promise<{ kid: string; x: string }[]> {
  return (
    (await (await fetch(`${app.url}/.well-known/jwks.json`)).json()) as {
      keys: { kid: string; x: string }[];
    }
  ).keys;
}

describe('ledger signing keys, checkpoints and the CLI', () => {
  describe('with a configured key file', () => {
    let app: TestApp;
    let kid: string;

    beforeAll(async () => {
      const { privateKey, publicKey } = generateKeyPairSync('ed25519');
      const dir = mkdtempSync(join(tmpdir(), 'gatehouse-key-'));
      const file = join(dir, 'ledger.pem');
      writeFileSync(file, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
      const jwk = publicKey.export({ format: 'jwk' }) as JWK;
      kid = await calculateJwkThumbprint({ kty: 'OKP', crv: 'Ed25519', x: jwk.x ?? '' });
      app = await startTestApp({
        GATEHOUSE_SIGNING_KEY_FILE: file,
        GATEHOUSE_CHECKPOINT_INTERVAL_SECONDS: '1',
      });
    });
    afterAll(async () => {
      await app.close();
    });

    it('signs with the PKCS#8 key of GATEHOUSE_SIGNING_KEY_FILE, named by its RFC 7638 thumbprint', async () => {
      expect((await jwks(app)).map((k) => k.kid)).toEqual([kid]);
      const auditor = await app.token('audrey', 'auditor');
      const res = await app.gql<{ ledgerEvents: { events: { jws: string }[] } }>(
        '{ ledgerEvents(limit: 1) { events { jws } } }',
        {},
        auditor,
      );
      const header = JSON.parse(
        Buffer.from(res.data!.ledgerEvents.events[0]!.jws.split('.')[0]!, 'base64url').toString(),
      ) as unknown;
      expect(header).toEqual({ alg: 'EdDSA', kid });
    });

    it('checkpoints periodically once the tree grew', async () => {
      const auditor = await app.token('audrey', 'auditor');
      const deadline = Date.now() + 10_000;
      let checkpoint: { treeSize: number } | null = null;
      while (checkpoint === null && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 250));
        const res = await app.gql<{ ledgerCheckpoint: { treeSize: number } | null }>(
          '{ ledgerCheckpoint { treeSize } }',
          {},
          auditor,
        );
        checkpoint = res.data!.ledgerCheckpoint;
      }
      expect(checkpoint?.treeSize).toBeGreaterThanOrEqual(1);
    });
  });

  describe('on the default, from the command line', () => {
    let app: TestApp;
    let env: Record<string, string>;

    beforeAll(async () => {
      app = await startTestApp({ GATEHOUSE_CHECKPOINT_INTERVAL_SECONDS: '0' });
      env = { DATABASE_URL: app.database.url, GATEHOUSE_DATA_DIR: app.config.dataDir };
    });
    afterAll(async () => {
      await app.close();
    });

    it('generated its key with mode 0600 under the data folder', () => {
      const dir = app.config.ledger.signingKeysDir;
      const files = readdirSync(dir).filter((f) => f.endsWith('.jwk'));
      expect(files).toHaveLength(1);
      expect(statSync(join(dir, files[0]!)).mode & 0o777).toBe(0o600);
    });

    it('rotates the key, makes a checkpoint, and verifies a range', async () => {
      const before = await jwks(app);
      const rotated = await runCli(['keys', 'rotate'], env);
      expect(rotated.code).toBe(0);
      const { kid, previousKid, eventSeq } = JSON.parse(rotated.stdout) as {
        kid: string;
        previousKid: string;
        eventSeq: number;
      };
      expect(previousKid).toBe(before[0]!.kid);
      expect((await jwks(app)).map((k) => k.kid)).toEqual([previousKid, kid]);

      const checkpoint = await runCli(['ledger', 'checkpoint'], env);
      expect(checkpoint.code).toBe(0);
      const made = JSON.parse(checkpoint.stdout) as {
        checkpoint: { treeSize: number; rootHash: string };
        created: boolean;
      };
      expect(made).toMatchObject({ created: true, checkpoint: { treeSize: eventSeq } });

      const range = await runCli(
        ['ledger', 'verify', '--from', String(eventSeq), '--to', String(eventSeq + 1), '--json'],
        env,
      );
      expect(range.code).toBe(0);
      expect(JSON.parse(range.stdout)).toMatchObject({
        ok: true,
        fromSeq: eventSeq,
        toSeq: eventSeq + 1,
        eventsChecked: 2,
        checkpointsChecked: 1,
      });

      const again = await runCli(['ledger', 'checkpoint'], env);
      expect(JSON.parse(again.stdout)).toMatchObject({
        created: false,
        checkpoint: made.checkpoint,
      });
    });

    it('refuses a range beyond the head with status 2', async () => {
      const result = await runCli(['ledger', 'verify', '--to', '999999'], env);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/toSeq: must be at most the head/);
    });
  });
});
