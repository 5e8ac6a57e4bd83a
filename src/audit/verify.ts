import type { AppDb } from '../db/client.ts';
import type { AuditEventRow } from '../db/schema/index.ts';
import { withUnscoped } from '../db/tenancy.ts';
import { listChainOwnersUnscoped, readChainPageUnscoped, type ChainOwner } from './audit.repo.ts';
import { auditEventHash, GENESIS_HASH, hashedFieldsOfRow } from './chain.ts';

export interface BrokenAuditEvent {
  id: string;
  sequence: number;
  reason: string;
}

export interface ChainVerification {
  /** null for the platform chain. */
  organizationId: string | null;
  events: number;
  ok: boolean;
  /** The first event where the chain does not hold; absent when ok. */
  firstBroken?: BrokenAuditEvent;
  /** The last event's sequence and hash: kept outside the database, they also reveal a truncated tail. */
  head: { sequence: number; hash: string } | null;
}

const PAGE_SIZE = 1000;

/**
 * Checks every chain: sequences 1, 2, 3… without gaps, each prev_hash equal to the previous
 * event's hash, and each hash equal to the one recomputed from the row. Reports the first broken
 * event per chain. Rows deleted at the end of a chain leave no gap: compare `head` with a copy
 * kept elsewhere to detect that.
 */
export async function verifyAuditChains(db: AppDb): Promise<ChainVerification[]> {
  const owners = await withUnscoped(db, (tx) => listChainOwnersUnscoped(tx));
  const results: ChainVerification[] = [];
  for (const owner of owners) results.push(await verifyChain(db, owner));
  return results;
}

async function verifyChain(db: AppDb, organizationId: ChainOwner): Promise<ChainVerification> {
  let expectedSequence = 1;
  let prevHash = GENESIS_HASH;
  let events = 0;
  let firstBroken: BrokenAuditEvent | undefined;
  for (;;) {
    const page = await withUnscoped(db, (tx) => readChainPageUnscoped(tx, organizationId, expectedSequence - 1, PAGE_SIZE));
    for (const row of page) {
      events += 1;
      const reason = firstBroken ? undefined : checkEvent(row, expectedSequence, prevHash);
      if (reason) firstBroken = { id: row.id, sequence: row.sequence, reason };
      // Continue from what the row says, so one broken event does not hide the end of the chain.
      expectedSequence = row.sequence + 1;
      prevHash = row.hash;
    }
    if (page.length < PAGE_SIZE) break;
  }
  return {
    organizationId,
    events,
    ok: !firstBroken,
    ...(firstBroken ? { firstBroken } : {}),
    head: events > 0 ? { sequence: expectedSequence - 1, hash: prevHash } : null,
  };
}

function checkEvent(row: AuditEventRow, expectedSequence: number, expectedPrevHash: string): string | undefined {
  if (row.sequence !== expectedSequence) {
    return row.sequence > expectedSequence
      ? `sequence gap: expected ${expectedSequence}, found ${row.sequence} (events removed before this one)`
      : `sequence out of order: expected ${expectedSequence}, found ${row.sequence}`;
  }
  if (row.prevHash !== expectedPrevHash) return 'prev_hash does not match the previous event’s hash (an event before this one was changed or removed)';
  const recomputed = auditEventHash(row.prevHash, hashedFieldsOfRow(row));
  if (recomputed !== row.hash) return 'hash mismatch: the event’s recorded fields were changed after it was written';
  return undefined;
}
