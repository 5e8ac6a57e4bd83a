import type { Logger } from 'pino';
import { recordAuditEvent } from '../audit/audit.service.ts';
import type { Config } from '../config/load.ts';
import { KeyRing } from '../crypto/key-ring.ts';
import { loadMasterKeys } from '../crypto/master-key.ts';
import type { AppDb } from '../db/client.ts';
import type { AuditWriter, ProviderAuditEvent } from './audit-writer.ts';
import { LlmClient, type LlmClientOptions } from './llm/llm-client.ts';

/** What the providers room needs from the rest of Savoir. */
export interface ProvidersDeps {
  db: AppDb;
  keyRing: KeyRing;
  audit: AuditWriter;
  llm: LlmClient;
  /** Operator warnings (the app passes its logger's warn): e.g. a retired model still in use. */
  warn?: (details: Record<string, unknown>, message: string) => void;
}

/**
 * The providers room as the server runs it: one instance per process, shared by the HTTP routes
 * and the background jobs (embeddings while indexing), so both see the same key ring and breakers.
 */
export function createProvidersDeps(options: {
  config: Config;
  db: AppDb;
  logger: Pick<Logger, 'warn'>;
  keyRing?: KeyRing;
  audit?: AuditWriter;
  llm?: LlmClientOptions;
}): ProvidersDeps {
  const { config, db, logger } = options;
  return {
    db,
    keyRing: options.keyRing ?? KeyRing.deferred(db, loadMasterKeys(config)),
    audit: options.audit ?? recordAuditEvent,
    warn: (details, message) => logger.warn(details, message),
    llm: new LlmClient({
      privateEndpointCidrs: config.providers.privateEndpointCidrs,
      onRetry: ({ attempt, delayMs, error, target }) =>
        logger.warn({ provider: target.providerId, providerConfigId: target.key, model: target.model, attempt, delayMs, failure: error.failure, reason: error.message }, 'provider call failed, retrying'),
      ...options.llm,
    }),
  };
}

/** Who acts. The identity room will add the user or API key id; until then the id is null. */
export interface Actor {
  actorType: ProviderAuditEvent['actorType'];
  actorId: string | null;
}

export const systemActor: Actor = { actorType: 'system', actorId: null };
