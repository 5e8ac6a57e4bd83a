import { randomBytes } from 'node:crypto';
import { asc, eq, isNull, sql } from 'drizzle-orm';
import type { AppDb, AppTx } from '../db/client.ts';
import { dataKeys, type DataKeyRow } from '../db/schema/index.ts';
import { withUnscoped } from '../db/tenancy.ts';
import { recordAuditEvent } from '../audit/audit.service.ts';
import { AES_KEY_BYTES, aeadOpen, aeadSeal, masterKeyFingerprint } from './aead.ts';

/** Sealed secrets start with this version tag; a future format gets a new one. */
const SEALED_VERSION = 'sv1';
const WRAPPED_VERSION = 'wk1';

export class KeyRingError extends Error {
  override name = 'KeyRingError';
}

/**
 * Envelope encryption. The master key (from the operator) wraps random data keys stored in
 * `data_keys`; secrets are sealed with AES-256-GCM under the active data key. A sealed value is
 * `sv1.<data key id>.<iv>.<tag>.<ciphertext>` (base64url parts), and its AAD names the row and
 * purpose it belongs to (`provider_config:<id>:credentials`), so a value copied into another row
 * or column does not open. Several processes share the ring: a data key created elsewhere is
 * fetched on first sight.
 */
export class KeyRing {
  private readonly keys = new Map<string, Buffer>();
  private activeId: string | undefined;
  private loading: Promise<void> | undefined;
  private loadedAt = 0;
  /** How stale the active key may be: a data key rotated by another process is picked up within this. */
  static refreshIntervalMs = 60_000;

  private constructor(
    private readonly db: AppDb,
    /** The first master key is current; the others only unwrap (during a rotation). */
    private readonly masterKeys: Map<string, Buffer>,
  ) {}

  /** Loads the ring, creating the first data key on a new database. */
  static async open(db: AppDb, masterKeys: Buffer[]): Promise<KeyRing> {
    const ring = KeyRing.deferred(db, masterKeys);
    await ring.ready();
    return ring;
  }

  /** A ring that loads on first use (the app can be built before the database is migrated). */
  static deferred(db: AppDb, masterKeys: Buffer[]): KeyRing {
    if (masterKeys.length === 0) throw new KeyRingError('the key ring needs a master key');
    return new KeyRing(db, new Map(masterKeys.map((key) => [masterKeyFingerprint(key), key])));
  }

  /**
   * Loads the data keys (creating the first one on a new database), or reloads them when older than
   * `refreshIntervalMs`, so a data key rotated by another process is used for sealing. Call it
   * before a transaction that seals: it needs a connection of its own.
   */
  async ready(): Promise<void> {
    this.loading ??= (async () => {
      await this.reload();
      if (!this.activeId) await this.createFirstDataKeyUnscoped();
    })().catch((error: unknown) => {
      this.loading = undefined;
      throw error;
    });
    await this.loading;
    if (Date.now() - this.loadedAt > KeyRing.refreshIntervalMs) await this.reload();
  }

  get currentMasterKeyId(): string {
    return [...this.masterKeys.keys()][0] as string;
  }

  get activeDataKeyId(): string {
    if (!this.activeId) throw new KeyRingError('no active data key');
    return this.activeId;
  }

  /** Seals under the active data key. Call `ready()` before opening a transaction that seals. */
  async seal(plaintext: string, aad: string): Promise<string> {
    // Only the first use loads here; refreshing needs a connection, so callers do it (ready()) before a transaction.
    if (!this.loading) await this.ready();
    await this.loading;
    const id = this.activeDataKeyId;
    const box = aeadSeal(this.keys.get(id) as Buffer, Buffer.from(plaintext, 'utf8'), aad);
    return [SEALED_VERSION, id, box.iv.toString('base64url'), box.tag.toString('base64url'), box.ciphertext.toString('base64url')].join('.');
  }

  /**
   * Opens a sealed value; fetches the data key from the database when another process created it.
   * Inside a transaction, pass it: a second connection may not be available (PGlite has one).
   */
  async open(sealed: string, aad: string, tx?: AppTx): Promise<string> {
    const { dataKeyId, box } = parseSealed(sealed);
    if (!this.loading) {
      if (tx) await this.reload(tx);
      else await this.ready();
    }
    if (!this.keys.has(dataKeyId)) await this.reload(tx);
    const key = this.keys.get(dataKeyId);
    if (!key) throw new KeyRingError(`the data key ${dataKeyId} is unknown or wrapped by another master key`);
    try {
      return aeadOpen(key, box, aad).toString('utf8');
    } catch {
      throw new KeyRingError('the sealed value does not open: altered, or sealed for another row or purpose');
    }
  }

  /** The data key id of a sealed value (for the re-seal job). */
  static dataKeyIdOf(sealed: string): string {
    return parseSealed(sealed).dataKeyId;
  }

  /**
   * The first data key of a new database. Processes starting together take turns (advisory lock)
   * and the later ones adopt the key the first created, instead of each creating (and retiring) one.
   */
  private async createFirstDataKeyUnscoped(): Promise<void> {
    const created = await withUnscoped(this.db, async (tx) => {
      await lockDataKeys(tx);
      const [active] = await tx.select({ id: dataKeys.id }).from(dataKeys).where(isNull(dataKeys.retiredAt));
      return active ? undefined : this.insertDataKey(tx, systemActor, 'keys.data_key_created');
    });
    if (created) this.adopt(created);
    else await this.reload();
  }

  /**
   * Creates a new active data key; older keys are retired (still open, no longer seal). Audited
   * on the platform chain; `inTransaction` runs in the same transaction (the re-seal job is queued
   * there, so a rotation never exists without it).
   */
  async rotateDataKeyUnscoped(options: { actor?: KeyActor; inTransaction?: (tx: AppTx, dataKeyId: string) => Promise<void> } = {}): Promise<string> {
    const created = await withUnscoped(this.db, async (tx) => {
      await lockDataKeys(tx);
      const inserted = await this.insertDataKey(tx, options.actor ?? systemActor, 'keys.data_key_rotated');
      await options.inTransaction?.(tx, inserted.id);
      return inserted;
    });
    // Known to this process only once committed: a failed transaction leaves the ring as it was.
    this.adopt(created);
    return created.id;
  }

  private adopt(created: { id: string; key: Buffer }): void {
    this.keys.set(created.id, created.key);
    this.activeId = created.id;
  }

  private async insertDataKey(tx: AppTx, actor: KeyActor, action: string): Promise<{ id: string; key: Buffer }> {
    const key = randomBytes(AES_KEY_BYTES);
    const [row] = await tx.insert(dataKeys).values({ wrappedKey: 'pending', masterKeyId: this.currentMasterKeyId }).returning({ id: dataKeys.id });
    const newId = (row as { id: string }).id;
    await tx.update(dataKeys).set({ wrappedKey: wrapDataKey(this.masterKeys.get(this.currentMasterKeyId) as Buffer, newId, key) }).where(eq(dataKeys.id, newId));
    const retired = await tx
      .update(dataKeys)
      .set({ retiredAt: sql`now()` })
      .where(sql`${dataKeys.retiredAt} is null and ${dataKeys.id} <> ${newId}`)
      .returning({ id: dataKeys.id });
    await recordAuditEvent(tx, {
      organizationId: null,
      ...actor,
      action,
      targetType: 'data_key',
      targetId: newId,
      details: { masterKeyId: this.currentMasterKeyId, retiredDataKeyIds: retired.map((r) => r.id) },
    });
    return { id: newId, key };
  }

  async reload(inTx?: AppTx): Promise<void> {
    const read = (tx: AppTx) => tx.select().from(dataKeys).orderBy(asc(dataKeys.createdAt));
    const rows = inTx ? await read(inTx) : await withUnscoped(this.db, read);
    for (const row of rows) {
      if (this.keys.has(row.id)) continue;
      const master = this.masterKeys.get(row.masterKeyId);
      if (master) this.keys.set(row.id, unwrapDataKey(master, row));
    }
    this.loadedAt = Date.now();
    const active = rows.filter((row) => row.retiredAt === null).at(-1);
    this.activeId = active && this.keys.has(active.id) ? active.id : undefined;
    if (active && !this.activeId) {
      throw new KeyRingError(`the active data key is wrapped by master key ${active.masterKeyId}, which is not the one configured (${this.currentMasterKeyId})`);
    }
  }
}

/**
 * Re-wraps every data key under a new master key, in one transaction, without touching any
 * sealed secret. Idempotent: keys already under the new master are left as they are. Running
 * processes keep their unwrapped keys in memory, so they serve on until restarted with the new key.
 */
export async function rewrapDataKeysUnscoped(
  db: AppDb,
  oldMasterKey: Buffer,
  newMasterKey: Buffer,
  actor: KeyActor = systemActor,
): Promise<{ rewrapped: number; alreadyUnderNewKey: number }> {
  const oldId = masterKeyFingerprint(oldMasterKey);
  const newId = masterKeyFingerprint(newMasterKey);
  return withUnscoped(db, async (tx: AppTx) => {
    await lockDataKeys(tx);
    const rows = await tx.select().from(dataKeys).for('update');
    let rewrapped = 0;
    let alreadyUnderNewKey = 0;
    for (const row of rows) {
      if (row.masterKeyId === newId) {
        alreadyUnderNewKey += 1;
        continue;
      }
      if (row.masterKeyId !== oldId) {
        throw new KeyRingError(`data key ${row.id} is wrapped by master key ${row.masterKeyId}, neither the old (${oldId}) nor the new (${newId}) key given`);
      }
      const key = unwrapDataKey(oldMasterKey, row);
      await tx.update(dataKeys).set({ wrappedKey: wrapDataKey(newMasterKey, row.id, key), masterKeyId: newId }).where(eq(dataKeys.id, row.id));
      rewrapped += 1;
    }
    // Fingerprints only (the first bytes of each key's SHA-256), never a key.
    await recordAuditEvent(tx, { organizationId: null, ...actor, action: 'keys.master_key_rotated', details: { rewrapped, alreadyUnderNewKey, masterKeyId: newId, previousMasterKeyId: oldId } });
    return { rewrapped, alreadyUnderNewKey };
  });
}

export async function activeDataKeyCountUnscoped(db: AppDb): Promise<number> {
  const rows = await withUnscoped(db, (tx) => tx.select({ id: dataKeys.id }).from(dataKeys).where(isNull(dataKeys.retiredAt)));
  return rows.length;
}

/** Who changes keys: an operator's command, or the system (first start). */
export interface KeyActor {
  actorType: 'operator' | 'system';
  actorId: string | null;
}

const systemActor: KeyActor = { actorType: 'system', actorId: null };

/** Key creations and re-wraps take turns across processes (held until the transaction ends). */
async function lockDataKeys(tx: AppTx): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended('savoir:data_keys', 0))`);
}

function wrapDataKey(masterKey: Buffer, dataKeyId: string, key: Buffer): string {
  const box = aeadSeal(masterKey, key, `data_key:${dataKeyId}`);
  return [WRAPPED_VERSION, box.iv.toString('base64url'), box.tag.toString('base64url'), box.ciphertext.toString('base64url')].join('.');
}

function unwrapDataKey(masterKey: Buffer, row: DataKeyRow): Buffer {
  const [version, iv, tag, ciphertext] = row.wrappedKey.split('.');
  if (version !== WRAPPED_VERSION || !iv || !tag || !ciphertext) throw new KeyRingError(`data key ${row.id} is malformed`);
  try {
    return aeadOpen(masterKey, { iv: Buffer.from(iv, 'base64url'), tag: Buffer.from(tag, 'base64url'), ciphertext: Buffer.from(ciphertext, 'base64url') }, `data_key:${row.id}`);
  } catch {
    throw new KeyRingError(`data key ${row.id} does not unwrap under master key ${row.masterKeyId}: wrong master key or altered row`);
  }
}

function parseSealed(sealed: string): { dataKeyId: string; box: { iv: Buffer; tag: Buffer; ciphertext: Buffer } } {
  const [version, dataKeyId, iv, tag, ciphertext, extra] = sealed.split('.');
  if (version !== SEALED_VERSION || !dataKeyId || !iv || !tag || ciphertext === undefined || extra !== undefined) {
    throw new KeyRingError('not a sealed value (expected sv1.<key id>.<iv>.<tag>.<ciphertext>)');
  }
  return { dataKeyId, box: { iv: Buffer.from(iv, 'base64url'), tag: Buffer.from(tag, 'base64url'), ciphertext: Buffer.from(ciphertext, 'base64url') } };
}
