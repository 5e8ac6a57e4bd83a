import { randomUUID } from 'node:crypto';
import type { SecureContextOptions } from 'node:tls';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import cookie from '@fastify/cookie';
import helmet from '@fastify/helmet';
import swagger from '@fastify/swagger';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Config } from '../config/load.ts';
import { KeyRing } from '../crypto/key-ring.ts';
import { loadMasterKeys } from '../crypto/master-key.ts';
import type { Database } from '../db/client.ts';
import { defaultAuthenticators, registerIdentityRoutes } from '../auth/identity.routes.ts';
import { registerAuditRoutes } from '../audit/audit.routes.ts';
import type { AuditWriter } from '../providers/audit-writer.ts';
import { registerCatalogueRoutes } from '../providers/catalogue.routes.ts';
import { seedCatalogue } from '../providers/llm/catalogue.repo.ts';
import type { LlmClientOptions } from '../providers/llm/llm-client.ts';
import { registerPolicyRoutes } from '../providers/policy.routes.ts';
import { registerProviderConfigRoutes } from '../providers/provider-configs.routes.ts';
import { createProvidersDeps, type ProvidersDeps } from '../providers/providers-deps.ts';
import { organizationEmbeddingResolver } from '../providers/embeddings/organization-embeddings.ts';
import { withUnscoped } from '../db/tenancy.ts';
import { registerKnowledgeRoutes } from '../knowledge/knowledge.module.ts';
import type { EmbeddingResolver } from '../knowledge/knowledge-deps.ts';
import { registerJobRoutes } from '../ops/jobs/jobs.routes.ts';
import { installErrorHandling } from './error-handler.ts';
import { installRouteAccess, type Authenticator } from './route-access.ts';
import { registerHealthRoutes } from './routes/health.routes.ts';
import { appliedMigrationCount, expectedMigrationCount } from '../db/migrate.ts';

export interface AppDependencies {
  config: Config;
  database: Database;
  logger: Logger;
  /** TLS material; absent when a trusted proxy terminates TLS (and in `inject` tests). */
  tls?: SecureContextOptions & { key: string | Buffer; cert: string | Buffer };
  /** Who may call: by default the session cookie and API keys; tests may pass their own. */
  authenticators?: Authenticator[];
  /** Seals and opens secrets; opened from the configured master key when not given. */
  keyRing?: KeyRing;
  /** Writes audit events in the caller's transaction (the audit room's recordAuditEvent after the merge). */
  audit?: AuditWriter;
  /** Options of the LLM client layer (timeouts, retries); tests shorten them. */
  llm?: LlmClientOptions;
  /** Finds an organisation's embedding provider by model key (the providers room); none = lexical retrieval only. */
  resolveEmbeddingProvider?: EmbeddingResolver;
  /** The providers room, when the server shares one instance with its jobs; built here otherwise. */
  providers?: ProvidersDeps;
}

/** TLS 1.2 and 1.3 only, AEAD ciphers with forward secrecy (ANSSI / Mozilla "intermediate"). */
export const TLS_MIN_VERSION = 'TLSv1.2';
export const TLS_CIPHERS = [
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'TLS_AES_128_GCM_SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
].join(':');

const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

export async function buildApp(deps: AppDependencies): Promise<FastifyInstance> {
  const { config, database, logger } = deps;
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: config.http.bodyLimitBytes,
    requestTimeout: config.http.requestTimeoutMs,
    connectionTimeout: config.http.connectionTimeoutMs,
    // Never "trust every hop": a client could then choose the address written to audit events.
    trustProxy: config.tls.mode === 'proxy' ? config.tls.trustedProxies : false,
    // Keep a caller's request id when it is well-formed, so a trace crosses systems; else make one.
    genReqId: (request) => {
      const incoming = request.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID_PATTERN.test(incoming) ? incoming : randomUUID();
    },
    ...(deps.tls ? { https: { ...deps.tls, minVersion: TLS_MIN_VERSION, ciphers: TLS_CIPHERS, honorCipherOrder: true } } : {}),
    // One instance type whatever the transport: route modules add the zod type provider themselves.
  }) as unknown as FastifyInstance;

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  installErrorHandling(app);

  // Before the access hook, so that refusals carry the security headers too.
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: true,
      directives: { 'default-src': ["'self'"], 'frame-ancestors': ["'none'"], 'object-src': ["'none'"], 'base-uri': ["'self'"] },
    },
    // HSTS is sent even behind a proxy: the browser saw HTTPS either way.
    strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: true },
    referrerPolicy: { policy: 'no-referrer' },
    xContentTypeOptions: true,
    crossOriginEmbedderPolicy: false,
  });
  await app.register(cookie);
  installRouteAccess(app, deps.authenticators ?? defaultAuthenticators(deps));
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Savoir API', version: '1', description: 'Sovereign platform for generative-AI assistants. Errors are application/problem+json (RFC 9457).' },
      servers: [{ url: config.http.publicUrl }],
    },
    transform: jsonSchemaTransform,
  });

  registerHealthRoutes(app, database, { applied: await appliedMigrationCount(database), expected: expectedMigrationCount() });
  registerJobRoutes(app, database.db);
  // One key ring for every sealed secret (provider credentials, TOTP secrets).
  const keyRing = deps.keyRing ?? KeyRing.deferred(database.db, loadMasterKeys(config));
  registerIdentityRoutes(app, { ...deps, keyRing });
  registerAuditRoutes(app, database.db);
  const providers: ProvidersDeps =
    deps.providers ?? createProvidersDeps({ config, db: database.db, logger, keyRing, audit: deps.audit, llm: deps.llm });
  // The catalogue's seed entries, added when missing (operators' edits are kept).
  app.addHook('onReady', async () => {
    try {
      await withUnscoped(database.db, (tx) => seedCatalogue(tx));
      await providers.keyRing.ready();
    } catch (error) {
      // A database not migrated yet (readiness reports it): the seed runs on the next start.
      logger.warn({ err: error }, 'the provider catalogue or the key ring could not be prepared');
    }
  });
  registerCatalogueRoutes(app, providers);
  registerPolicyRoutes(app, providers);
  registerProviderConfigRoutes(app, providers);
  registerKnowledgeRoutes(app, {
    db: database.db,
    maxFileBytes: config.knowledge.maxFileBytes,
    resolveEmbeddingProvider: deps.resolveEmbeddingProvider ?? organizationEmbeddingResolver(providers),
  });

  app.withTypeProvider<ZodTypeProvider>().get(
    '/api/openapi.json',
    { config: { public: true }, schema: { hide: true, response: { 200: z.record(z.string(), z.unknown()) } } },
    async () => app.swagger() as unknown as Record<string, unknown>,
  );
  return app;
}
