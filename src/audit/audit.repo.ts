import { and, desc, eq, gte, isNull, lt, lte, sql, type SQL } from 'drizzle-orm';
import type { AppTx } from '../db/client.ts';
import { auditEvents, type AuditEventRow } from '../db/schema/index.ts';
import type { TenantContext } from '../db/tenancy.ts';

export type NewAuditEventRow = typeof auditEvents.$inferInsert;

/** The chain of an organisation, or the platform's (null). */
export type ChainOwner = string | null;

const chainCondition = (organizationId: ChainOwner): SQL =>
  organizationId === null ? isNull(auditEvents.organizationId) : eq(auditEvents.organizationId, organizationId);

/**
 * Serialises the writers of one chain until the end of the transaction: a second transaction
 * appending to the same chain waits here, then reads the head the first one committed, so two
 * writers can never both link to the same previous event.
 */
export async function lockChain(tx: AppTx, organizationId: ChainOwner): Promise<void> {
  const chainKey = `savoir.audit:${organizationId ?? 'platform'}`;
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${chainKey}, 0))`);
}

/** The last event of a chain (call under `lockChain`). */
export async function findChainHead(tx: AppTx, organizationId: ChainOwner): Promise<{ sequence: number; hash: string } | undefined> {
  const [head] = await tx
    .select({ sequence: auditEvents.sequence, hash: auditEvents.hash })
    .from(auditEvents)
    .where(chainCondition(organizationId))
    .orderBy(desc(auditEvents.sequence))
    .limit(1);
  return head;
}

export async function insertAuditEvent(tx: AppTx, row: NewAuditEventRow): Promise<void> {
  await tx.insert(auditEvents).values(row);
}

export interface AuditEventFilters {
  action?: string;
  actorId?: string;
  from?: Date;
  to?: Date;
  limit: number;
  /** The sequence number below which to continue (newest first), from a previous page's `nextCursor`. */
  cursor?: string;
}

export interface AuditEventPage {
  events: AuditEventRow[];
  /** Pass it back as `cursor` for the next (older) page; null when this page is the last. */
  nextCursor: string | null;
}

/** An organisation's events, newest first. */
export async function listAuditEvents(tx: AppTx, tenant: TenantContext, filters: AuditEventFilters): Promise<AuditEventPage> {
  return listChain(tx, tenant.organizationId, filters);
}

/** The platform's events (operators, bootstrap, system), newest first. Unscoped transactions only. */
export async function listPlatformAuditEventsUnscoped(tx: AppTx, filters: AuditEventFilters): Promise<AuditEventPage> {
  return listChain(tx, null, filters);
}

export async function countAuditEvents(tx: AppTx, organizationId: ChainOwner, filters: Omit<AuditEventFilters, 'limit' | 'cursor'>): Promise<number> {
  const [row] = await tx
    .select({ n: sql<number>`count(*)::int` })
    .from(auditEvents)
    .where(and(chainCondition(organizationId), ...filterConditions(filters)));
  return row?.n ?? 0;
}

async function listChain(tx: AppTx, organizationId: ChainOwner, filters: AuditEventFilters): Promise<AuditEventPage> {
  const conditions = filterConditions(filters);
  if (filters.cursor !== undefined) conditions.push(lt(auditEvents.sequence, parseCursor(filters.cursor)));
  const rows = await tx
    .select()
    .from(auditEvents)
    .where(and(chainCondition(organizationId), ...conditions))
    .orderBy(desc(auditEvents.sequence))
    .limit(filters.limit + 1);
  const events = rows.slice(0, filters.limit);
  const last = events.at(-1);
  return { events, nextCursor: rows.length > filters.limit && last ? String(last.sequence) : null };
}

function filterConditions(filters: Omit<AuditEventFilters, 'limit' | 'cursor'>): SQL[] {
  const conditions: SQL[] = [];
  if (filters.action !== undefined) conditions.push(eq(auditEvents.action, filters.action));
  if (filters.actorId !== undefined) conditions.push(eq(auditEvents.actorId, filters.actorId));
  if (filters.from !== undefined) conditions.push(gte(auditEvents.occurredAt, filters.from));
  if (filters.to !== undefined) conditions.push(lte(auditEvents.occurredAt, filters.to));
  return conditions;
}

export class InvalidCursorError extends Error {
  override name = 'InvalidCursorError';
}

function parseCursor(cursor: string): number {
  if (!/^[1-9][0-9]{0,15}$/.test(cursor)) throw new InvalidCursorError('invalid cursor');
  return Number(cursor);
}

/** Every event of one chain in order, a page at a time (for verification). */
export async function readChainPageUnscoped(tx: AppTx, organizationId: ChainOwner, afterSequence: number, limit: number): Promise<AuditEventRow[]> {
  return tx
    .select()
    .from(auditEvents)
    .where(and(chainCondition(organizationId), sql`${auditEvents.sequence} > ${afterSequence}`))
    .orderBy(auditEvents.sequence)
    .limit(limit);
}

/** The owners of every chain present in the log. */
export async function listChainOwnersUnscoped(tx: AppTx): Promise<ChainOwner[]> {
  const rows = await tx.selectDistinct({ organizationId: auditEvents.organizationId }).from(auditEvents);
  return rows.map((r) => r.organizationId).sort((a, b) => (a === null ? -1 : b === null ? 1 : a.localeCompare(b)));
}
