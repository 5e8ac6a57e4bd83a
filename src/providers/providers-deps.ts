import type { KeyRing } from '../crypto/key-ring.ts';
import type { AppDb } from '../db/client.ts';
import type { AuditWriter, ProviderAuditEvent } from './audit-writer.ts';
import type { LlmClient } from './llm/llm-client.ts';

/** What the providers room needs from the rest of Savoir. */
export interface ProvidersDeps {
  db: AppDb;
  keyRing: KeyRing;
  audit: AuditWriter;
  llm: LlmClient;
  /** Operator warnings (the app passes its logger's warn): e.g. a retired model still in use. */
  warn?: (details: Record<string, unknown>, message: string) => void;
}

/** Who acts. The identity room will add the user or API key id; until then the id is null. */
export interface Actor {
  actorType: ProviderAuditEvent['actorType'];
  actorId: string | null;
}

export const systemActor: Actor = { actorType: 'system', actorId: null };
