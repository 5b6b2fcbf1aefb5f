/**
 * The sections of an audit report, derived from nothing but the ledger events it carries and
 * the two kinds of figures the ledger holds only by digest (evaluation results, gate evidence).
 *
 * The service builds the report with this function and the offline verifier runs it again on
 * the events of the file: a section that says anything the events do not is caught as a
 * difference, wherever it is. So it must stay pure and deterministic, and tolerate event
 * types and payload members it does not know (the rollout engine adds some): unknown types are
 * left out of the sections (they stay in the event list), unknown members are carried along.
 */
import type { LedgerEventType } from '../ledger/event-catalogue.js';
import type { LedgerEvent } from '../ledger/ledger-event.js';
import type {
  ApprovalSection,
  EvaluationSection,
  GateEvaluationSection,
  Json,
  JsonObject,
  ModelSection,
  PromotionSection,
  ReportSections,
  RolloutSection,
  TimelineEntry,
  VersionSection,
} from './report-document.js';

/** The figures the ledger records only by digest, by evaluation id and gate evaluation id. */
export interface ReportFacts {
  readonly evaluationResults: ReadonlyMap<string, JsonObject>;
  readonly gateEvidence: ReadonlyMap<string, Json[]>;
}

/** Where a rollout's traffic changes are looked for: from its start gates to its end. */
export interface RolloutWindow {
  readonly rolloutId: string;
  readonly endpoint: string;
  readonly fromSeq: number;
  /** Infinity while the rollout has not ended. */
  readonly toSeq: number;
}

// Typed by the catalogue, so a type no writer records cannot be listed here.
const DEPLOYMENT_TYPES = new Set<string>([
  'deployment.live.changed',
  'deployment.traffic.changed',
] satisfies LedgerEventType[]);
const TERMINAL_ROLLOUT = new Set<string>([
  'rollout.completed',
  'rollout.rolled_back',
] satisfies LedgerEventType[]);

const ROLLOUT_STATUS: Readonly<Partial<Record<string, string>>> = {
  'rollout.started': 'RUNNING',
  'rollout.stage.entered': 'RUNNING',
  'rollout.stage.passed': 'RUNNING',
  'rollout.resumed': 'RUNNING',
  'rollout.paused': 'PAUSED',
  'rollout.rolled_back': 'ROLLED_BACK',
  'rollout.completed': 'COMPLETED',
} satisfies Partial<Record<LedgerEventType, string>>;

const PROMOTION_STATUS: Readonly<Partial<Record<string, string>>> = {
  'promotion.requested': 'PENDING',
  'promotion.approved': 'APPROVED',
  'promotion.rejected': 'REJECTED',
  'promotion.withdrawn': 'WITHDRAWN',
} satisfies Partial<Record<LedgerEventType, string>>;

export function assembleSections(
  events: readonly LedgerEvent[],
  facts: ReportFacts,
): ReportSections {
  const models = new Map<string, ModelSection>();
  const evaluations: EvaluationSection[] = [];
  const promotions = new Map<string, PromotionSection>();
  const rollouts = new Map<string, RolloutSection>();
  const traffic = trafficAttribution(rolloutWindows(events));

  const model = (name: string): ModelSection => {
    let m = models.get(name);
    if (!m) {
      m = {
        name,
        riskTier: null,
        owner: null,
        protectedAttributes: null,
        modelCard: null,
        registeredSeq: null,
        registeredAt: null,
        registeredBy: null,
        versions: [],
      };
      models.set(name, m);
    }
    return m;
  };
  const promotion = (id: string): PromotionSection => {
    let p = promotions.get(id);
    if (!p) {
      p = {
        id,
        status: 'UNKNOWN',
        requestedSeq: null,
        requestedAt: null,
        requestedBy: null,
        requestDigest: null,
        content: null,
        requiredRoles: null,
        policySha256: null,
        approvals: [],
        approvedSeq: null,
        closedSeq: null,
        closeReason: null,
        gateEvaluations: [],
      };
      promotions.set(id, p);
    }
    return p;
  };
  const rollout = (id: string): RolloutSection => {
    let r = rollouts.get(id);
    if (!r) {
      r = {
        id,
        promotionId: null,
        endpoint: null,
        model: null,
        version: null,
        previousVersion: null,
        strategy: null,
        status: 'UNKNOWN',
        startedSeq: null,
        timeline: [],
        traffic: [],
      };
      rollouts.set(id, r);
    }
    return r;
  };
  const setPromotion = (id: string, change: Partial<PromotionSection>): void => {
    promotions.set(id, { ...promotion(id), ...change });
  };

  for (const e of events) {
    const p = e.payload as JsonObject;
    switch (e.type) {
      case 'model.registered': {
        const name = text(p['name']) ?? e.subject.replace(/^model:/, '');
        models.set(name, {
          ...model(name),
          riskTier: text(p['riskTier']),
          owner: text(p['owner']),
          protectedAttributes: p['protectedAttributes'] ?? null,
          modelCard: p['modelCard'] ?? null,
          registeredSeq: e.seq,
          registeredAt: e.ts,
          registeredBy: e.actor.sub,
        });
        break;
      }
      case 'model.version.registered': {
        const rest: Record<string, Json> = { ...p };
        delete rest['model'];
        const version: VersionSection = {
          ...rest,
          version: integer(p['version']) ?? 0,
          artifactSha256: text(p['artifactSha256']) ?? '',
          registeredSeq: e.seq,
          registeredAt: e.ts,
          registeredBy: e.actor.sub,
        };
        model(text(p['model']) ?? modelOfSubject(e.subject).model).versions.push(version);
        break;
      }
      case 'evaluation.completed': {
        const id = text(p['evaluationId']) ?? '';
        const of = modelOfSubject(e.subject);
        evaluations.push({
          id,
          model: of.model,
          version: of.version,
          completedSeq: e.seq,
          completedAt: e.ts,
          resultSha256: text(p['resultSha256']) ?? '',
          artifactSha256: p['artifactSha256'] ?? null,
          datasetSha256: p['datasetSha256'] ?? null,
          policySha256: p['policySha256'] ?? null,
          rows: p['rows'] ?? null,
          result: facts.evaluationResults.get(id) ?? null,
        });
        break;
      }
      case 'promotion.requested': {
        const id = text(p['promotionId']) ?? idOfSubject(e.subject);
        const content = p['content'];
        setPromotion(id, {
          status: statusAfter(promotion(id).status, PROMOTION_STATUS[e.type]),
          requestedSeq: e.seq,
          requestedAt: e.ts,
          requestedBy: e.actor.sub,
          requestDigest: text(p['requestDigest']),
          content: isObject(content) ? content : null,
          requiredRoles: p['requiredRoles'] ?? null,
          policySha256: p['policySha256'] ?? null,
        });
        break;
      }
      case 'promotion.approval.recorded': {
        const id = text(p['promotionId']) ?? idOfSubject(e.subject);
        const approval: ApprovalSection = {
          role: text(p['role']) ?? '',
          approver: e.actor.sub,
          approverRoles: [...(e.actor.roles ?? [])],
          signOff: p['signOff'] === true,
          statement: text(p['statement']),
          requestDigest: text(p['requestDigest']) ?? '',
          policySha256: p['policySha256'] ?? null,
          at: e.ts,
          recordedSeq: e.seq,
        };
        promotion(id).approvals.push(approval);
        break;
      }
      case 'promotion.approved':
      case 'promotion.rejected':
      case 'promotion.withdrawn': {
        const id = text(p['promotionId']) ?? idOfSubject(e.subject);
        const status = statusAfter(promotion(id).status, PROMOTION_STATUS[e.type]);
        setPromotion(
          id,
          e.type === 'promotion.approved'
            ? { status, approvedSeq: e.seq }
            : { status, closedSeq: e.seq, closeReason: text(p['reason']) },
        );
        break;
      }
      case 'gate.evaluated': {
        const id = text(p['promotionId']) ?? idOfSubject(e.subject);
        const gateEvaluationId = text(p['gateEvaluationId']) ?? '';
        const section: GateEvaluationSection = {
          id: gateEvaluationId,
          purpose: text(p['purpose']) ?? '',
          passed: p['passed'] === true,
          failedGates: p['failedGates'] ?? null,
          policySha256: text(p['policySha256']) ?? '',
          evidenceSha256: text(p['evidenceSha256']) ?? '',
          requestDigest: p['requestDigest'] ?? null,
          evaluatedAt: e.ts,
          evaluatedBy: e.actor.sub,
          evaluatedSeq: e.seq,
          gates: facts.gateEvidence.get(gateEvaluationId) ?? null,
        };
        promotion(id).gateEvaluations.push(section);
        break;
      }
      default:
        if (e.type.startsWith('rollout.') && e.subject.startsWith('rollout:')) {
          addRolloutEvent(rollout(idOfSubject(e.subject)), e, rollouts, promotions, promotion);
        } else if (DEPLOYMENT_TYPES.has(e.type)) {
          for (const id of traffic.rolloutsOf(e)) rollout(id).traffic.push(entryOf(e));
        }
    }
  }
  return {
    models: [...models.values()],
    evaluations,
    promotions: [...promotions.values()],
    rollouts: [...rollouts.values()],
  };
}

function addRolloutEvent(
  r: RolloutSection,
  e: LedgerEvent,
  rollouts: Map<string, RolloutSection>,
  promotions: Map<string, PromotionSection>,
  promotion: (id: string) => PromotionSection,
): void {
  const p = e.payload as JsonObject;
  r.timeline.push(entryOf(e));
  let next: RolloutSection = { ...r, status: ROLLOUT_STATUS[e.type] ?? r.status };
  if (e.type === 'rollout.started') {
    next = {
      ...next,
      promotionId: p['promotionId'] ?? null,
      endpoint: text(p['endpoint']),
      model: p['model'] ?? null,
      version: integer(p['version']),
      previousVersion: p['previousVersion'] ?? null,
      strategy: p['strategy'] ?? null,
      startedSeq: e.seq,
    };
  }
  rollouts.set(r.id, next);
  // A promotion is carried out by its rollout: its status follows the rollout's end.
  const promotionId = text(p['promotionId']) ?? text(next.promotionId);
  if (promotionId !== null && promotions.has(promotionId)) {
    const status =
      e.type === 'rollout.completed'
        ? 'COMPLETED'
        : e.type === 'rollout.rolled_back'
          ? 'ROLLED_BACK'
          : e.type === 'rollout.started'
            ? 'IN_ROLLOUT'
            : undefined;
    if (status !== undefined) promotions.set(promotionId, { ...promotion(promotionId), status });
  }
}

/**
 * For each rollout started in `events`: its endpoint and the seqs between which its traffic
 * changes fall — from the gate evaluation it started on (the traffic moves in that same
 * transaction) to its last event when it has ended.
 */
export function rolloutWindows(events: readonly LedgerEvent[]): RolloutWindow[] {
  const gateSeq = new Map<string, number>();
  const windows = new Map<string, { endpoint: string; fromSeq: number; toSeq: number }>();
  for (const e of events) {
    const p = e.payload as JsonObject;
    if (e.type === 'gate.evaluated') {
      const id = text(p['gateEvaluationId']);
      if (id !== null) gateSeq.set(id, e.seq);
    } else if (e.type === 'rollout.started') {
      const endpoint = text(p['endpoint']);
      if (endpoint === null) continue;
      const gates = text(p['gateEvaluationId']);
      const from = (gates === null ? undefined : gateSeq.get(gates)) ?? e.seq;
      windows.set(idOfSubject(e.subject), {
        endpoint,
        fromSeq: from,
        toSeq: Number.POSITIVE_INFINITY,
      });
    } else if (TERMINAL_ROLLOUT.has(e.type) && e.subject.startsWith('rollout:')) {
      const w = windows.get(idOfSubject(e.subject));
      if (w) w.toSeq = e.seq;
    }
  }
  return [...windows].map(([rolloutId, w]) => ({ rolloutId, ...w }));
}

/**
 * Which rollouts a traffic change belongs to, events taken in seq order: those on its endpoint
 * whose window holds it, or whose window it directly follows — the traffic change that a
 * rollback or completion records after its own event, in the same transaction (an unbroken
 * run of seqs right after the rollout's last event).
 */
export function trafficAttribution(windows: readonly RolloutWindow[]): {
  rolloutsOf(e: Pick<LedgerEvent, 'seq' | 'subject' | 'payload'>): string[];
} {
  const tails = new Map(windows.map((w) => [w.rolloutId, w.toSeq]));
  return {
    rolloutsOf(e) {
      const endpoint =
        text((e.payload as JsonObject)['endpoint']) ?? e.subject.replace(/^endpoint:/, '');
      const out: string[] = [];
      for (const w of windows) {
        if (w.endpoint !== endpoint || e.seq < w.fromSeq) continue;
        const tail = tails.get(w.rolloutId) ?? w.toSeq;
        if (e.seq <= w.toSeq) out.push(w.rolloutId);
        else if (e.seq === tail + 1) {
          tails.set(w.rolloutId, e.seq);
          out.push(w.rolloutId);
        }
      }
      return out;
    },
  };
}

function entryOf(e: LedgerEvent): TimelineEntry {
  return {
    seq: e.seq,
    ts: e.ts,
    type: e.type,
    actor: e.actor.sub,
    payload: e.payload as JsonObject,
  };
}

/** A later event never moves a closed request back to an earlier status. */
function statusAfter(current: string, next: string | undefined): string {
  if (next === undefined) return current;
  if (current === 'REJECTED' || current === 'WITHDRAWN' || current === 'COMPLETED') return current;
  return next;
}

/** `model:<name>@<version>` or `model:<name>`. */
export function modelOfSubject(subject: string): { model: string; version: number | null } {
  const body = subject.replace(/^model:/, '');
  const at = body.lastIndexOf('@');
  if (at < 0) return { model: body, version: null };
  const version = Number(body.slice(at + 1));
  return {
    model: body.slice(0, at),
    version: Number.isSafeInteger(version) ? version : null,
  };
}

function idOfSubject(subject: string): string {
  const colon = subject.indexOf(':');
  return colon < 0 ? subject : subject.slice(colon + 1);
}

function text(value: Json | undefined): string | null {
  return typeof value === 'string' ? value : null;
}

function integer(value: Json | undefined): number | null {
  return typeof value === 'number' && Number.isSafeInteger(value) ? value : null;
}

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
