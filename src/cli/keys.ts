import type { Config } from '../config/load.ts';
import { masterKeyFingerprint } from '../crypto/aead.ts';
import { KeyRing, rewrapDataKeysUnscoped, type KeyActor } from '../crypto/key-ring.ts';
import { loadMasterKey, loadMasterKeys } from '../crypto/master-key.ts';
import { RESEAL_JOB_KIND } from '../crypto/reseal.ts';
import { openDatabase, type Database } from '../db/client.ts';
import { enqueueJob } from '../ops/jobs/jobs.repo.ts';

/** The keys commands are run by an operator on the server's shell (no account behind them). */
const operatorCommand: KeyActor = { actorType: 'operator', actorId: 'cli' };

/** A mistake in how a keys command was called: the message is for the operator, no stack trace. */
export class KeysCommandError extends Error {
  override name = 'KeysCommandError';
}

/**
 * `savoir keys rotate`: re-wraps every data key under a new master key; no secret is re-sealed.
 * Two ways, both without downtime:
 * - processes already run with SAVOIR_MASTER_KEY_FILE = new key and SAVOIR_MASTER_KEY_PREVIOUS_FILE =
 *   old key (they accept both): `savoir keys rotate` with no flag re-wraps from previous to current;
 *   then drop the previous key from the configuration;
 * - or `--new-key-file <file> [--old-key-file <file>]` (old defaults to the configured key): running
 *   processes keep their data keys in memory; restart them with the new key afterwards.
 */
export async function rotateMasterKeyCommand(config: Config, options: { newKeyFile?: string; oldKeyFile?: string }, opened?: Database): Promise<string> {
  const fromPrevious = !options.newKeyFile && !options.oldKeyFile && config.previousMasterKeyFile !== undefined;
  if (!options.newKeyFile && !fromPrevious) {
    throw new KeysCommandError('savoir keys rotate needs --new-key-file <file> (make one with `savoir keys generate > file`), or SAVOIR_MASTER_KEY_PREVIOUS_FILE set to the key being replaced');
  }
  const oldKey = fromPrevious
    ? loadMasterKey({ source: 'file', file: config.previousMasterKeyFile as string })
    : options.oldKeyFile
      ? loadMasterKey({ source: 'file', file: options.oldKeyFile })
      : loadMasterKey(config.masterKey);
  const newKey = fromPrevious ? loadMasterKey(config.masterKey) : loadMasterKey({ source: 'file', file: options.newKeyFile as string });
  const database = opened ?? (await openDatabase(config.database, { poolSize: 1 }));
  try {
    const { rewrapped, alreadyUnderNewKey } = await rewrapDataKeysUnscoped(database.db, oldKey, newKey, operatorCommand);
    return [
      `Re-wrapped ${rewrapped} data key(s) under master key ${masterKeyFingerprint(newKey)} (${alreadyUnderNewKey} already were).`,
      fromPrevious
        ? 'Every data key is now under the configured master key: remove SAVOIR_MASTER_KEY_PREVIOUS_FILE and restart the processes one by one.'
        : `Now point SAVOIR_MASTER_KEY_FILE at ${options.newKeyFile} and restart each process; keep the old key until all have restarted.`,
    ].join('\n');
  } finally {
    if (!opened) await database.close();
  }
}

/** `savoir keys rotate-data-key`: a new active data key; a background job re-seals every secret under it. */
export async function rotateDataKeyCommand(config: Config, opened?: Database): Promise<string> {
  const database = opened ?? (await openDatabase(config.database, { poolSize: 1 }));
  try {
    const ring = await KeyRing.open(database.db, loadMasterKeys(config));
    // The re-seal job is queued in the rotation's own transaction: no rotation without its job.
    const id = await ring.rotateDataKeyUnscoped({
      actor: operatorCommand,
      inTransaction: (tx, dataKeyId) => enqueueJob(tx, null, { kind: RESEAL_JOB_KIND, idempotencyKey: `reseal:${dataKeyId}`, maxAttempts: 10 }).then(() => undefined),
    });
    return `Data key ${id} is now active. Secrets sealed under older keys stay readable; the job ${RESEAL_JOB_KIND} re-seals them in the background.`;
  } finally {
    if (!opened) await database.close();
  }
}
