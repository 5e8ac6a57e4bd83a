import { stringify } from 'csv-stringify/sync';
import type { AuditEventRow } from '../db/schema/index.ts';

/** An audit event as the API and the exports present it (flat, so CSV and JSON carry the same fields). */
export interface AuditEventView {
  id: string;
  organizationId: string | null;
  sequence: number;
  occurredAt: string;
  actorType: string;
  actorId: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  outcome: string;
  ip: string | null;
  requestId: string | null;
  details: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

export function toAuditEventView(row: AuditEventRow): AuditEventView {
  return {
    id: row.id,
    organizationId: row.organizationId,
    sequence: row.sequence,
    occurredAt: row.occurredAt.toISOString(),
    actorType: row.actorType,
    actorId: row.actorId,
    action: row.action,
    targetType: row.targetType,
    targetId: row.targetId,
    outcome: row.outcome,
    ip: row.ip,
    requestId: row.requestId,
    details: row.details,
    prevHash: row.prevHash,
    hash: row.hash,
  };
}

/** One JSON object per line (JSON Lines); with prev_hash and hash, a reader can re-verify the chain. */
export function auditEventsToJsonLines(events: AuditEventView[]): string {
  return events.map((event) => `${JSON.stringify(event)}\n`).join('');
}

const csvColumns = [
  'id',
  'organizationId',
  'sequence',
  'occurredAt',
  'actorType',
  'actorId',
  'action',
  'targetType',
  'targetId',
  'outcome',
  'ip',
  'requestId',
  'details',
  'prevHash',
  'hash',
] as const satisfies readonly (keyof AuditEventView)[];

/**
 * RFC 4180 CSV with a header line. Cells starting with = + - @ tab or CR get a leading quote so a
 * spreadsheet opening the export never runs a formula written into an event (CSV injection).
 */
export function auditEventsToCsv(events: AuditEventView[]): string {
  const rows = events.map((event) => csvColumns.map((column) => (column === 'details' ? JSON.stringify(event.details) : event[column])));
  return stringify(rows, {
    header: true,
    columns: [...csvColumns],
    escape_formulas: true,
    record_delimiter: 'windows',
    cast: { number: (value) => String(value) },
  });
}
