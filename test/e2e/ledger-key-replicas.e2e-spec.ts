import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startApp, type RunningApp } from '../../src/app.js';
import { startTestApp, type TestApp } from '../support/app.js';

/**
 * Two replicas sharing one database and one data folder (as the compose file and the
 * Kubernetes manifests run them): a key rotation on one must not stop the other from writing
 * to the ledger. The second replica finds the new key in the shared keys folder.
 */
describe('a signing-key rotation seen by another replica', () => {
  let a: TestApp;
  let b: RunningApp;

  beforeAll(async () => {
    a = await startTestApp({ GATEHOUSE_CHECKPOINT_INTERVAL_SECONDS: '0' });
    b = await startApp(a.config);
  });

  afterAll(async () => {
    await b.close();
    await a.close();
  });

  it('lets the other replica go on writing with the new key', async () => {
    const admin = await a.token('ada', 'admin');
    const rotated = await a.gql<{ rotateSigningKey: { kid: string } }>(
      'mutation { rotateSigningKey { kid } }',
      {},
      admin,
    );
    expect(rotated.errors).toBeUndefined();
    const kid = rotated.data?.rotateSigningKey.kid;

    // A change on the other replica: an endpoint-less model registration is enough.
    const scientist = await a.token('dana', 'data-scientist');
    const response = await fetch(`${b.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${scientist}` },
      body: JSON.stringify({
        query: `mutation($input: RegisterModelInput!) { registerModel(input: $input) { name } }`,
        variables: {
          input: {
            name: 'after-rotation',
            riskTier: 'LOW',
            owner: 'team',
            protectedAttributes: [],
            modelCard: {
              intendedUse: 'A model registered on the replica that did not rotate the key.',
              outOfScopeUses: ['Anything real'],
              limitations: 'A test fixture; it scores nothing in this test at all.',
              trainingData: 'None: only its registration is ledgered here for the test.',
              ethicalConsiderations: 'None: a fixture that never sees a real applicant.',
            },
          },
        },
      }),
    });
    const body = (await response.json()) as { data?: unknown; errors?: unknown };
    expect(body.errors).toBeUndefined();

    const auditor = await a.token('audrey', 'auditor');
    const events = await a.gql<{ ledgerEvents: { events: { type: string; jws: string }[] } }>(
      `{ ledgerEvents(limit: 5, type: "model.registered") { events { type jws } } }`,
      {},
      auditor,
    );
    const jws = events.data?.ledgerEvents.events[0]?.jws ?? '';
    const header = JSON.parse(Buffer.from(jws.split('.')[0] ?? '', 'base64url').toString()) as {
      kid: string;
    };
    expect(header.kid).toBe(kid);
    const verified = await a.gql<{ verifyLedger: { ok: boolean } }>(
      '{ verifyLedger { ok } }',
      {},
      auditor,
    );
    expect(verified.data?.verifyLedger.ok).toBe(true);
  });
});
