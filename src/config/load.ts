import path from 'node:path';
import { envSchema, secretVariables, urlVariablesWithCredentials, type EnvironmentName, type RawEnv } from './schema.ts';

export interface Config {
  env: EnvironmentName;
  dataDir: string;
  database: { kind: 'pglite'; dataDir: string } | { kind: 'postgres'; url: string; migrationUrl?: string };
  http: {
    host: string;
    port: number;
    redirectPort: number | null;
    publicUrl: string;
    bodyLimitBytes: number;
    /** Whole-request deadline and idle-connection deadline: slow clients cannot hold sockets open. */
    requestTimeoutMs: number;
    connectionTimeoutMs: number;
  };
  tls:
    | { mode: 'self-signed'; certFile: string; keyFile: string }
    | { mode: 'files'; certFile: string; keyFile: string }
    | { mode: 'proxy'; trustedProxies: string[] };
  masterKey: { source: 'env'; value: string } | { source: 'file'; file: string } | { source: 'development'; file: string };
  /** The master key being rotated out, accepted for unwrapping only (see `savoir keys rotate`). */
  previousMasterKeyFile: string | undefined;
  demoData: boolean;
  mail: {
    transport: 'file' | 'smtp' | 'brevo';
    from: string;
    fromName: string;
    smtpUrl?: string;
    brevoApiKey?: string;
    brevoBaseUrl: string;
    outboxDir: string;
  };
  logLevel: RawEnv['SAVOIR_LOG_LEVEL'];
  jobs: { enabled: boolean; concurrency: number; leaseMs: number };
  /** Sessions end after this much inactivity, and after this long whatever happens. */
  sessions: { idleTimeoutMs: number; absoluteTimeoutMs: number };
  /** Folder of a local ONNX embedding model, when the operator provides one. */
  localEmbeddingModelDir: string | undefined;
  /** Knowledge ingestion: largest file accepted (upload, push, crawl). */
  knowledge: { maxFileBytes: number };
  /** Private ranges organisations' provider endpoints may reach (operator opt-in); none by default. */
  providers: { privateEndpointCidrs: string[] };
  /** The validated variables, for `savoir doctor` (which masks the secrets). */
  raw: RawEnv;
}

export class ConfigError extends Error {
  constructor(readonly problems: { variable: string; message: string }[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p.variable}: ${p.message}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Reads the configuration from the environment. The only function in Savoir that reads `process.env`. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(pickSavoirVariables(source));
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const variable = String(issue.path[0] ?? 'configuration');
        const given = source[variable];
        const mayHoldSecret = secretVariables.has(variable) || urlVariablesWithCredentials.has(variable);
        const shown = given === undefined || mayHoldSecret ? '' : ` (got "${given}")`;
        return { variable, message: `${issue.message}${shown}` };
      }),
    );
  }
  return toConfig(parsed.data);
}

function pickSavoirVariables(source: NodeJS.ProcessEnv): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const [name, value] of Object.entries(source)) {
    // An empty variable means "not set", as in most shells' `VAR= command`.
    if ((name.startsWith('SAVOIR_') || name === 'DATABASE_URL') && value !== undefined && value !== '') picked[name] = value;
  }
  return picked;
}

function toConfig(raw: RawEnv): Config {
  const dataDir = path.resolve(raw.SAVOIR_DATA_DIR);
  const port = raw.SAVOIR_PORT;
  const tls: Config['tls'] = raw.SAVOIR_TLS_TERMINATED_BY_PROXY
    ? // Only these hops may set the client address; by default the proxy runs on this machine.
      { mode: 'proxy', trustedProxies: raw.SAVOIR_TRUSTED_PROXIES ?? ['127.0.0.1', '::1'] }
    : raw.SAVOIR_TLS_CERT_FILE && raw.SAVOIR_TLS_KEY_FILE
      ? { mode: 'files', certFile: path.resolve(raw.SAVOIR_TLS_CERT_FILE), keyFile: path.resolve(raw.SAVOIR_TLS_KEY_FILE) }
      : { mode: 'self-signed', certFile: path.join(dataDir, 'tls', 'self-signed.crt'), keyFile: path.join(dataDir, 'tls', 'self-signed.key') };
  const masterKey: Config['masterKey'] = raw.SAVOIR_MASTER_KEY
    ? { source: 'env', value: raw.SAVOIR_MASTER_KEY }
    : raw.SAVOIR_MASTER_KEY_FILE
      ? { source: 'file', file: path.resolve(raw.SAVOIR_MASTER_KEY_FILE) }
      : { source: 'development', file: path.join(dataDir, 'keys', 'development-master.key') };
  return {
    env: raw.SAVOIR_ENV,
    dataDir,
    database: raw.DATABASE_URL
      ? { kind: 'postgres', url: raw.DATABASE_URL, ...(raw.SAVOIR_MIGRATION_DATABASE_URL ? { migrationUrl: raw.SAVOIR_MIGRATION_DATABASE_URL } : {}) }
      : { kind: 'pglite', dataDir: path.join(dataDir, 'pglite') },
    http: {
      host: raw.SAVOIR_HOST,
      port,
      redirectPort: raw.SAVOIR_REDIRECT_PORT === 'off' || tls.mode === 'proxy' ? null : raw.SAVOIR_REDIRECT_PORT,
      publicUrl: raw.SAVOIR_PUBLIC_URL ?? `https://localhost${port === 443 ? '' : `:${port}`}`,
      bodyLimitBytes: raw.SAVOIR_BODY_LIMIT_BYTES,
      requestTimeoutMs: raw.SAVOIR_REQUEST_TIMEOUT_MS,
      connectionTimeoutMs: raw.SAVOIR_CONNECTION_TIMEOUT_MS,
    },
    tls,
    masterKey,
    previousMasterKeyFile: raw.SAVOIR_MASTER_KEY_PREVIOUS_FILE ? path.resolve(raw.SAVOIR_MASTER_KEY_PREVIOUS_FILE) : undefined,
    // Demo data is a development convenience: on unless stated otherwise, in development only.
    demoData: raw.SAVOIR_DEMO_DATA ?? raw.SAVOIR_ENV === 'development',
    mail: {
      transport: raw.SAVOIR_MAIL_TRANSPORT,
      from: raw.SAVOIR_MAIL_FROM,
      fromName: raw.SAVOIR_MAIL_FROM_NAME,
      smtpUrl: raw.SAVOIR_SMTP_URL,
      brevoApiKey: raw.SAVOIR_BREVO_API_KEY,
      brevoBaseUrl: raw.SAVOIR_BREVO_BASE_URL,
      outboxDir: path.join(dataDir, 'mail'),
    },
    logLevel: raw.SAVOIR_LOG_LEVEL,
    jobs: { enabled: raw.SAVOIR_JOBS_ENABLED, concurrency: raw.SAVOIR_JOBS_CONCURRENCY, leaseMs: raw.SAVOIR_JOBS_LEASE_MS },
    sessions: {
      idleTimeoutMs: raw.SAVOIR_SESSION_IDLE_TIMEOUT_MINUTES * 60_000,
      absoluteTimeoutMs: raw.SAVOIR_SESSION_ABSOLUTE_TIMEOUT_HOURS * 3_600_000,
    },
    localEmbeddingModelDir: raw.SAVOIR_LOCAL_EMBEDDING_MODEL_DIR ? path.resolve(raw.SAVOIR_LOCAL_EMBEDDING_MODEL_DIR) : undefined,
    knowledge: { maxFileBytes: raw.SAVOIR_UPLOAD_MAX_BYTES },
    providers: { privateEndpointCidrs: raw.SAVOIR_PROVIDER_PRIVATE_ENDPOINTS ?? [] },
    raw,
  };
}
