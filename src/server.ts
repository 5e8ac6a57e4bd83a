import type http from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { assertProductionReady } from './config/guardrails.ts';
import type { Config } from './config/load.ts';
import { KeyRing } from './crypto/key-ring.ts';
import { loadMasterKeys } from './crypto/master-key.ts';
import { RESEAL_JOB_KIND, resealUnderActiveKeyUnscoped } from './crypto/reseal.ts';
import { openDatabase, type Database } from './db/client.ts';
import { runMigrations } from './db/migrate.ts';
import { buildApp } from './http/app.ts';
import { organizationEmbeddingResolver } from './providers/embeddings/organization-embeddings.ts';
import { createProvidersDeps } from './providers/providers-deps.ts';
import { createRedirectServer } from './http/redirect.ts';
import { loadTlsMaterial, type TlsMaterial } from './http/tls.ts';
import { createSetupLinkIfNoOperatorUnscoped } from './auth/platform/bootstrap.service.ts';
import { JobRunner } from './ops/jobs/runner.ts';
import { createEmailTransport } from './providers/email/create-transport.ts';
import { registerEmailJobs } from './providers/email/deliver.ts';
import { registerKnowledgeJobs } from './knowledge/knowledge.module.ts';

export interface RunningSavoir {
  app: FastifyInstance;
  database: Database;
  runner: JobRunner | undefined;
  tls: TlsMaterial | undefined;
  /** The URL the server answers on (its real port, useful when port 0 was asked). */
  url: string;
  redirectUrl: string | undefined;
  /** Printed once at start while no platform operator exists: creates the first one (30 minutes, single use). */
  /** The one-time setup link, when no platform operator exists yet. */
  setup: { link: string; expiresAt: Date } | undefined;
  close(): Promise<void>;
}

/** Starts one Savoir process: guardrails, database and migrations, HTTPS, the redirect, the job runner. */
export async function startSavoir(config: Config, logger: Logger): Promise<RunningSavoir> {
  assertProductionReady(config);
  const masterKeys = loadMasterKeys(config);
  const database = await openDatabase(config.database);
  let app: FastifyInstance | undefined;
  let redirect: http.Server | undefined;
  let runner: JobRunner | undefined;
  try {
    const { applied } = await runMigrations(database);
    if (applied > 0) logger.info({ applied }, 'database migrations applied');
    const keyRing = await KeyRing.open(database.db, masterKeys);
    const tls = await loadTlsMaterial(config.tls);
    const providers = createProvidersDeps({ config, db: database.db, logger, keyRing });
    app = await buildApp({ config, database, logger, tls, keyRing, providers });
    await app.listen({ host: config.http.host, port: config.http.port });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.http.port;
    const url = `${tls ? 'https' : 'http'}://${displayHost(config.http.host)}:${port}`;

    let redirectUrl: string | undefined;
    if (config.http.redirectPort !== null) {
      redirect = createRedirectServer(config.http.publicUrl);
      const server = redirect;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.http.redirectPort ?? 0, config.http.host, () => resolve());
      });
      const redirectAddress = server.address();
      redirectUrl = `http://${displayHost(config.http.host)}:${typeof redirectAddress === 'object' && redirectAddress ? redirectAddress.port : config.http.redirectPort}`;
    }

    if (config.jobs.enabled) {
      runner = new JobRunner(database.db, { concurrency: config.jobs.concurrency, leaseMs: config.jobs.leaseMs, logger });
      registerEmailJobs(runner, {
        db: database.db,
        transport: createEmailTransport(config.mail),
        from: { address: config.mail.from, name: config.mail.fromName },
        logger,
      });
      runner.register(RESEAL_JOB_KIND, () => resealUnderActiveKeyUnscoped(database.db, keyRing));
      registerKnowledgeJobs(runner, { db: database.db, maxFileBytes: config.knowledge.maxFileBytes, resolveEmbeddingProvider: organizationEmbeddingResolver(providers) });
      runner.start();
    }

    const setup = await createSetupLinkIfNoOperatorUnscoped(database.db, config);
    const started = { app, redirect, runner };
    return {
      app,
      database,
      runner,
      tls,
      url,
      redirectUrl,
      setup,
      close: async () => {
        await started.runner?.stop();
        await new Promise<void>((resolve) => (started.redirect ? started.redirect.close(() => resolve()) : resolve()));
        await started.app.close();
        await database.close();
      },
    };
  } catch (error) {
    await runner?.stop();
    redirect?.close();
    await app?.close();
    await database.close();
    throw error;
  }
}

function displayHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '127.0.0.1') return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}
