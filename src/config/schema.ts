import { isIP } from 'node:net';
import { z } from 'zod';

function isCidr(entry: string): boolean {
  const [network, prefix, extra] = entry.split('/');
  const family = isIP(network ?? '');
  if (family === 0 || extra !== undefined) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
}

/** Environment variables Savoir reads. This file and `load.ts` are the only places that know their names. */
const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'expected true or false' })
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

const port = z.coerce
  .number({ error: 'expected a port number' })
  .int('expected a whole number')
  .min(1, 'expected a port between 1 and 65535')
  .max(65535, 'expected a port between 1 and 65535');

const portOrOff = z.union([z.literal('off'), port], { error: 'expected a port number or "off"' });

const positiveInt = (max: number) =>
  z.coerce.number({ error: 'expected a number' }).int('expected a whole number').min(1, 'expected at least 1').max(max, `expected at most ${max}`);

export const environmentNames = ['development', 'preprod', 'production'] as const;
export type EnvironmentName = (typeof environmentNames)[number];

export const envSchema = z
  .object({
    SAVOIR_ENV: z.enum(environmentNames, { error: `expected one of ${environmentNames.join(', ')}` }).default('development'),
    SAVOIR_DATA_DIR: z.string().min(1).default('./data'),
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'expected a postgres:// or postgresql:// URL')
      .optional(),
    SAVOIR_MIGRATION_DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'expected a postgres:// or postgresql:// URL')
      .optional(),
    SAVOIR_HOST: z.string().min(1).default('127.0.0.1'),
    SAVOIR_PORT: port.default(8443),
    SAVOIR_REDIRECT_PORT: portOrOff.default(8080),
    SAVOIR_PUBLIC_URL: z.url({ protocol: /^https$/, error: 'expected an https:// URL' }).optional(),
    SAVOIR_TLS_CERT_FILE: z.string().min(1).optional(),
    SAVOIR_TLS_KEY_FILE: z.string().min(1).optional(),
    SAVOIR_TLS_TERMINATED_BY_PROXY: booleanFlag.default(false),
    // Addresses (IPs or CIDR ranges, comma-separated) whose X-Forwarded-* headers are believed.
    SAVOIR_TRUSTED_PROXIES: z
      .string()
      .transform((value) => value.split(',').map((entry) => entry.trim()).filter(Boolean))
      .pipe(z.array(z.string().regex(/^[0-9a-fA-F:.]+(\/\d{1,3})?$/, 'expected IP addresses or CIDR ranges, comma-separated')))
      .optional(),
    SAVOIR_MASTER_KEY: z.string().min(1).optional(),
    SAVOIR_MASTER_KEY_FILE: z.string().min(1).optional(),
    /** During a master key rotation: the key being replaced, still accepted to unwrap data keys. */
    SAVOIR_MASTER_KEY_PREVIOUS_FILE: z.string().min(1).optional(),
    SAVOIR_DEMO_DATA: booleanFlag.optional(),
    SAVOIR_MAIL_TRANSPORT: z.enum(['file', 'smtp', 'brevo'], { error: 'expected file, smtp or brevo' }).default('file'),
    SAVOIR_MAIL_FROM: z.email({ error: 'expected an e-mail address' }).default('savoir@localhost'),
    SAVOIR_SMTP_URL: z.string().regex(/^smtps?:\/\//, 'expected an smtp:// or smtps:// URL').optional(),
    SAVOIR_BREVO_API_KEY: z.string().min(1).optional(),
    SAVOIR_BREVO_BASE_URL: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).default('https://api.brevo.com'),
    SAVOIR_MAIL_FROM_NAME: z.string().min(1).max(100).default('Savoir'),
    SAVOIR_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    SAVOIR_BODY_LIMIT_BYTES: positiveInt(100 * 1024 * 1024).default(1024 * 1024),
    SAVOIR_JOBS_ENABLED: booleanFlag.default(true),
    SAVOIR_JOBS_CONCURRENCY: positiveInt(64).default(2),
    // The heartbeat renews at a third of the lease: below a few seconds, a busy process would lose leases.
    SAVOIR_JOBS_LEASE_MS: positiveInt(3_600_000).pipe(z.number().min(5_000, 'expected at least 5000 (ms)')).default(60_000),
    SAVOIR_REQUEST_TIMEOUT_MS: positiveInt(600_000).default(30_000),
    SAVOIR_CONNECTION_TIMEOUT_MS: positiveInt(600_000).default(10_000),
    SAVOIR_SESSION_IDLE_TIMEOUT_MINUTES: positiveInt(24 * 60).default(30),
    SAVOIR_SESSION_ABSOLUTE_TIMEOUT_HOURS: positiveInt(30 * 24).default(12),
    /** A folder holding an ONNX embedding model the operator provides (none is downloaded). */
    SAVOIR_LOCAL_EMBEDDING_MODEL_DIR: z.string().min(1).optional(),
    SAVOIR_UPLOAD_MAX_BYTES: positiveInt(1024 * 1024 * 1024).default(25 * 1024 * 1024),
    /**
     * Private address ranges (CIDR, comma-separated, e.g. 10.0.0.0/8) that organisations' provider
     * endpoints may reach, such as a self-hosted vLLM. By default provider calls reach public addresses only.
     */
    SAVOIR_PROVIDER_PRIVATE_ENDPOINTS: z
      .string()
      .transform((value) => value.split(',').map((entry) => entry.trim()).filter(Boolean))
      .pipe(z.array(z.string().refine((entry) => isCidr(entry), 'expected IP addresses or CIDR ranges, comma-separated, e.g. 10.0.0.0/8')))
      .optional(),
  })
  .superRefine((env, ctx) => {
    if (Boolean(env.SAVOIR_TLS_CERT_FILE) !== Boolean(env.SAVOIR_TLS_KEY_FILE)) {
      ctx.addIssue({
        code: 'custom',
        path: [env.SAVOIR_TLS_CERT_FILE ? 'SAVOIR_TLS_KEY_FILE' : 'SAVOIR_TLS_CERT_FILE'],
        message: 'SAVOIR_TLS_CERT_FILE and SAVOIR_TLS_KEY_FILE go together: set both or neither',
      });
    }
    if (env.SAVOIR_MASTER_KEY && env.SAVOIR_MASTER_KEY_FILE) {
      ctx.addIssue({ code: 'custom', path: ['SAVOIR_MASTER_KEY_FILE'], message: 'set SAVOIR_MASTER_KEY or SAVOIR_MASTER_KEY_FILE, not both' });
    }
    if (env.SAVOIR_MAIL_TRANSPORT === 'smtp' && !env.SAVOIR_SMTP_URL) {
      ctx.addIssue({ code: 'custom', path: ['SAVOIR_SMTP_URL'], message: 'required when SAVOIR_MAIL_TRANSPORT is smtp' });
    }
    if (env.SAVOIR_MAIL_TRANSPORT === 'brevo' && !env.SAVOIR_BREVO_API_KEY) {
      ctx.addIssue({ code: 'custom', path: ['SAVOIR_BREVO_API_KEY'], message: 'required when SAVOIR_MAIL_TRANSPORT is brevo' });
    }
  });

export type RawEnv = z.output<typeof envSchema>;

/** Variables whose values are secrets: `doctor` and logs show only a masked hint. */
export const secretVariables = new Set(['SAVOIR_MASTER_KEY', 'SAVOIR_BREVO_API_KEY']);
/** Variables that are URLs which may carry a password. */
export const urlVariablesWithCredentials = new Set(['DATABASE_URL', 'SAVOIR_MIGRATION_DATABASE_URL', 'SAVOIR_SMTP_URL']);
