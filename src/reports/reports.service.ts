import { createHash, randomUUID } from 'node:crypto';
import { withSpan } from '../telemetry/tracing.js';
import { Injectable } from '@nestjs/common';
import type { Principal } from '../auth/principal.js';
import { BadInputError, NotFoundError } from '../common/errors.js';
import { actorOf } from '../ledger/actor.js';
import { canonicalBytes, canonicalize } from '../ledger/canonical-json.js';
import { KEY_ROTATED } from '../ledger/event-catalogue.js';
import { formatTimestamp, type LedgerEvent } from '../ledger/ledger-event.js';
import { LedgerKeysService } from '../ledger/ledger-keys.service.js';
import { LedgerService } from '../ledger/ledger.service.js';
import { signDetached } from '../ledger/jws.js';
import { KeyRing } from '../ledger/signing-keys.js';
import { ReportIntegrityError } from './report.errors.js';
import { ReportCheckpointService } from './report-checkpoint.service.js';
import {
  REPORT_TYPE,
  type JsonObject,
  type ReportBody,
  type ReportEvent,
  type ReportFile,
  type ReportFormat,
  type ReportSubject,
} from './report-document.js';
import { assembleSections, rolloutWindows, trafficAttribution } from './report-sections.js';
import { parseSubject } from './report-subject.js';
import { ReportReadModel, type StoredEvent } from './report-read-model.repository.js';
import { ReportsRepository, type StoredReport } from './reports.repository.js';

/** A report holds every event it cites with a proof; beyond this, narrow the subject. */
export const MAX_REPORT_EVENTS = 20_000;

/** How far past a rollout's last event its own trailing traffic change is looked for. */
const TRAIL = 32;

/** Which ledger subjects a report gathers, and the period it covers when one was asked for. */
interface Scope {
  readonly subjects: Set<string>;
  readonly period: { readonly from: string; readonly to: string } | undefined;
}

/**
 * Exports audit reports: gathers the ledger events of the subject (and those its sections
 * cite), anchors them to one signed checkpoint with an inclusion proof each (witnessed, when
 * the ledger has witnesses: report-checkpoint.service.ts), derives the
 * sections from the events plus the stored figures the ledger holds by digest, signs the whole
 * with the ledger key, and stores it with its `report.exported` event in one transaction.
 */
@Injectable()
export class ReportsService {
  constructor(
    private readonly repository: ReportsRepository,
    private readonly readModel: ReportReadModel,
    private readonly ledger: LedgerService,
    private readonly anchor: ReportCheckpointService,
    private readonly ledgerKeys: LedgerKeysService,
    private readonly ring: KeyRing,
  ) {}

  export(subjectText: string, format: ReportFormat, principal: Principal): Promise<StoredReport> {
    return withSpan(
      'gatehouse.report.export',
      { 'gatehouse.report.subject': subjectText, 'gatehouse.report.format': format },
      () => this.exportNow(subjectText, format, principal),
    );
  }

  private async exportNow(
    subjectText: string,
    format: ReportFormat,
    principal: Principal,
  ): Promise<StoredReport> {
    const subject = parseSubject(subjectText);
    const stored = await this.gather(subject);
    const events = stored.map((s) => JSON.parse(s.canonical) as LedgerEvent);
    const maxSeq = stored.at(-1)?.seq ?? 0;
    if (maxSeq === 0) throw new NotFoundError('ledger events of', subject.text);
    const { checkpoint, note } = await this.anchor.covering(maxSeq, principal);
    const proofs = await this.anchor.proofs(
      stored.map((s) => s.seq),
      checkpoint,
    );

    const evaluationIds = events
      .filter((e) => e.type === 'evaluation.completed')
      .map((e) => String(e.payload['evaluationId']));
    const gateIds = events
      .filter((e) => e.type === 'gate.evaluated')
      .map((e) => String(e.payload['gateEvaluationId']));
    const facts = {
      evaluationResults: await this.readModel.evaluationResults(evaluationIds),
      gateEvidence: await this.readModel.gateEvidence(gateIds),
    };
    const sections = assembleSections(events, facts);
    checkStoredFigures(sections, facts);

    const { keys } = await this.ledgerKeys.jwks();
    const current = keys.at(-1);
    const signing = current && this.ring.get(current.kid);
    if (!current || !signing) throw new Error('the ledger has no current signing key here');
    const id = randomUUID();
    const reportEvents: ReportEvent[] = stored.map((s, i) => ({
      seq: s.seq,
      event: events[i] as LedgerEvent,
      canonical: s.canonical,
      hash: s.hash,
      jws: s.jws,
      proof: proofs[i] ?? [],
    }));
    const body: ReportBody = {
      v: 1,
      type: REPORT_TYPE,
      id,
      subject,
      period:
        subject.kind === 'period'
          ? { from: subject.from, to: subject.to }
          : { from: events[0]?.ts ?? null, to: events.at(-1)?.ts ?? null },
      generatedAt: formatTimestamp(new Date()),
      generatedBy: { sub: principal.sub, roles: [...principal.roles] },
      checkpoint,
      checkpointNote: note,
      keys: {
        jwks: { keys: keys.map((k) => ({ ...k })) },
        rotations: events.filter((e) => e.type === KEY_ROTATED).map((e) => e.seq),
      },
      ...sections,
      events: reportEvents,
    };
    const signature = await signDetached(canonicalBytes(body), signing.privateKey, signing.kid);
    const file: ReportFile = { report: body, signature };
    const document = canonicalize(file);
    const sha256 = createHash('sha256').update(document, 'utf8').digest('hex');
    const row: Omit<StoredReport, 'createdAt'> = {
      id,
      subject: subject.text,
      format,
      document,
      sha256,
      eventCount: reportEvents.length,
      treeSize: checkpoint.checkpoint.treeSize,
      rootHash: checkpoint.checkpoint.rootHash,
      periodFrom: body.period.from === null ? null : new Date(body.period.from),
      periodTo: body.period.to === null ? null : new Date(body.period.to),
      createdBy: principal.sub,
    };
    return this.ledger.transaction(async (tx) => {
      await this.repository.insert(tx.manager, row);
      tx.record({
        type: 'report.exported',
        subject: `report:${id}`,
        actor: actorOf(principal),
        payload: {
          reportId: id,
          subject: subject.text,
          format,
          sha256,
          events: reportEvents.length,
          treeSize: checkpoint.checkpoint.treeSize,
          rootHash: checkpoint.checkpoint.rootHash,
          kid: signing.kid,
        },
      });
      const saved = await this.repository.find(id, tx.manager);
      if (!saved) throw new Error(`report ${id} vanished inside its own transaction`);
      return saved;
    });
  }

  async get(id: string): Promise<StoredReport> {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id))
      throw new BadInputError('id', 'must be a report id (a UUID)');
    const found = await this.repository.find(id);
    if (!found) throw new NotFoundError('report', id);
    return found;
  }

  /** The stored events of the subject and of everything its sections cite, in seq order. */
  private async gather(subject: ReportSubject): Promise<StoredEvent[]> {
    const scope = await this.scope(subject);
    const found = new Map<number, StoredEvent>();
    const add = (rows: readonly StoredEvent[]): void => {
      for (const r of rows) found.set(r.seq, r);
      if (found.size > MAX_REPORT_EVENTS)
        throw new BadInputError(
          'subject',
          `covers more than ${MAX_REPORT_EVENTS} ledger events; narrow it (a version, a promotion or a shorter period)`,
        );
    };
    const limit = MAX_REPORT_EVENTS + 1;
    if (scope.period) {
      const inPeriod = await this.readModel.eventsBetween(
        scope.period.from,
        scope.period.to,
        limit,
      );
      add(inPeriod);
      for (const s of relatedSubjects(inPeriod.map((r) => JSON.parse(r.canonical) as LedgerEvent)))
        scope.subjects.add(s);
    }
    add(await this.readModel.eventsBySubjects([...scope.subjects], limit));
    // Second pass: the datasets the evaluations read, and the traffic changes of each rollout.
    const parsed = (): LedgerEvent[] =>
      [...found.values()].map((r) => JSON.parse(r.canonical) as LedgerEvent);
    const datasets = parsed()
      .filter(
        (e) => e.type === 'evaluation.requested' && typeof e.payload['datasetId'] === 'string',
      )
      .map((e) => `dataset:${String(e.payload['datasetId'])}`);
    add(await this.readModel.eventsBySubjects(datasets, limit));
    // The traffic changes of each rollout: those in its window, and the run that directly
    // follows its last event (attributed exactly as the sections attribute them).
    const windows = rolloutWindows(sorted(parsed()));
    const candidates: StoredEvent[] = [];
    for (const w of windows)
      candidates.push(
        ...(await this.readModel.deploymentEvents(w.endpoint, w.fromSeq, w.toSeq + TRAIL, limit)),
      );
    const attribution = trafficAttribution(windows);
    const unique = new Map(candidates.map((c) => [c.seq, c]));
    add(
      [...unique.values()]
        .sort((a, b) => a.seq - b.seq)
        .filter((c) => attribution.rolloutsOf(JSON.parse(c.canonical) as LedgerEvent).length > 0),
    );
    // Key rotations, so that the key current at each seq can be checked offline.
    add(await this.readModel.eventsOfType(KEY_ROTATED, limit));
    return [...found.values()].sort((a, b) => a.seq - b.seq);
  }

  private async scope(subject: ReportSubject): Promise<Scope> {
    const subjects = new Set<string>();
    const addPromotions = async (ids: readonly string[], rollouts?: readonly string[]) => {
      for (const id of ids) subjects.add(`promotion:${id}`);
      for (const id of rollouts ?? (await this.readModel.rolloutsOf(ids)))
        subjects.add(`rollout:${id}`);
    };
    const addModel = (
      model: string,
      versions: readonly { version: number; artifactSha256: string }[],
    ) => {
      subjects.add(`model:${model}`);
      for (const v of versions) {
        subjects.add(`model:${model}@${v.version}`);
        subjects.add(`artifact:${v.artifactSha256}`);
      }
    };
    switch (subject.kind) {
      case 'model':
      case 'modelVersion': {
        const versions = await this.readModel.modelVersions(subject.model);
        if (!versions) throw new NotFoundError('model', subject.model);
        const wanted =
          subject.kind === 'model'
            ? versions
            : versions.filter((v) => v.version === subject.version);
        if (wanted.length === 0) throw new NotFoundError('model version', subject.text.slice(6));
        addModel(subject.model, wanted);
        const promotions = await this.readModel.promotionsOf(
          subject.model,
          subject.kind === 'model' ? undefined : subject.version,
        );
        await addPromotions(promotions.map((p) => p.id));
        return { subjects, period: undefined };
      }
      case 'promotion':
      case 'rollout': {
        const promotionId =
          subject.kind === 'promotion'
            ? subject.id
            : await this.readModel.promotionOfRollout(subject.id);
        const promotion = promotionId && (await this.readModel.promotion(promotionId));
        if (!promotion) throw new NotFoundError(subject.kind, subject.id);
        addModel(promotion.model, [promotion]);
        await addPromotions([promotion.id], subject.kind === 'rollout' ? [subject.id] : undefined);
        return { subjects, period: undefined };
      }
      case 'period':
        return { subjects, period: { from: subject.from, to: subject.to } };
    }
  }
}

/** Subjects whose events complete the sections of a period's events. */
function relatedSubjects(events: readonly LedgerEvent[]): string[] {
  const out = new Set<string>();
  for (const e of events) {
    if (e.subject.startsWith('promotion:') || e.subject.startsWith('rollout:')) out.add(e.subject);
    if (e.subject.startsWith('model:')) out.add(e.subject.replace(/@\d+$/, ''));
    const promotionId = e.payload['promotionId'];
    if (e.subject.startsWith('rollout:') && typeof promotionId === 'string')
      out.add(`promotion:${promotionId}`);
  }
  return [...out];
}

function sorted(events: LedgerEvent[]): LedgerEvent[] {
  return events.sort((a, b) => a.seq - b.seq);
}

/**
 * Refuses to sign a report whose stored figures no longer hash to what the ledger recorded:
 * that is tampering with the database, and a signed report must never launder it.
 */
function checkStoredFigures(
  sections: ReturnType<typeof assembleSections>,
  facts: { evaluationResults: Map<string, JsonObject>; gateEvidence: Map<string, unknown[]> },
): void {
  const digest = (value: unknown) =>
    createHash('sha256').update(canonicalize(value), 'utf8').digest('hex');
  for (const e of sections.evaluations) {
    const result = facts.evaluationResults.get(e.id);
    if (!result || digest(result) !== e.resultSha256)
      throw new ReportIntegrityError(
        `the stored result of evaluation ${e.id} does not match its evaluation.completed event (seq ${e.completedSeq})`,
      );
  }
  for (const p of sections.promotions)
    for (const g of p.gateEvaluations) {
      const gates = facts.gateEvidence.get(g.id);
      if (!gates || digest(gates) !== g.evidenceSha256)
        throw new ReportIntegrityError(
          `the stored evidence of gate evaluation ${g.id} does not match its gate.evaluated event (seq ${g.evaluatedSeq})`,
        );
    }
}
