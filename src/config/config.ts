import { isAbsolute, resolve } from 'node:path';
import { originFault } from '../common/log-origin.js';

/**
 * Gatehouse's whole configuration, read once from the environment at start-up.
 * Nothing else in the code reads process.env: a setting that is not here does not exist.
 */
export interface Config {
  readonly env: 'development' | 'production' | 'test';
  readonly host: string;
  readonly port: number;
  /** Unset means: run an embedded PostgreSQL under dataDir. Secret: may hold a password. */
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  readonly embeddedPostgresPort: number;
  readonly policiesDir: string;
  readonly bodyLimitBytes: number;
  readonly graphql: {
    readonly maxDepth: number;
    readonly maxCost: number;
    readonly graphiql: boolean;
    /**
     * `public`: anyone may ask for the schema, and validation errors suggest field names;
     * `authenticated`: only a caller with a valid token, and no suggestions.
     */
    readonly introspection: 'public' | 'authenticated';
  };
  readonly auth: AuthConfig;
  readonly console: ConsoleConfig;
  readonly ledger: LedgerConfig;
  readonly witnessing: WitnessingConfig;
  readonly limits: UploadLimits;
  readonly inference: InferenceConfig;
  readonly predictionLog: PredictionLogConfig;
  readonly batch: BatchConfig;
  readonly rollouts: RolloutsConfig;
  readonly streaming: StreamingConfig;
  readonly telemetry: TelemetryConfig;
  readonly log: LogConfig;
}

/** The OpenTelemetry variables keep their standard names (OTEL_*), so any collector guide applies. */
export interface TelemetryConfig {
  /** `service.name` of every span and metric. */
  readonly serviceName: string;
  /** OTLP/HTTP traces go here; unset: nothing is exported (trace ids are still made). */
  readonly otlpTracesEndpoint: string | undefined;
  readonly sampler: TraceSampler;
  /**
   * With the default sampler: the share of inference requests traced (the hot path), while
   * every governance request (GraphQL, uploads, batch jobs) is traced in full.
   */
  readonly inferenceSampleRatio: number;
  /** When set, `GET /metrics` wants `Authorization: Bearer <token>`. Secret. */
  readonly metricsToken: string | undefined;
}

export type TraceSampler =
  | { readonly kind: 'gatehouse' }
  | {
      readonly kind:
        'always_on' | 'always_off' | 'parentbased_always_on' | 'parentbased_always_off';
    }
  | { readonly kind: 'traceidratio' | 'parentbased_traceidratio'; readonly ratio: number };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];

export const REQUEST_LOGGING = ['all', 'governance', 'off'] as const;
export type RequestLogging = (typeof REQUEST_LOGGING)[number];

export interface LogConfig {
  readonly level: LogLevelName;
  /**
   * One line per answered HTTP request: `all`, `governance` (all but inference requests, which
   * the prediction log records and which are too many for a line each) or `off`. Health
   * probes and scrapes are never logged.
   */
  readonly requests: RequestLogging;
}

export interface UploadLimits {
  /** The largest ONNX file `PUT /v1/artifacts` accepts. */
  readonly artifactMaxBytes: number;
  /** The largest file (CSV or Parquet) `PUT /v1/datasets` accepts, and the most data rows in it. */
  readonly datasetMaxBytes: number;
  readonly datasetMaxRows: number;
}

export interface InferenceConfig {
  /** Loaded ONNX Runtime sessions are evicted, least recently used first, beyond this. */
  readonly sessionMemoryBudgetBytes: number;
  /** Concurrent requests to one version are run together, up to this many rows (1: off). */
  readonly microBatchMaxRows: number;
  /** How long a request may wait for others to join its run. */
  readonly microBatchWaitMs: number;
  /** The most rows one infer request may carry. */
  readonly maxRowsPerRequest: number;
}

export interface PredictionLogConfig {
  readonly enabled: boolean;
  /**
   * Predictions waiting in memory to be written; beyond this a new one is dropped and counted,
   * or refused with its request (an endpoint whose policy requires the log).
   */
  readonly queueLimit: number;
  readonly batchRows: number;
  readonly flushIntervalMs: number;
  /** Where batches wait on disk while the database cannot take them. */
  readonly spoolDir: string;
  /** Bytes of batches the spool holds at most; 0: no spool (they wait in memory). */
  readonly spoolBytes: number;
  /**
   * How long a batch's write may wait for the database (to connect, or for one statement)
   * before it fails and the batch goes to the spool.
   */
  readonly writeTimeoutMs: number;
  /** Logged predictions older than this are deleted (their sealed digests stay). 0: keep. */
  readonly retentionDays: number;
}

export interface RolloutsConfig {
  /** How often the controller judges the rollouts it drives: a breach acts within one tick. */
  readonly tickMs: number;
  /** How long a replica's claim to drive a rollout lasts without renewal. */
  readonly leaseSeconds: number;
  /** How often each replica writes what it measured per endpoint, version and arm. */
  readonly metricsFlushMs: number;
  /** Mirrored requests waiting for a shadow candidate; beyond this they are dropped. */
  readonly shadowQueueLimit: number;
  /**
   * Canary requests waiting for a candidate; beyond this the live version answers them.
   */
  readonly candidateQueueLimit: number;
  /** Threads that run candidate versions, apart from the main thread that runs live ones. */
  readonly candidateThreads: number;
  /** The candidate threads' nice value (Linux, per thread): they yield the cores to live. */
  readonly candidateNiceness: number;
  /**
   * Whether the candidate threads run under Linux's idle scheduling policy (SCHED_IDLE):
   * on a core only when nothing else wants it, and off it as soon as something does.
   */
  readonly candidateIdlePriority: boolean;
  /** Whether this replica drives rollouts at all (every replica measures). */
  readonly controller: boolean;
  /**
   * Controller ticks a replica serving a rollout's endpoint may hold counts it cannot write
   * before the rollout pauses itself: the stage is not judged on metrics that stopped arriving.
   */
  readonly staleMetricsTicks: number;
}

/** Stream-bound endpoints: requests read from a message broker and answered onto it. */
export interface StreamingConfig {
  /**
   * The NATS servers (`nats://` or `tls://`, several for a cluster, tried in turn); unset:
   * streaming is off and no endpoint reads from a stream. Secret: a URL may carry a password.
   */
  readonly natsServers: readonly string[] | undefined;
  /**
   * A message not settled within this long is handed to another replica: long enough for an
   * answer and its prediction's batch (the log closes a batch every quarter of a second), and
   * at most two minutes: well within the answers stream's duplicate window, so an answer
   * published again by the next replica is stored once.
   */
  readonly ackWaitMs: number;
}

export interface BatchConfig {
  /** Jobs one replica runs at once. */
  readonly concurrency: number;
  /** Rows per ONNX Runtime run. */
  readonly chunkRows: number;
}

export interface LedgerConfig {
  /** A PKCS#8 PEM or private JWK (Ed25519). Secret. */
  readonly signingKeyFile: string | undefined;
  /** Where rotated-in private keys live, one `<kid>.jwk` file each. Secret. */
  readonly signingKeysDir: string;
  /** Generate a key on first start when none is configured (never in production). */
  readonly generateSigningKey: boolean;
  /** 0 turns periodic checkpoints off. */
  readonly checkpointIntervalSeconds: number;
  /**
   * The origin line of the ledger's C2SP checkpoints, which names this log to witnesses and
   * transparency tools: the log's URL prefix without its scheme.
   */
  readonly origin: string;
}

/** The witnesses the ledger's checkpoints are submitted to (docs/ledger.md#witnesses). */
export interface WitnessingConfig {
  /**
   * The witnesses (vkey and URL of each), a YAML file read and checked at start-up by
   * witnessing/ (it needs the note formats, which sit above configuration). Unset: none.
   */
  readonly witnessesFile: string | undefined;
  /** How many witnesses' cosignatures make a checkpoint witnessed; unset: all of them. */
  readonly quorum: number | undefined;
  /** A checkpoint below the quorum for longer than this is logged as an alert. */
  readonly alertAfterSeconds: number;
  /** The longest wait between two submissions to a witness that fails. */
  readonly retryMaxSeconds: number;
}

export interface AuthConfig {
  readonly issuer: string | undefined;
  readonly audience: string;
  readonly jwksUrl: string | undefined;
  readonly publicKeyFile: string | undefined;
  readonly algorithms: readonly string[];
  /** Dotted path into the token's claims, e.g. `realm_access.roles` for Keycloak. */
  readonly rolesClaim: string;
  readonly clockToleranceSeconds: number;
  readonly devIssuer: boolean;
}

/** Sign-in to the web console: the service is the OpenID Connect client, the browser holds a cookie. */
export interface ConsoleConfig {
  /**
   * The origin browsers reach the service at (`https://gatehouse.example.com`): the provider
   * redirects back to `<publicUrl>/console/auth/callback`, and state-changing console requests
   * must come from it. Unset: the request's own `Host` is the origin.
   */
  readonly publicUrl: string | undefined;
  /** Unset: no provider sign-in (the dev issuer's sign-in may still be on). */
  readonly oidc: ConsoleOidcConfig | undefined;
  /** A session ends this long after sign-in, whatever happens meanwhile. */
  readonly sessionTtlSeconds: number;
}

export interface ConsoleOidcConfig {
  readonly issuer: string;
  readonly clientId: string;
  /** Unset: a public client (PKCE alone). Secret. */
  readonly clientSecret: string | undefined;
  readonly redirectUrl: string;
}

/** The one way configuration fails: names the variable and what it expects. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    readonly expected: string,
    readonly got: string | undefined,
  ) {
    super(
      `${variable}: expected ${expected}${got === undefined ? '' : `, got ${JSON.stringify(got)}`}`,
    );
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/** Asymmetric algorithms only: `none` and shared-secret HMAC are never accepted. */
export const ALLOWED_JWT_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const;

export const DEV_ISSUER = 'gatehouse-dev';
/** Where the ledger's transparency-log resources (C2SP checkpoint, tiles) are served. */
export const TLOG_PREFIX = '/v1/ledger/tlog';
/**
 * The origin of a ledger whose operator named neither it nor the service's public URL: the
 * reserved `.invalid` name says so to whoever reads a checkpoint.
 */
export const UNCONFIGURED_LEDGER_ORIGIN = 'gatehouse.invalid/ledger';

export function loadConfig(env: Env, cwd: string = process.cwd()): Config {
  const read = new EnvReader(env);
  const nodeEnv = read.oneOf('NODE_ENV', ['development', 'production', 'test'], 'development');
  const production = nodeEnv === 'production';
  const dataDir = absolute(read.string('GATEHOUSE_DATA_DIR', '.data'), cwd);

  const jwksUrl = read.optionalUrl('GATEHOUSE_JWKS_URL');
  const publicKeyFile = read.optionalString('GATEHOUSE_JWT_PUBLIC_KEY_FILE');
  const devIssuer = read.boolean('GATEHOUSE_DEV_ISSUER', !production);
  const issuer = read.optionalString('GATEHOUSE_JWT_ISSUER');
  if ((jwksUrl !== undefined || publicKeyFile !== undefined) && issuer === undefined) {
    throw new ConfigError(
      'GATEHOUSE_JWT_ISSUER',
      'the issuer (iss) of tokens verified with GATEHOUSE_JWKS_URL or GATEHOUSE_JWT_PUBLIC_KEY_FILE',
      undefined,
    );
  }
  if (production && jwksUrl === undefined && publicKeyFile === undefined && !devIssuer) {
    throw new ConfigError(
      'GATEHOUSE_JWKS_URL',
      'a JWKS URL or GATEHOUSE_JWT_PUBLIC_KEY_FILE in production (no token could be verified)',
      undefined,
    );
  }

  const consoleConfig = consoleSignIn(read, production);
  const ledgerOrigin = read.string(
    'GATEHOUSE_LEDGER_ORIGIN',
    consoleConfig.publicUrl === undefined
      ? UNCONFIGURED_LEDGER_ORIGIN
      : `${new URL(consoleConfig.publicUrl).host}${TLOG_PREFIX}`,
  );
  const originProblem = originFault(ledgerOrigin);
  if (originProblem !== undefined)
    throw new ConfigError(
      'GATEHOUSE_LEDGER_ORIGIN',
      `a log origin, which ${originProblem}`,
      ledgerOrigin,
    );

  return {
    env: nodeEnv,
    host: read.string('GATEHOUSE_HOST', '127.0.0.1'),
    port: read.integer('GATEHOUSE_PORT', 3000, 0, 65535),
    databaseUrl: read.optionalPostgresUrl('DATABASE_URL'),
    dataDir,
    embeddedPostgresPort: read.integer('GATEHOUSE_EMBEDDED_PG_PORT', 54329, 1024, 65535),
    policiesDir: absolute(read.string('GATEHOUSE_POLICIES_DIR', 'policies'), cwd),
    bodyLimitBytes: read.integer('GATEHOUSE_BODY_LIMIT_BYTES', 1_048_576, 1024, 1 << 30),
    graphql: {
      maxDepth: read.integer('GATEHOUSE_GRAPHQL_MAX_DEPTH', 10, 2, 100),
      maxCost: read.integer('GATEHOUSE_GRAPHQL_MAX_COST', 5000, 10, 1_000_000),
      graphiql: read.boolean('GATEHOUSE_GRAPHIQL', !production),
      introspection: read.oneOf(
        'GATEHOUSE_GRAPHQL_INTROSPECTION',
        ['public', 'authenticated'],
        production ? 'authenticated' : 'public',
      ),
    },
    auth: {
      issuer,
      audience: read.string('GATEHOUSE_JWT_AUDIENCE', 'gatehouse'),
      jwksUrl,
      publicKeyFile: optionalPath(publicKeyFile, cwd),
      algorithms: read.list('GATEHOUSE_JWT_ALGORITHMS', ALLOWED_JWT_ALGORITHMS, [
        'RS256',
        'PS256',
        'ES256',
        'EdDSA',
      ]),
      rolesClaim: read.string('GATEHOUSE_ROLES_CLAIM', 'roles'),
      clockToleranceSeconds: read.integer('GATEHOUSE_JWT_CLOCK_TOLERANCE_SECONDS', 5, 0, 300),
      devIssuer,
    },
    console: consoleConfig,
    ledger: {
      signingKeyFile: optionalPath(read.optionalString('GATEHOUSE_SIGNING_KEY_FILE'), cwd),
      signingKeysDir: absolute(
        read.string('GATEHOUSE_SIGNING_KEYS_DIR', `${dataDir}/signing-keys`),
        cwd,
      ),
      generateSigningKey: !production,
      checkpointIntervalSeconds: read.integer(
        'GATEHOUSE_CHECKPOINT_INTERVAL_SECONDS',
        300,
        0,
        86_400,
      ),
      origin: ledgerOrigin,
    },
    witnessing: witnessing(read, cwd),
    limits: {
      artifactMaxBytes: read.integer('GATEHOUSE_ARTIFACT_MAX_BYTES', 256 << 20, 1024, 2 ** 34),
      datasetMaxBytes: read.integer('GATEHOUSE_DATASET_MAX_BYTES', 2 ** 30, 1024, 2 ** 40),
      datasetMaxRows: read.integer('GATEHOUSE_DATASET_MAX_ROWS', 10_000_000, 1, 2 ** 40),
    },
    inference: {
      sessionMemoryBudgetBytes:
        read.integer('GATEHOUSE_SESSION_MEMORY_BUDGET_MB', 1024, 16, 1 << 20) * 2 ** 20,
      microBatchMaxRows: read.integer('GATEHOUSE_MICROBATCH_MAX_ROWS', 32, 1, 4096),
      microBatchWaitMs: read.integer('GATEHOUSE_MICROBATCH_WAIT_MS', 0, 0, 100),
      maxRowsPerRequest: read.integer('GATEHOUSE_INFER_MAX_ROWS', 1024, 1, 1 << 20),
    },
    predictionLog: {
      enabled: read.boolean('GATEHOUSE_PREDICTION_LOG', true),
      queueLimit: read.integer('GATEHOUSE_PREDICTION_LOG_QUEUE_LIMIT', 100_000, 1, 10_000_000),
      batchRows: read.integer('GATEHOUSE_PREDICTION_LOG_BATCH_ROWS', 2000, 1, 100_000),
      flushIntervalMs: read.integer('GATEHOUSE_PREDICTION_LOG_FLUSH_MS', 250, 1, 60_000),
      spoolDir: absolute(
        read.string('GATEHOUSE_PREDICTION_SPOOL_DIR', `${dataDir}/prediction-spool`),
        cwd,
      ),
      spoolBytes: read.integer('GATEHOUSE_PREDICTION_SPOOL_MB', 1024, 0, 1 << 22) * 2 ** 20,
      writeTimeoutMs: read.integer(
        'GATEHOUSE_PREDICTION_LOG_WRITE_TIMEOUT_MS',
        10_000,
        100,
        600_000,
      ),
      retentionDays: read.integer('GATEHOUSE_PREDICTION_RETENTION_DAYS', 183, 0, 36_500),
    },
    batch: {
      concurrency: read.integer('GATEHOUSE_BATCH_CONCURRENCY', 1, 1, 64),
      chunkRows: read.integer('GATEHOUSE_BATCH_CHUNK_ROWS', 4096, 1, 1 << 20),
    },
    rollouts: {
      tickMs: read.integer('GATEHOUSE_ROLLOUT_TICK_MS', 1000, 10, 600_000),
      leaseSeconds: read.integer('GATEHOUSE_ROLLOUT_LEASE_SECONDS', 15, 1, 3600),
      metricsFlushMs: read.integer('GATEHOUSE_ARM_METRICS_FLUSH_MS', 1000, 10, 600_000),
      shadowQueueLimit: read.integer('GATEHOUSE_SHADOW_QUEUE_LIMIT', 1000, 0, 1_000_000),
      candidateQueueLimit: read.integer('GATEHOUSE_CANDIDATE_QUEUE_LIMIT', 16, 0, 1_000_000),
      candidateThreads: read.integer('GATEHOUSE_CANDIDATE_THREADS', 1, 1, 64),
      candidateNiceness: read.integer('GATEHOUSE_CANDIDATE_NICENESS', 19, 0, 19),
      candidateIdlePriority: read.boolean('GATEHOUSE_CANDIDATE_IDLE_PRIORITY', true),
      controller: read.boolean('GATEHOUSE_ROLLOUT_CONTROLLER', true),
      staleMetricsTicks: read.integer('GATEHOUSE_ROLLOUT_STALE_METRICS_TICKS', 30, 1, 100_000),
    },
    streaming: {
      natsServers: read.optionalNatsUrls('GATEHOUSE_NATS_URL'),
      ackWaitMs: read.integer('GATEHOUSE_STREAM_ACK_WAIT_MS', 30_000, 1000, 120_000),
    },
    telemetry: {
      serviceName: read.string('OTEL_SERVICE_NAME', 'gatehouse'),
      otlpTracesEndpoint: otlpTracesEndpoint(read),
      sampler: traceSampler(read),
      inferenceSampleRatio: read.ratio('GATEHOUSE_TRACES_INFERENCE_RATIO', 0.01),
      metricsToken: read.optionalString('GATEHOUSE_METRICS_TOKEN'),
    },
    log: {
      level: read.oneOf('GATEHOUSE_LOG_LEVEL', LOG_LEVELS, nodeEnv === 'test' ? 'warn' : 'info'),
      requests: read.oneOf('GATEHOUSE_LOG_REQUESTS', REQUEST_LOGGING, 'governance'),
    },
  };
}

function consoleSignIn(read: EnvReader, production: boolean): ConsoleConfig {
  const publicUrl = read.optionalUrl('GATEHOUSE_PUBLIC_URL');
  if (publicUrl !== undefined && new URL(publicUrl).origin !== publicUrl.replace(/\/+$/, ''))
    throw new ConfigError(
      'GATEHOUSE_PUBLIC_URL',
      'an origin, without path, query or fragment',
      publicUrl,
    );
  if (production && publicUrl !== undefined && !publicUrl.startsWith('https:'))
    throw new ConfigError('GATEHOUSE_PUBLIC_URL', 'an https URL in production', publicUrl);
  const origin = publicUrl === undefined ? undefined : new URL(publicUrl).origin;
  const issuer = read.optionalUrl('GATEHOUSE_CONSOLE_OIDC_ISSUER');
  const clientId = read.optionalString('GATEHOUSE_CONSOLE_OIDC_CLIENT_ID');
  const clientSecret = read.optionalString('GATEHOUSE_CONSOLE_OIDC_CLIENT_SECRET');
  const sessionTtlSeconds = read.integer(
    'GATEHOUSE_CONSOLE_SESSION_TTL_SECONDS',
    8 * 3600,
    60,
    7 * 86_400,
  );
  if (issuer === undefined) {
    if (clientId !== undefined || clientSecret !== undefined)
      throw new ConfigError(
        'GATEHOUSE_CONSOLE_OIDC_ISSUER',
        'the provider the console client id belongs to',
        undefined,
      );
    return { publicUrl: origin, oidc: undefined, sessionTtlSeconds };
  }
  // The provider's metadata, keys and tokens travel over this connection.
  if (production && !issuer.startsWith('https:'))
    throw new ConfigError('GATEHOUSE_CONSOLE_OIDC_ISSUER', 'an https URL in production', issuer);
  if (clientId === undefined)
    throw new ConfigError(
      'GATEHOUSE_CONSOLE_OIDC_CLIENT_ID',
      "the console's client id at GATEHOUSE_CONSOLE_OIDC_ISSUER",
      undefined,
    );
  if (origin === undefined)
    throw new ConfigError(
      'GATEHOUSE_PUBLIC_URL',
      'the origin browsers reach the service at (the provider redirects back to it)',
      undefined,
    );
  return {
    publicUrl: origin,
    oidc: { issuer, clientId, clientSecret, redirectUrl: `${origin}/console/auth/callback` },
    sessionTtlSeconds,
  };
}

/**
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is the full URL of the traces path; the general
 * OTEL_EXPORTER_OTLP_ENDPOINT is a base to which `/v1/traces` is appended (OTLP spec).
 */
function otlpTracesEndpoint(read: EnvReader): string | undefined {
  const traces = read.optionalUrl('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  if (traces !== undefined) return traces;
  const base = read.optionalUrl('OTEL_EXPORTER_OTLP_ENDPOINT');
  return base === undefined ? undefined : `${base.replace(/\/+$/, '')}/v1/traces`;
}

const SAMPLERS = [
  'gatehouse',
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;

function traceSampler(read: EnvReader): TraceSampler {
  const kind = read.oneOf('OTEL_TRACES_SAMPLER', SAMPLERS, 'gatehouse');
  switch (kind) {
    case 'traceidratio':
    case 'parentbased_traceidratio':
      return { kind, ratio: read.ratio('OTEL_TRACES_SAMPLER_ARG', 1) };
    case 'gatehouse':
    case 'always_on':
    case 'always_off':
    case 'parentbased_always_on':
    case 'parentbased_always_off':
      return { kind };
  }
}

function witnessing(read: EnvReader, cwd: string): WitnessingConfig {
  const witnessesFile = optionalPath(read.optionalString('GATEHOUSE_WITNESSES'), cwd);
  const quorum = read.optionalString('GATEHOUSE_WITNESS_QUORUM');
  if (quorum !== undefined && !/^[1-9][0-9]{0,3}$/.test(quorum))
    throw new ConfigError('GATEHOUSE_WITNESS_QUORUM', 'a whole number of at least 1', quorum);
  if (quorum !== undefined && witnessesFile === undefined)
    throw new ConfigError(
      'GATEHOUSE_WITNESSES',
      'a witnesses file, for GATEHOUSE_WITNESS_QUORUM',
      undefined,
    );
  return {
    witnessesFile,
    quorum: quorum === undefined ? undefined : Number(quorum),
    alertAfterSeconds: read.integer('GATEHOUSE_WITNESS_ALERT_SECONDS', 900, 1, 7 * 86_400),
    retryMaxSeconds: read.integer('GATEHOUSE_WITNESS_RETRY_MAX_SECONDS', 300, 1, 86_400),
  };
}

function optionalPath(path: string | undefined, cwd: string): string | undefined {
  return path === undefined ? undefined : absolute(path, cwd);
}

function absolute(path: string, cwd: string): string {
  return isAbsolute(path) ? path : resolve(cwd, path);
}

class EnvReader {
  constructor(private readonly env: Env) {}

  private raw(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  optionalString(name: string): string | undefined {
    return this.raw(name);
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
      throw new ConfigError(name, `an integer from ${min} to ${max}`, value);
    }
    return Number(value);
  }

  /** A number from 0 to 1. */
  ratio(name: string, fallback: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!/^(\d+(\.\d*)?|\.\d+)$/.test(value) || !(n >= 0 && n <= 1)) {
      throw new ConfigError(name, 'a number from 0 to 1', value);
    }
    return n;
  }

  boolean(name: string, fallback: boolean): boolean {
    const value = this.raw(name)?.toLowerCase();
    if (value === undefined) return fallback;
    if (value === 'true' || value === '1') return true;
    if (value === 'false' || value === '0') return false;
    throw new ConfigError(name, 'true or false', this.env[name]);
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(value)) {
      throw new ConfigError(name, `one of ${allowed.join(', ')}`, value);
    }
    return value as T;
  }

  list<T extends string>(name: string, allowed: readonly T[], fallback: readonly T[]): T[] {
    const value = this.raw(name);
    if (value === undefined) return [...fallback];
    const items = value.split(',').map((s) => s.trim());
    for (const item of items) {
      if (!(allowed as readonly string[]).includes(item)) {
        throw new ConfigError(name, `a comma-separated list of ${allowed.join(', ')}`, value);
      }
    }
    return items as T[];
  }

  optionalUrl(name: string): string | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) {
      throw new ConfigError(name, 'an http(s) URL', value);
    }
    return value;
  }

  /**
   * A comma-separated list of NATS server URLs. Never echoes the value back: a URL may carry a
   * user and password.
   */
  optionalNatsUrls(name: string): string[] | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    const urls = value.split(',').map((s) => s.trim());
    for (const url of urls) {
      if (!URL.canParse(url) || !/^(nats|tls):$/.test(new URL(url).protocol)) {
        throw new ConfigError(
          name,
          'a nats:// or tls:// URL, or several separated by commas',
          undefined,
        );
      }
    }
    return urls;
  }

  /** Never echoes the value back: a database URL may carry a password. */
  optionalPostgresUrl(name: string): string | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    if (!URL.canParse(value) || !/^postgres(ql)?:$/.test(new URL(value).protocol)) {
      throw new ConfigError(name, 'a postgres:// or postgresql:// URL', undefined);
    }
    return value;
  }
}
