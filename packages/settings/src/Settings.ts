/**
 * Every environment variable the apps read, declared once as data: its name, type, default and meaning.
 * Plain data with no Effect import, so the Pulumi program builds the containers' environment from the same
 * names (a misspelt name there is a type error), the README's configuration table is generated from it
 * (`bun scripts/settings-table.ts`), and test/settings/settings.test.ts checks that the source reads
 * exactly these names.
 *
 * `aws` says what AWS mode needs of a setting:
 * - `stack`: no default is right in AWS; the tenant stack must give it (test/infra checks it does).
 * - `default`: the default (or leaving it unset) is right in AWS; the stack may still set it.
 * - `local`: embedded mode, tests and emulators only; the stack never sets it.
 */

export type SettingKind = "string" | "integer" | "boolean" | "url" | "port" | "secret" | "literal" | "list" | "number"

/** The processes that read a setting: the server, the worker, the reference matcher, the dev launcher. */
export type SettingReader = "server" | "worker" | "matcher" | "launcher"

export interface SettingDeclaration {
  readonly kind: SettingKind
  /** The default as the variable's text; absent when unset means "not used" or the value is derived. */
  readonly default?: string
  /** How the README shows a derived default (e.g. `DATA_DIR/blobs`); `default` is shown otherwise. */
  readonly defaultText?: string
  /** The accepted values of a `literal` (or of each item of a `list`). */
  readonly values?: ReadonlyArray<string>
  /** A `literal` whose reader accepts its values in any case (`warn`, `WARN`). */
  readonly anyCase?: boolean
  readonly aws: "stack" | "default" | "local"
  readonly readBy: ReadonlyArray<SettingReader>
  /** One line for the README (Markdown). */
  readonly meaning: string
}

const apps = ["server", "worker", "launcher"] as const
const server = ["server"] as const
const worker = ["worker"] as const
const pipelines = ["server", "worker"] as const
const referenceMatcher = ["matcher", "launcher"] as const

export const settings = {
  PORT: { kind: "port", default: "3000", aws: "stack", readBy: apps, meaning: "HTTP port of the server" },
  DATA_DIR: {
    kind: "string",
    default: ".data",
    aws: "default",
    readBy: apps,
    meaning:
      "where the embedded PostgreSQL, the generated JWT key and local files live (as root, PostgreSQL's data may be kept under `/var/lib/scopeline/data`, linked from here: see Quick start)",
  },
  DATABASE_URL: {
    kind: "secret",
    aws: "local",
    readBy: apps,
    meaning: "use this PostgreSQL instead of the embedded one",
  },
  EMBEDDED_PG_PORT: {
    kind: "port",
    default: "54329",
    aws: "local",
    readBy: apps,
    meaning:
      "port of the embedded PostgreSQL started by `bun run dev` (or by an app run without `DATABASE_URL`); a busy port stops the start with one line naming this variable",
  },
  PGHOST: { kind: "string", aws: "stack", readBy: apps, meaning: "with `PGUSER` and `PGPASSWORD` and no `DATABASE_URL`: the PostgreSQL to use (how Aurora is used)" },
  PGPORT: { kind: "port", default: "5432", aws: "stack", readBy: apps, meaning: "port of `PGHOST`" },
  PGDATABASE: { kind: "string", default: "postgres", aws: "stack", readBy: apps, meaning: "database on `PGHOST`" },
  PGUSER: { kind: "string", aws: "stack", readBy: apps, meaning: "user on `PGHOST` (in AWS from the Aurora-managed secret)" },
  PGPASSWORD: { kind: "secret", aws: "stack", readBy: apps, meaning: "password of `PGUSER` (in AWS from the Aurora-managed secret)" },
  PGSSLMODE: { kind: "string", default: "prefer", aws: "stack", readBy: apps, meaning: "`require` encrypts the connection to `PGHOST`" },
  JWT_SECRET: {
    kind: "secret",
    defaultText: "generated once into `DATA_DIR/jwt-secret`",
    aws: "local",
    readBy: apps,
    meaning: "HS256 signing key for session tokens (≥ 32 characters)",
  },
  AUDIT_HASH_KEY: {
    kind: "secret",
    defaultText: "generated once and kept in the database",
    aws: "default",
    readBy: pipelines,
    meaning: "key of the HMAC-SHA-256 that stands for emails in the audit log (no email is stored in clear)",
  },
  AUDIT_RETENTION_DAYS: {
    kind: "integer",
    default: "400",
    aws: "default",
    readBy: worker,
    meaning: "audit events older than this are deleted by the worker's hourly retention job (the only delete the log allows)",
  },
  SCOPELINE_ENVIRONMENT: {
    kind: "string",
    default: "embedded",
    aws: "stack",
    readBy: pipelines,
    meaning: "the environment named in every audit event's context (the tenant stack sets the tenant's name)",
  },
  INVITATION_TTL_HOURS: {
    kind: "integer",
    default: "72",
    aws: "default",
    readBy: server,
    meaning: "how long an invitation link stays valid (1 to 720 hours)",
  },
  WEBHOOK_TARGETS: {
    kind: "literal",
    default: "public_and_loopback",
    values: ["public", "public_and_loopback"],
    aws: "stack",
    readBy: pipelines,
    meaning: "which addresses webhooks may reach: `public` (AWS: no loopback) or `public_and_loopback`; private, link-local and metadata addresses never ([docs/webhooks.md](docs/webhooks.md))",
  },
  WEBHOOK_TIMEOUT_MS: { kind: "integer", default: "30000", aws: "default", readBy: worker, meaning: "how long one webhook delivery attempt may take" },
  WEBHOOK_RETRY_BASE_MS: {
    kind: "integer",
    default: "1000",
    aws: "default",
    readBy: worker,
    meaning: "the first wait before a failed webhook delivery is retried; each next wait doubles (1, 2, 4, 8, 16 s)",
  },
  WEBHOOK_MAX_RETRIES: { kind: "integer", default: "5", aws: "default", readBy: worker, meaning: "retries of a failed webhook delivery before it is dead (replayable on the ops page)" },
  WEBHOOK_RATE_PER_MINUTE: { kind: "integer", default: "10", aws: "default", readBy: worker, meaning: "delivery attempts per webhook per minute; more wait for the next minute" },
  JWT_TTL_SECONDS: { kind: "integer", default: "3600", aws: "default", readBy: apps, meaning: "token lifetime (60 to 86400)" },
  DEMO_PASSWORD: {
    kind: "secret",
    default: "scopeline-demo",
    aws: "local",
    readBy: apps,
    meaning: "password of the demo accounts created by `bun run dev`",
  },
  LOG_LEVEL: {
    kind: "literal",
    default: "Info",
    // As Effect's Config.logLevel reads them (any case): its level labels, with Off for none.
    values: ["All", "Trace", "Debug", "Info", "Warn", "Error", "Fatal", "Off"],
    anyCase: true,
    aws: "default",
    readBy: [...apps, "matcher"],
    meaning: "`Trace`, `Debug`, `Info`, `Warn`, `Error`, `Fatal` or `Off` (any case); logs are JSON lines",
  },
  PUBLIC_URL: {
    kind: "url",
    defaultText: "`http://localhost:$PORT`",
    aws: "stack",
    readBy: apps,
    meaning: "the address browsers use",
  },
  HELP_URL: { kind: "string", default: "https://docs.scopeline.dev/help", aws: "default", readBy: apps, meaning: "shown by `GET /v1/system/essentials`" },
  SUPPORT_EMAIL: { kind: "string", default: "support@scopeline.dev", aws: "default", readBy: apps, meaning: "shown by `GET /v1/system/essentials`" },
  ANNOUNCEMENT: {
    kind: "string",
    default: "Welcome to Scopeline. Upload a CSV of activities to calculate their emissions.",
    aws: "default",
    readBy: apps,
    meaning: "the home page announcement",
  },
  TRUSTED_PROXY: {
    kind: "boolean",
    default: "false",
    aws: "stack",
    readBy: server,
    meaning:
      "believe the client address in `X-Forwarded-For` (login throttling); only behind a load balancer that sets it, as the AWS stack's does",
  },
  LOAD_CATALOGUE: {
    kind: "boolean",
    default: "true",
    aws: "default",
    readBy: server,
    meaning: "upsert the factor catalogue from `data/factors` when the server starts",
  },
  CATALOGUE_FILES: {
    kind: "string",
    aws: "default",
    readBy: server,
    meaning:
      "comma-separated paths of further factor files (another year's DESNZ flat file) loaded after `data/factors` at start, each beside the sets already there, never over one ([docs/recalculation.md](docs/recalculation.md))",
  },
  MAX_UPLOAD_BYTES: {
    kind: "integer",
    default: "209715200",
    aws: "default",
    readBy: pipelines,
    meaning: "largest accepted upload (200 MiB); enforced by the store while the file streams in",
  },
  UPLOAD_URL_TTL_SECONDS: { kind: "integer", default: "900", aws: "default", readBy: pipelines, meaning: "how long a signed upload URL stays valid" },
  BLOB_STORE: {
    kind: "literal",
    default: "local",
    values: ["local", "s3"],
    aws: "stack",
    readBy: pipelines,
    meaning: "`s3` selects S3 for uploaded files ([docs/aws-mode.md](docs/aws-mode.md))",
  },
  BLOB_DIR: { kind: "string", defaultText: "`DATA_DIR/blobs`", aws: "local", readBy: pipelines, meaning: "where the local blob store keeps files" },
  BLOB_SIGNING_SECRET: {
    kind: "secret",
    defaultText: "generated once into `DATA_DIR`",
    aws: "local",
    readBy: pipelines,
    meaning: "HMAC key of the local store's signed upload URLs",
  },
  S3_BUCKET: { kind: "string", aws: "stack", readBy: pipelines, meaning: "the tenant's uploads bucket (`BLOB_STORE=s3`)" },
  S3_ENDPOINT: { kind: "url", aws: "local", readBy: pipelines, meaning: "an S3-compatible endpoint (fauxqs, MinIO); implies path-style addressing" },
  S3_KMS_KEY_ID: { kind: "string", aws: "default", readBy: pipelines, meaning: "when set, uploads must be encrypted with this KMS key" },
  AWS_REGION: { kind: "string", default: "us-east-1", aws: "stack", readBy: pipelines, meaning: "region of S3 and SQS" },
  AWS_ACCESS_KEY_ID: {
    kind: "string",
    aws: "local",
    readBy: pipelines,
    meaning: "static credentials for S3 and SQS (with `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`); unset, the SDK's chain applies (the ECS task role)",
  },
  AWS_SECRET_ACCESS_KEY: { kind: "secret", aws: "local", readBy: pipelines, meaning: "see `AWS_ACCESS_KEY_ID`" },
  AWS_SESSION_TOKEN: { kind: "secret", aws: "local", readBy: pipelines, meaning: "see `AWS_ACCESS_KEY_ID`" },
  QUEUE: {
    kind: "literal",
    default: "postgres",
    values: ["postgres", "sqs"],
    aws: "stack",
    readBy: pipelines,
    meaning: "`sqs` selects SQS for the job queues ([docs/aws-mode.md](docs/aws-mode.md))",
  },
  QUEUE_MAX_RECEIVES: {
    kind: "integer",
    default: "5",
    aws: "stack",
    readBy: pipelines,
    meaning:
      "deliveries of a failing message before it moves to the dead letters; the last one marks the work failed. With SQS it must equal the queues' redrive `maxReceiveCount` (the stack passes it)",
  },
  SQS_ENDPOINT: { kind: "url", aws: "local", readBy: pipelines, meaning: "an SQS-compatible endpoint (fauxqs, ElasticMQ)" },
  SQS_PARSE_QUEUE_URL: { kind: "string", aws: "stack", readBy: pipelines, meaning: "the parse queue (`QUEUE=sqs`)" },
  SQS_PARSE_DLQ_URL: { kind: "string", aws: "stack", readBy: pipelines, meaning: "its dead-letter queue (listing and replay)" },
  SQS_MATCH_QUEUE_URL: { kind: "string", aws: "stack", readBy: pipelines, meaning: "the match queue (`QUEUE=sqs`)" },
  SQS_MATCH_DLQ_URL: { kind: "string", aws: "stack", readBy: pipelines, meaning: "its dead-letter queue (listing and replay)" },
  SQS_EXPORT_QUEUE_URL: { kind: "string", aws: "stack", readBy: pipelines, meaning: "the export queue (`QUEUE=sqs`); unset, exports are refused with 503" },
  SQS_EXPORT_DLQ_URL: { kind: "string", aws: "stack", readBy: pipelines, meaning: "its dead-letter queue (listing and replay)" },
  WORKER_QUEUES: {
    kind: "list",
    default: "parse,match,export",
    values: ["parse", "match", "export"],
    aws: "stack",
    readBy: worker,
    meaning:
      "which queues a worker consumes; in AWS parse workers scale out and ONE match worker talks to the matcher, so its concurrency cap and request coalescing hold globally",
  },
  PARSE_CONCURRENCY: { kind: "integer", default: "2", aws: "default", readBy: worker, meaning: "parse jobs per worker" },
  PARSE_VISIBILITY_TIMEOUT_SECONDS: {
    kind: "integer",
    default: "60",
    aws: "default",
    readBy: worker,
    meaning: "how soon a crashed worker's parse job is redelivered",
  },
  MATCH_CONCURRENCY: { kind: "integer", default: "4", aws: "default", readBy: worker, meaning: "match jobs per worker" },
  AUTH: {
    kind: "literal",
    default: "local",
    values: ["local", "cognito"],
    aws: "stack",
    readBy: pipelines,
    meaning: "`cognito` signs users in with the tenant's Cognito user pool ([docs/aws-mode.md](docs/aws-mode.md))",
  },
  COGNITO_USER_POOL_ID: { kind: "string", aws: "stack", readBy: pipelines, meaning: "the user pool (`AUTH=cognito`)" },
  COGNITO_CLIENT_ID: { kind: "string", aws: "stack", readBy: pipelines, meaning: "its app client" },
  COGNITO_CLIENT_SECRET: { kind: "secret", aws: "default", readBy: pipelines, meaning: "the app client's secret, when it has one" },
  COGNITO_REGION: { kind: "string", defaultText: "the pool id's prefix", aws: "default", readBy: pipelines, meaning: "region of the user pool" },
  COGNITO_ENDPOINT: { kind: "url", aws: "local", readBy: pipelines, meaning: "override of Cognito's endpoint (tests, emulators)" },
  COGNITO_JWKS_URL: { kind: "url", aws: "local", readBy: pipelines, meaning: "override of the pool's JWKS address (tests, emulators)" },
  COGNITO_ISSUER: { kind: "string", aws: "local", readBy: pipelines, meaning: "override of the tokens' expected issuer (tests, emulators)" },
  OTEL_EXPORTER_OTLP_ENDPOINT: {
    kind: "url",
    aws: "default",
    readBy: pipelines,
    meaning:
      "an OpenTelemetry collector (OTLP/HTTP, e.g. `http://collector:4318`): traces go to its `/v1/traces`; unset, no trace leaves the process ([docs/operations.md](docs/operations.md#tracing))",
  },
  OTEL_SERVICE_NAME: {
    kind: "string",
    defaultText: "`scopeline-server`, `scopeline-worker`",
    aws: "default",
    readBy: pipelines,
    meaning: "the service name the traces carry",
  },
  MATCHER_URL: {
    kind: "url",
    default: "http://127.0.0.1:3100",
    aws: "stack",
    readBy: ["server", "worker", "launcher"],
    meaning: "the AI matcher ([docs/matching.md](docs/matching.md))",
  },
  MATCHER_API_KEY: { kind: "secret", aws: "default", readBy: pipelines, meaning: "bearer key sent to the matcher, when it needs one" },
  MATCHER_CONCURRENCY: {
    kind: "integer",
    default: "10",
    aws: "default",
    readBy: ["server", "worker", "matcher"],
    meaning: "matcher calls in flight from one process (and the reference matcher's own cap)",
  },
  MATCHER_BATCH_SIZE: {
    kind: "integer",
    default: "1",
    aws: "default",
    readBy: pipelines,
    meaning: "distinct match keys per matcher request (1–1000; 1 suits a matcher whose latency grows with the items)",
  },
  REVIEW_BELOW: {
    kind: "number",
    default: "0.8",
    aws: "default",
    readBy: pipelines,
    meaning:
      "confidence gate (0 to 1): an AI match below it is calculated but flagged `needs_review` for the review queue ([docs/review.md](docs/review.md))",
  },
  MATCHER_TIMEOUT_MS: { kind: "integer", default: "10000", aws: "default", readBy: pipelines, meaning: "how long one matcher call may take" },
  MATCHER_MAX_RETRIES: { kind: "integer", default: "5", aws: "default", readBy: pipelines, meaning: "retries of a failed matcher call within one delivery" },
  MATCHER_RETRY_BASE_MS: { kind: "integer", default: "250", aws: "default", readBy: pipelines, meaning: "first retry delay (exponential, jittered)" },
  MATCHER_RETRY_MAX_MS: {
    kind: "integer",
    default: "30000",
    aws: "default",
    readBy: pipelines,
    meaning: "longest wait between two attempts of a matcher call, whatever its backoff or Retry-After asks",
  },
  MATCHER_BREAKER_THRESHOLD: {
    kind: "integer",
    default: "5",
    aws: "default",
    readBy: pipelines,
    meaning: "consecutive matcher failures that open the circuit breaker",
  },
  MATCHER_BREAKER_COOLDOWN_MS: {
    kind: "integer",
    default: "30000",
    aws: "default",
    readBy: pipelines,
    meaning: "how long the open breaker waits before it tries the matcher again",
  },
  MATCHER_PORT: { kind: "port", default: "3100", aws: "local", readBy: referenceMatcher, meaning: "port of the reference matcher started by `bun run dev`" },
  MATCHER_LATENCY_MS: { kind: "integer", default: "0", aws: "local", readBy: referenceMatcher, meaning: "reference matcher: added latency per answer" },
  MATCHER_FAULT_RATE: { kind: "number", default: "0", aws: "local", readBy: referenceMatcher, meaning: "reference matcher: share of calls answered 500 (0 to 1)" },
  MATCHER_RATE_LIMIT_RATE: {
    kind: "number",
    default: "0",
    aws: "local",
    readBy: referenceMatcher,
    meaning: "reference matcher: share of calls answered 429 (0 to 1)",
  },
  MATCHER_TIMEOUT_RATE: {
    kind: "number",
    default: "0",
    aws: "local",
    readBy: referenceMatcher,
    meaning: "reference matcher: share of calls never answered (0 to 1)",
  },
} as const satisfies Record<string, SettingDeclaration>

export type SettingName = keyof typeof settings

export const settingNames = Object.keys(settings) as ReadonlyArray<SettingName>

/** The declaration of one setting, widened for code that walks them all. */
export const declaration = (name: SettingName): SettingDeclaration => settings[name]

/** The README's configuration table, one row per setting in declaration order. */
export const settingsTable = (): string => {
  const cell = (s: string) => s.replaceAll("|", "\\|")
  const shown = (d: SettingDeclaration) => d.defaultText ?? (d.default === undefined ? "—" : `\`${d.default}\``)
  const inAws = { stack: "set by the stack", default: "default", local: "unset" } as const
  return [
    "| variable | default | in AWS | meaning |",
    "| --- | --- | --- | --- |",
    ...settingNames.map((name) => {
      const d = declaration(name)
      return `| \`${name}\` | ${cell(shown(d))} | ${inAws[d.aws]} | ${cell(d.meaning)} |`
    }),
  ].join("\n")
}
