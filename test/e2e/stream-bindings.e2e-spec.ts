import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { startTestApp, type GraphQLResponse, type TestApp } from '../support/app.js';
import { createEndpoint, registerModel } from '../support/registry.js';

interface Binding {
  inputSubject: string;
  stream: string;
  consumer: string;
  outputSubject: string;
  deadLetterSubject: string;
  maxAckPending: number;
  createdBy: string;
  createdAt: string;
}

interface EndpointAnswer {
  name: string;
  model: string;
  revision: number;
  streamBinding: Binding | null;
}

interface LedgerAnswer {
  ledgerEvents: {
    events: { subject: string; actor: { sub: string }; payload: Record<string, unknown> }[];
  };
}

const REASON = 'Loan applications now also arrive from the branch queue';
const ENDPOINT_FIELDS = `name model revision streamBinding {
  inputSubject stream consumer outputSubject deadLetterSubject maxAckPending createdBy createdAt }`;

describe('stream bindings', () => {
  let app: TestApp;
  let engineer: string;
  let auditor: string;
  let db: pg.Client;

  /** The next NOTIFY on the endpoints channel, as every replica's router hears it. */
  function nextNotification(): Promise<{ channel: string; payload: string | undefined }> {
    return new Promise((resolve) => {
      db.once('notification', (n) => {
        resolve({ channel: n.channel, payload: n.payload });
      });
    });
  }

  const bind = (
    endpoint: string,
    input: Record<string, unknown>,
    token = engineer,
    reason = REASON,
  ): Promise<GraphQLResponse<{ bindStream: EndpointAnswer }>> =>
    app.gql(
      `mutation($e: String!, $i: StreamBindingInput!, $r: String!) {
         bindStream(endpoint: $e, input: $i, reason: $r) { ${ENDPOINT_FIELDS} } }`,
      { e: endpoint, i: input, r: reason },
      token,
    );

  const unbind = (
    endpoint: string,
    token = engineer,
    reason = 'The branch queue is retired; requests come over HTTP only',
  ): Promise<GraphQLResponse<{ unbindStream: EndpointAnswer }>> =>
    app.gql(
      `mutation($e: String!, $r: String!) {
         unbindStream(endpoint: $e, reason: $r) { ${ENDPOINT_FIELDS} } }`,
      { e: endpoint, r: reason },
      token,
    );

  const events = async (type: string) =>
    (
      await app.gql<LedgerAnswer>(
        `query($t: String!) { ledgerEvents(type: $t, limit: 100) {
           events { subject actor { sub } payload } } }`,
        { t: type },
        auditor,
      )
    ).data?.ledgerEvents.events;

  const errorOf = (r: GraphQLResponse<unknown>) => r.errors?.[0]?.extensions;

  beforeAll(async () => {
    app = await startTestApp({ GATEHOUSE_CHECKPOINT_INTERVAL_SECONDS: '0' });
    engineer = await app.token('erin', 'ml-engineer');
    auditor = await app.token('audrey', 'auditor');
    const scientist = await app.token('dana', 'data-scientist');
    await registerModel(app, scientist, 'credit-risk', { riskTier: 'MEDIUM' });
    for (const name of ['credit', 'fraud-triage', 'limits', 'other'])
      await createEndpoint(app, engineer, name, 'credit-risk');
    db = new pg.Client({ connectionString: app.database.url });
    await db.connect();
    await db.query('LISTEN gatehouse_endpoints');
  });

  afterAll(async () => {
    await db.end();
    await app.close();
  });

  it('binds with defaults, shows the binding on the endpoint, records it and tells every replica', async () => {
    const heard = nextNotification();
    const r = await bind('fraud-triage', {
      inputSubject: 'loans.fraud.requests',
      outputSubject: 'loans.fraud.answers',
    });
    expect(r.errors).toBeUndefined();
    const expected = {
      inputSubject: 'loans.fraud.requests',
      stream: 'GATEHOUSE_FRAUD_TRIAGE',
      consumer: 'gatehouse-fraud-triage',
      outputSubject: 'loans.fraud.answers',
      deadLetterSubject: 'loans.fraud.answers.dead',
      maxAckPending: 1024,
    };
    expect(r.data?.bindStream).toMatchObject({
      name: 'fraud-triage',
      model: 'credit-risk',
      streamBinding: { ...expected, createdBy: 'erin' },
    });
    expect(await heard).toEqual({ channel: 'gatehouse_endpoints', payload: 'fraud-triage' });

    const read = await app.gql<{ endpoint: EndpointAnswer }>(
      `{ endpoint(name: "fraud-triage") { ${ENDPOINT_FIELDS} } }`,
      {},
      auditor,
    );
    expect(read.data?.endpoint.streamBinding).toEqual(r.data?.bindStream.streamBinding);
    // Binding changes no traffic: the routing revision stays.
    expect(read.data?.endpoint.revision).toBe(1);

    expect(await events('endpoint.stream.bound')).toEqual([
      {
        subject: 'endpoint:fraud-triage',
        actor: { sub: 'erin' },
        payload: { endpoint: 'fraud-triage', ...expected, reason: REASON },
      },
    ]);
  });

  it('takes every field as given; binding again with the same values changes and records nothing', async () => {
    const input = {
      inputSubject: 'loans.credit.*.requests',
      outputSubject: 'loans.credit.answers',
      stream: 'LOANS',
      consumer: 'credit-scorer',
      deadLetterSubject: 'loans.poison',
      maxAckPending: 64,
    };
    const first = await bind('credit', input);
    expect(first.errors).toBeUndefined();
    expect(first.data?.bindStream.streamBinding).toMatchObject(input);
    const recorded = (await events('endpoint.stream.bound'))?.length;

    // Defaults spelled out are the same binding, from another engineer too.
    const again = await bind('credit', { ...input }, await app.token('ivan', 'ml-engineer'));
    expect(again.errors).toBeUndefined();
    expect(again.data?.bindStream.streamBinding).toEqual(first.data?.bindStream.streamBinding);
    expect((await events('endpoint.stream.bound'))?.length).toBe(recorded);
  });

  it('refuses a different binding of a bound endpoint as a conflict, naming what differs', async () => {
    const r = await bind('credit', {
      inputSubject: 'loans.credit.*.requests',
      outputSubject: 'loans.credit.answers',
      stream: 'LOANS',
      consumer: 'credit-scorer',
      deadLetterSubject: 'loans.poison',
      maxAckPending: 128,
    });
    expect(r.data).toBeNull();
    expect(errorOf(r)).toEqual({
      code: 'CONFLICT',
      details: { endpoint: 'credit', fields: ['maxAckPending'] },
    });
    expect(r.errors?.[0]?.message).toMatch(/unbind it first/);
  });

  it('refuses a second endpoint on a durable consumer another endpoint reads through', async () => {
    const r = await bind('limits', {
      inputSubject: 'loans.limits.requests',
      outputSubject: 'loans.limits.answers',
      stream: 'LOANS',
      consumer: 'credit-scorer',
    });
    expect(errorOf(r)).toEqual({
      code: 'CONFLICT',
      details: { endpoint: 'credit', stream: 'LOANS', consumer: 'credit-scorer' },
    });
  });

  it('unbinds with the reason in the ledger, and unbinding again changes and records nothing', async () => {
    const heard = nextNotification();
    const r = await unbind('credit');
    expect(r.errors).toBeUndefined();
    expect(r.data?.unbindStream).toMatchObject({ name: 'credit', streamBinding: null });
    expect(await heard).toEqual({ channel: 'gatehouse_endpoints', payload: 'credit' });
    const unbound = [
      {
        subject: 'endpoint:credit',
        actor: { sub: 'erin' },
        payload: {
          endpoint: 'credit',
          reason: 'The branch queue is retired; requests come over HTTP only',
        },
      },
    ];
    expect(await events('endpoint.stream.unbound')).toEqual(unbound);

    const again = await unbind('credit');
    expect(again.errors).toBeUndefined();
    expect(again.data?.unbindStream.streamBinding).toBeNull();
    expect(await events('endpoint.stream.unbound')).toEqual(unbound);

    // Unbound, the endpoint may be bound anew, with other values.
    const rebound = await bind('credit', {
      inputSubject: 'loans.credit.v2',
      outputSubject: 'loans.credit.v2.answers',
    });
    expect(rebound.data?.bindStream.streamBinding?.consumer).toBe('gatehouse-credit');
  });

  it.each([
    ['inputSubject', { inputSubject: 'loans..requests' }],
    ['inputSubject', { inputSubject: 'loans.>.requests' }],
    ['inputSubject', { inputSubject: '$JS.API.>' }],
    ['inputSubject', { inputSubject: 'loans requests' }],
    ['inputSubject', { inputSubject: 'x'.repeat(256) }],
    ['outputSubject', { outputSubject: 'loans.*' }],
    ['outputSubject', { outputSubject: 'loans.other.requests' }],
    ['outputSubject', { inputSubject: 'loans.>', outputSubject: 'loans.answers' }],
    ['deadLetterSubject', { deadLetterSubject: 'loans.other.answers' }],
    ['deadLetterSubject', { deadLetterSubject: 'loans.other.requests' }],
    ['deadLetterSubject', { deadLetterSubject: '' }],
    ['stream', { stream: 'LOANS.OTHER' }],
    ['stream', { stream: 'loans/other' }],
    ['stream', { stream: 'S'.repeat(256) }],
    ['consumer', { consumer: 'other scorer' }],
    ['consumer', { consumer: 'other>' }],
    ['maxAckPending', { maxAckPending: 0 }],
    ['maxAckPending', { maxAckPending: 65_537 }],
  ])('refuses a binding whose %s is wrong (%j), naming the field', async (field, change) => {
    const r = await bind('other', {
      inputSubject: 'loans.other.requests',
      outputSubject: 'loans.other.answers',
      ...change,
    });
    expect(r.data).toBeNull();
    expect(errorOf(r)).toMatchObject({ code: 'BAD_USER_INPUT', details: { field } });
    expect(r.errors?.[0]?.message).toMatch(new RegExp(`^${field}: `));
  });

  it('refuses text the service refuses everywhere (NUL, a lone surrogate) in a subject', async () => {
    for (const inputSubject of ['loans.\u0000', 'loans.\ud800'])
      expect(
        errorOf(await bind('other', { inputSubject, outputSubject: 'loans.other.answers' })),
      ).toMatchObject({ code: 'BAD_USER_INPUT' });
  });

  it('refuses a reason that says nothing, an unknown endpoint, and a role that may not', async () => {
    const input = { inputSubject: 'loans.other.requests', outputSubject: 'loans.other.answers' };
    expect(errorOf(await bind('other', input, engineer, 'ok'))).toMatchObject({
      code: 'BAD_USER_INPUT',
      details: { field: 'reason' },
    });
    expect(errorOf(await unbind('other', engineer, 'ok'))).toMatchObject({
      code: 'BAD_USER_INPUT',
      details: { field: 'reason' },
    });
    expect(errorOf(await bind('nowhere', input))).toEqual({
      code: 'NOT_FOUND',
      details: { what: 'endpoint', key: 'nowhere' },
    });
    for (const role of ['data-scientist', 'release-pipeline', 'auditor', 'compliance-officer']) {
      const token = await app.token('mallory', role);
      expect(errorOf(await bind('other', input, token))?.code).toBe('FORBIDDEN');
      expect(errorOf(await unbind('fraud-triage', token))?.code).toBe('FORBIDDEN');
    }
    // Nothing of the refused attempts was kept.
    const other = await app.gql<{ endpoint: EndpointAnswer }>(
      `{ endpoint(name: "other") { streamBinding { stream } } }`,
      {},
      auditor,
    );
    expect(other.data?.endpoint.streamBinding).toBeNull();
    expect((await events('endpoint.stream.bound'))?.map((e) => e.subject)).toEqual([
      'endpoint:fraud-triage',
      'endpoint:credit',
      'endpoint:credit',
    ]);
  });

  // Last: its bindings and unbindings would show in the event lists the tests above read.
  it('lets one of two endpoints binding one consumer at the same moment win; the other is a conflict', async () => {
    for (const name of ['race-a', 'race-b'])
      await createEndpoint(app, engineer, name, 'credit-risk');
    for (let round = 0; round < 5; round++) {
      const consumer = `racer-${round}`;
      const answers = await Promise.all(
        ['race-a', 'race-b'].map((endpoint) =>
          bind(endpoint, {
            inputSubject: `race.${endpoint}.${round}.in`,
            outputSubject: `race.${endpoint}.${round}.out`,
            stream: 'RACE',
            consumer,
          }),
        ),
      );
      // Each endpoint is locked on its own, so both may pass the check before either inserts:
      // the table's unique pair decides, and its refusal is a conflict, never an internal error.
      expect(answers.map((r) => errorOf(r)?.code ?? 'OK').sort()).toEqual(['CONFLICT', 'OK']);
      const winner = answers.findIndex((r) => r.errors === undefined);
      await unbind(['race-a', 'race-b'][winner] ?? '');
    }
  });
});
