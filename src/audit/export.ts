import { stringify } from 'csv-stringify/sync';
import type { AuditEventRow } from '../db/schema/index.ts';
import { hashedFieldsOfRow, type HashedAuditFields } from './chain.ts';

/** An audit event as the API and the exports present it: its hashed fields plus its links, flat, so CSV and JSON carry the same fields. */
export type AuditEventView = HashedAuditFields & { prevHash: string; hash: string };

export function toAuditEventView(row: AuditEventRow): AuditEventView {
  return { ...hashedFieldsOfRow(row), prevHash: row.prevHash, hash: row.hash };
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
