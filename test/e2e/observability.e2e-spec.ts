import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { SpanKind } from '@opentelemetry/api';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace';
import { loadConfig } from '../../src/config/config.js';
import {
  buildGermanCreditModels,
  defaultGermanCreditPath,
  type GermanCreditModels,
} from '../../src/model-builder/index.js';
import { PredictionLog } from '../../src/prediction-log/prediction-log.service.js';
import { startTelemetry, type Telemetry } from '../../src/telemetry/sdk.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { createEndpoint, registerModel, registerVersion, setTraffic } from '../support/registry.js';

interface LedgerEvent {
  seq: number;
  type: string;
  subject: string;
  traceId: string | null;
}
interface Request {
  id: string;
  requestDigest: string;
}

const RATIONALE =
  'Above one percent errors the underwriters cannot review every refusal; disparate impact below 0.8 breaches the four-fifths rule we report on.';
const window = { minRequests: 500, seconds: 600 };
const REQUEST = `mutation($evaluationId: ID!, $criteria: RollbackCriteriaInput!) {
  requestPromotion(endpoint: "credit", model: "credit-risk", version: 1, evaluationId: $evaluationId,
    strategy: INITIAL, rollbackCriteria: $criteria,
    justification: "First credit-risk model for the underwriting queue, audited fair on sex and age.") {
    id requestDigest } }`;
const APPROVE = `mutation($id: ID!, $role: String!, $digest: String!, $statement: String) {
  approvePromotion(id: $id, role: $role, requestDigest: $digest, statement: $statement) { id status } }`;
const SIGN_OFF =
  'I reviewed the fairness audit, the model card and the rollback criteria, and sign off for production.';

const TRACEPARENT = /^[0-9a-f]{32}$/;

/**
 * Traces end to end with an in-memory exporter: the SDK is started in this test process the way
 * src/telemetry/register.ts starts it before the service (the library instrumentations are
 * left out: Jest loads modules through its own loader, which they cannot patch), and the
 * service's own request spans, gate spans and ledger trace ids are checked against it.
 */
describe('observability: traces, trace ids in the ledger, /metrics', () => {
  let app: TestApp;
  let telemetry: Telemetry;
  let models: GermanCreditModels;
  const exporter = new InMemorySpanExporter();
  const tokens: Record<string, string> = {};
  let evaluationId: string;

  async function ok<T>(query: string, variables: Record<string, unknown>, who: string): Promise<T> {
    const r = await app.gql<T>(query, variables, tokens[who]);
    if (r.errors || !r.data) throw new Error(JSON.stringify(r.errors));
    return r.data;
  }

  /** As app.gql, with the headers given (a client's traceparent). */
  async function gqlWith(
    query: string,
    variables: Record<string, unknown>,
    who: string,
    headers: Record<string, string>,
  ): Promise<{ data?: unknown; errors?: unknown }> {
    const response = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${tokens[who]!}`,
        ...headers,
      },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as { data?: unknown; errors?: unknown };
  }

  /** Events are sealed just after their commit: wait briefly for the one expected. */
  async function eventsOf(subject: string, type: string, count = 1): Promise<LedgerEvent[]> {
    for (let i = 0; i < 50; i++) {
      const r = await ok<{ ledgerEvents: { events: LedgerEvent[] } }>(
        `query($subject: String, $type: String) { ledgerEvents(limit: 100, subject: $subject, type: $type) {
          events { seq type subject traceId } } }`,
        { subject, type },
        'audrey',
      );
      if (r.ledgerEvents.events.length >= count) return r.ledgerEvents.events;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`no ${type} event for ${subject}`);
  }

  /** One row of the German credit data scored through the Open Inference Protocol. */
  function infer(endpoint: string, row: number, headers: Record<string, string> = {}) {
    return fetch(`${app.url}/v2/models/${endpoint}/infer`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${tokens['ivan']!}`,
        ...headers,
      },
      body: JSON.stringify({
        inputs: [
          {
            name: 'features',
            datatype: 'FP32',
            shape: [1, models.fair.featureNames.length],
            data: Array.from(models.data.X[row]!),
          },
        ],
      }),
    });
  }

  const spansOf = (traceId: string): ReadableSpan[] =>
    exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);

  /**
   * A request's span ends just after its response has gone: these wait a little, so that the
   * spans collected between them are those of the requests made between them (the ledger
   * queries that follow are traces of their own).
   */
  const settle = () => new Promise((resolve) => setTimeout(resolve, 100));
  async function startCollecting(): Promise<void> {
    await settle();
    exporter.reset();
  }
  async function spansOfTheLastRequest(): Promise<ReadableSpan[]> {
    await settle();
    // A copy: the exporter keeps appending to the array it returns.
    return [...exporter.getFinishedSpans()];
  }

  const parentOf = (span: ReadableSpan): string | undefined => span.parentSpanContext?.spanId;

  async function evaluate(version: number, dataset: string): Promise<string> {
    const r = await ok<{ runEvaluation: { id: string } }>(
      `mutation($version: Int!, $dataset: ID!) {
        runEvaluation(model: "credit-risk", version: $version, dataset: $dataset, labelColumn: "good_credit") { id } }`,
      { version, dataset },
      'vera',
    );
    const id = r.runEvaluation.id;
    for (let i = 0; i < 600; i++) {
      const e = await ok<{ evaluation: { status: string; error: string | null } }>(
        `query($id: ID!) { evaluation(id: $id) { status error } }`,
        { id },
        'vera',
      );
      if (e.evaluation.status === 'SUCCEEDED') return id;
      if (e.evaluation.status === 'FAILED') throw new Error(e.evaluation.error ?? 'failed');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error('the evaluation did not finish');
  }

  beforeAll(async () => {
    telemetry = startTelemetry(loadConfig({ NODE_ENV: 'test' }).telemetry, {
      spanProcessors: [new SimpleSpanProcessor({ exporter })],
      instrument: false,
    });
    models = buildGermanCreditModels();
    app = await startTestApp({ GATEHOUSE_CHECKPOINT_INTERVAL_SECONDS: '0' });
    for (const [name, role] of [
      ['dana', 'data-scientist'],
      ['erin', 'ml-engineer'],
      ['vera', 'model-validator'],
      ['cora', 'compliance-officer'],
      ['audrey', 'auditor'],
      ['ivan', 'inference-client'],
    ] as const)
      tokens[name] = await app.token(name, role);
    await registerModel(app, tokens['dana']!, 'credit-risk', { riskTier: 'HIGH' });
    await registerVersion(app, tokens['dana']!, 'credit-risk', models.fair);
    await registerVersion(app, tokens['dana']!, 'credit-risk', models.unfair);
    await createEndpoint(app, tokens['erin']!, 'credit', 'credit-risk');
    await createEndpoint(app, tokens['erin']!, 'scoring', 'credit-risk');
    const upload = await fetch(`${app.url}/v1/datasets?name=german-credit`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${tokens['vera']!}`, 'content-type': 'text/csv' },
      body: readFileSync(defaultGermanCreditPath()),
    });
    const dataset = ((await upload.json()) as { id: string }).id;
    evaluationId = await evaluate(1, dataset);
  }, 180_000);

  afterAll(async () => {
    await app.close();
    await telemetry.shutdown();
  });

  describe('traces', () => {
    let request: Request;

    beforeAll(async () => {
      request = (
        await ok<{ requestPromotion: Request }>(
          REQUEST,
          {
            evaluationId,
            criteria: {
              maxErrorRate: { value: 0.01, window },
              minDisparateImpact: { value: 0.8, window },
              rationale: RATIONALE,
            },
          },
          'dana',
        )
      ).requestPromotion;
    });

    it('an evaluation run is a trace of its own, recorded on evaluation.completed', async () => {
      const [event] = await eventsOf('model:credit-risk@1', 'evaluation.completed');
      expect(event?.traceId).toMatch(TRACEPARENT);
      const run = spansOf(event!.traceId!).find((s) => s.name === 'gatehouse.evaluation.run');
      expect(run?.attributes['gatehouse.evaluation.id']).toBe(evaluationId);
    });

    it('an approval is one trace, and its ledger event carries that trace id', async () => {
      await startCollecting();
      await ok(
        APPROVE,
        { id: request.id, role: 'ml-engineer', digest: request.requestDigest },
        'erin',
      );
      const during = await spansOfTheLastRequest();
      const [event] = await eventsOf(`promotion:${request.id}`, 'promotion.approval.recorded');
      expect(event?.traceId).toMatch(TRACEPARENT);
      const spans = spansOf(event!.traceId!);
      // One root, the server span of POST /graphql; every other span descends from it.
      const roots = spans.filter((s) => parentOf(s) === undefined);
      expect(roots).toHaveLength(1);
      expect(roots[0]!.kind).toBe(SpanKind.SERVER);
      expect(roots[0]!.attributes['http.route']).toBe('/graphql');
      const ids = new Set(spans.map((s) => s.spanContext().spanId));
      for (const span of spans) if (span !== roots[0]) expect(ids.has(parentOf(span)!)).toBe(true);
      // The ledger append of the approval's event is inside that trace.
      const appends = spans.filter((s) => s.name === 'gatehouse.ledger.append');
      expect(appends).toHaveLength(1);
      expect(appends[0]!.attributes).toMatchObject({
        'gatehouse.events': 1,
        'gatehouse.event_types': 'promotion.approval.recorded',
      });
      // Nothing else this request did went into another trace.
      expect(new Set(during.map((s) => s.spanContext().traceId))).toEqual(
        new Set([event!.traceId]),
      );
    });

    it("continues the client's W3C trace: the event carries the trace id of its traceparent", async () => {
      const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
      const r = await gqlWith(
        APPROVE,
        { id: request.id, role: 'model-validator', digest: request.requestDigest },
        'vera',
        { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
      );
      expect(r.errors).toBeUndefined();
      const events = await eventsOf(`promotion:${request.id}`, 'promotion.approval.recorded', 2);
      expect(events.map((e) => e.traceId)).toContain(traceId);
      const server = spansOf(traceId).find((s) => s.kind === SpanKind.SERVER);
      expect(server?.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    });

    it('a gate evaluation has its span in the trace of the request, with its outcome', async () => {
      exporter.reset();
      await ok(
        `mutation($id: ID!) { evaluateGates(id: $id) { id passed } }`,
        { id: request.id },
        'erin',
      );
      const events = await eventsOf(`promotion:${request.id}`, 'gate.evaluated');
      const traceId = events[events.length - 1]!.traceId!;
      expect(traceId).toMatch(TRACEPARENT);
      const gates = spansOf(traceId).filter((s) => s.name === 'gatehouse.gates.evaluate');
      expect(gates).toHaveLength(1);
      expect(gates[0]!.attributes).toMatchObject({
        'gatehouse.promotion.id': request.id,
        'gatehouse.gates.purpose': 'REVIEW',
        // the compliance officer has not signed off yet
        'gatehouse.gates.passed': false,
      });
    });

    it('the sign-off that approves the promotion: both its events carry the trace id of its one trace', async () => {
      await startCollecting();
      const r = await ok<{ approvePromotion: { status: string } }>(
        APPROVE,
        {
          id: request.id,
          role: 'compliance-officer',
          digest: request.requestDigest,
          statement: SIGN_OFF,
        },
        'cora',
      );
      expect(r.approvePromotion.status).toBe('APPROVED');
      const during = await spansOfTheLastRequest();
      const [approved] = await eventsOf(`promotion:${request.id}`, 'promotion.approved');
      const recorded = await eventsOf(`promotion:${request.id}`, 'promotion.approval.recorded', 3);
      const traceId = approved!.traceId!;
      expect(traceId).toMatch(TRACEPARENT);
      expect(recorded[recorded.length - 1]!.traceId).toBe(traceId);
      expect(new Set(during.map((s) => s.spanContext().traceId))).toEqual(new Set([traceId]));
      expect(spansOf(traceId).filter((s) => parentOf(s) === undefined)).toHaveLength(1);
    });
  });

  describe('the console', () => {
    const SESSION = '__Host-gatehouse_session';
    interface Recorded {
      type: string;
      traceId: string | null;
      actor: { sub: string; roles: string[] };
    }
    async function lastEventOf(subject: string, type: string): Promise<Recorded> {
      await eventsOf(subject, type);
      const r = await ok<{ ledgerEvents: { events: Recorded[] } }>(
        `query($subject: String, $type: String) { ledgerEvents(limit: 100, subject: $subject, type: $type) {
          events { type traceId actor { sub roles } } } }`,
        { subject, type },
        'audrey',
      );
      return r.ledgerEvents.events[r.ledgerEvents.events.length - 1]!;
    }

    it("ledgers a console action with the signed-in subject and the trace id of the browser's request", async () => {
      // The console is the browser's GraphQL over a session cookie and its CSRF header: this is
      // that request, sent as the browser sends it.
      await startCollecting();
      const login = await fetch(`${app.url}/console/auth/dev-login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: app.url },
        body: JSON.stringify({ subject: 'elena', roles: ['ml-engineer'] }),
      });
      expect(login.status).toBe(200);
      const { csrfToken } = (await login.json()) as { csrfToken: string };
      const cookie = login.headers
        .getSetCookie()
        .map((line) => line.split(';')[0]!)
        .find((pair) => pair.startsWith(`${SESSION}=`))!;
      const signedIn = (await spansOfTheLastRequest()).find((s) => s.kind === SpanKind.SERVER);
      expect(signedIn?.attributes['http.route']).toBe('/console/auth/dev-login');

      await startCollecting();
      const created = await fetch(`${app.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': csrfToken },
        body: JSON.stringify({
          query: 'mutation { createEndpoint(name: "console-made", model: "credit-risk") { id } }',
        }),
      });
      expect(((await created.json()) as { errors?: unknown }).errors).toBeUndefined();
      const during = await spansOfTheLastRequest();

      const endpoint = await lastEventOf('endpoint:console-made', 'endpoint.created');
      expect(endpoint.actor).toEqual({ sub: 'elena', roles: ['ml-engineer'] });
      expect(endpoint.traceId).toMatch(TRACEPARENT);
      expect(new Set(during.map((s) => s.spanContext().traceId))).toEqual(
        new Set([endpoint.traceId]),
      );
      const session = (
        await ok<{ ledgerEvents: { events: (Recorded & { subject: string })[] } }>(
          `{ ledgerEvents(limit: 100, type: "console.signed_in") {
            events { subject type traceId actor { sub roles } } } }`,
          {},
          'audrey',
        )
      ).ledgerEvents.events.find((e) => e.actor.sub === 'elena');
      expect(session?.traceId).toBe(signedIn?.spanContext().traceId);
    });
  });

  describe('GET /metrics', () => {
    const scrape = async (): Promise<string> => {
      const response = await fetch(`${app.url}/metrics`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      return response.text();
    };

    it('exposes gate outcomes and the prediction log after traffic', async () => {
      await setTraffic(app, 'scoring', { liveVersion: 1 });
      for (let i = 0; i < 3; i++) expect((await infer('scoring', i)).status).toBe(200);
      await app.running.app.get(PredictionLog).flush();
      const text = await scrape();
      expect(Number(/^gatehouse_prediction_log_written_total (\d+)$/m.exec(text)?.[1])).toBe(3);
      expect(text).toMatch(
        /^gatehouse_gate_evaluations_total\{purpose="REVIEW",outcome="fail"\} 1$/m,
      );
      expect(text).toMatch(/^gatehouse_gate_outcomes_total\{gate="APPROVALS",outcome="fail"\} 1$/m);
      expect(text).toMatch(/^gatehouse_gate_outcomes_total\{gate="FAIRNESS",outcome="pass"\} 1$/m);
      expect(text).toMatch(
        /^gatehouse_inference_requests_total\{endpoint="scoring",version="1",arm="live"\} 3$/m,
      );
      expect(text).toMatch(/^gatehouse_inference_duration_count\{[^}]*arm="live"[^}]*\} 3$/m);
      expect(text).toMatch(/^gatehouse_ledger_appends_total \d+$/m);
      expect(text).toMatch(/^gatehouse_prediction_log_backlog \d+$/m);
      expect(text).toMatch(/^gatehouse_prediction_log_dropped_total \d+$/m);
    });
  });
  describe('inference traces', () => {
    beforeAll(async () => {
      await setTraffic(app, 'scoring', { liveVersion: 1 });
    });

    it('a sampled inference request has its server span and the model run as its child', async () => {
      const traceId = '0af7651916cd43dd8448eb211c80319c';
      const response = await infer('scoring', 0, {
        traceparent: `00-${traceId}-b7ad6b7169203331-01`,
      });
      expect(response.status).toBe(200);
      await settle();
      const spans = spansOf(traceId);
      const server = spans.find((s) => s.kind === SpanKind.SERVER);
      expect(server?.name).toBe('POST /v2/models/:endpoint/infer');
      expect(server?.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
      expect(server?.attributes['http.route']).toBe('/v2/models/:endpoint/infer');
      expect(server?.attributes['url.path']).toBe('/v2/models/scoring/infer');
      expect(server?.attributes['http.response.status_code']).toBe(200);
      const run = spans.find((s) => s.name === 'gatehouse.inference.run');
      expect(parentOf(run!)).toBe(server?.spanContext().spanId);
      expect(run?.attributes).toMatchObject({
        'gatehouse.endpoint': 'scoring',
        'gatehouse.version': 1,
        'gatehouse.arm': 'live',
        'gatehouse.rows': 1,
      });
      // Only the request's own spans: @fastify/otel leaves inference routes alone.
      expect(spans).toHaveLength(2);
    });

    it('an unsampled one leaves no span; a refused one records its status', async () => {
      const unsampled = 'f1e2d3c4b5a697887766554433221100';
      const response = await infer('scoring', 1, {
        traceparent: `00-${unsampled}-b7ad6b7169203331-00`,
      });
      expect(response.status).toBe(200);
      const failed = '11112222333344445555666677778888';
      const missing = await infer('no-such-endpoint', 1, {
        traceparent: `00-${failed}-b7ad6b7169203331-01`,
      });
      expect(missing.status).toBe(404);
      await settle();
      expect(spansOf(unsampled)).toEqual([]);
      const server = spansOf(failed).find((s) => s.kind === SpanKind.SERVER);
      expect(server?.attributes['http.response.status_code']).toBe(404);
    });
  });
});
