import { createHash } from 'node:crypto';
import { isSecretName } from '../crypto/secret-names.ts';
import canonicalize from 'canonicalize';
import type { AuditEventRow } from '../db/schema/index.ts';

/** The previous hash of the first event of every chain. */
export const GENESIS_HASH = '0'.repeat(64);

/** Bumped if the hashed fields ever change, so old and new events stay verifiable. */
export const AUDIT_HASH_VERSION = 1;

/** The fields an event's hash covers: everything it records, including its place in the chain. */
export interface HashedAuditFields {
  id: string;
  organizationId: string | null;
  sequence: number;
  /** ISO 8601 in UTC with milliseconds (`Date.prototype.toISOString`), as stored. */
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
}

/**
 * The canonical text of an event: the JSON Canonicalization Scheme (RFC 8785) of an object with
 * every field above present (absent values as null) plus `v`. JCS fixes key order (sorted by UTF-16
 * code units, at every depth), number formatting and string escaping, so a verifier in any
 * language recomputes the same bytes from the stored row.
 */
export function canonicalAuditText(fields: HashedAuditFields): string {
  const text = canonicalize({
    v: AUDIT_HASH_VERSION,
    id: fields.id,
    organizationId: fields.organizationId,
    sequence: fields.sequence,
    occurredAt: fields.occurredAt,
    actorType: fields.actorType,
    actorId: fields.actorId,
    action: fields.action,
    targetType: fields.targetType,
    targetId: fields.targetId,
    outcome: fields.outcome,
    ip: fields.ip,
    requestId: fields.requestId,
    details: fields.details,
  });
  if (text === undefined) throw new Error('audit event could not be canonicalised');
  return text;
}

/** hash = lowercase hex SHA-256 of the UTF-8 bytes of prevHash (64 hex chars) followed by the canonical text. */
export function auditEventHash(prevHash: string, fields: HashedAuditFields): string {
  return createHash('sha256').update(prevHash, 'utf8').update(canonicalAuditText(fields), 'utf8').digest('hex');
}

/** NUL and lone UTF-16 surrogates: valid in a JS string, refused by jsonb. */
// eslint-disable-next-line no-control-regex -- NUL is precisely what jsonb refuses
const JSONB_UNSAFE_CHARACTERS = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Details as they will read back from jsonb: plain JSON values only (dates become strings,
 * undefined and functions vanish, -0 becomes 0), and strings that jsonb accepts (no NUL, no lone
 * surrogates), so the hash computed before the insert equals the one recomputed from the row.
 * Values under secret-looking keys are replaced by "[redacted]".
 */
export function normalizeAuditDetails(details: Record<string, unknown> | undefined): Record<string, unknown> {
  if (!details) return {};
  const text = JSON.stringify(details, (key, value: unknown) =>
    isSecretName(key)
      ? '[redacted]'
      : typeof value === 'string' ? value.replace(JSONB_UNSAFE_CHARACTERS, '\uFFFD') : typeof value === 'bigint' ? value.toString() : value,
  );
  const parsed = JSON.parse(text) as unknown;
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('audit details must be an object');
  return parsed as Record<string, unknown>;
}

/** The hashed fields of a stored event, exactly as they were hashed when it was written. */
export function hashedFieldsOfRow(row: AuditEventRow): HashedAuditFields {
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
  };
}
