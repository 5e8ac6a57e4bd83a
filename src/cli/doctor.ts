import { accessSync, constants, mkdirSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import { productionRefusals } from '../config/guardrails.ts';
import type { Config } from '../config/load.ts';
import { maskedVariables } from '../config/mask.ts';
import { loadMasterKey } from '../crypto/master-key.ts';
import { openDatabase } from '../db/client.ts';
import { appliedMigrationCount, expectedMigrationCount } from '../db/migrate.ts';
import { loadTlsMaterial } from '../http/tls.ts';

export interface DoctorCheck {
  name: string;
  ok: boolean;
  detail: string;
}

/** Checks what a start needs, without starting: data folder, master key, TLS files, database, guardrails. */
export async function runDoctorChecks(config: Config): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const check = async (name: string, probe: () => Promise<string> | string) => {
    try {
      checks.push({ name, ok: true, detail: await probe() });
    } catch (error) {
      checks.push({ name, ok: false, detail: (error as Error).message });
    }
  };
  await check('data folder', () => {
    mkdirSync(config.dataDir, { recursive: true });
    accessSync(config.dataDir, constants.W_OK);
    return `${config.dataDir} is writable`;
  });
  await check('master key', () => {
    loadMasterKey(config.masterKey);
    return `loaded from ${config.masterKey.source === 'env' ? 'SAVOIR_MASTER_KEY' : config.masterKey.file}${config.masterKey.source === 'development' ? ' (development key)' : ''}`;
  });
  await check('TLS', async () => {
    const tls = await loadTlsMaterial(config.tls);
    if (!tls) return 'terminated by a trusted proxy (SAVOIR_TLS_TERMINATED_BY_PROXY=true)';
    if (tls.validTo.getTime() < Date.now()) throw new Error(`certificate expired on ${tls.validTo.toISOString()}`);
    return `${tls.selfSigned ? 'self-signed certificate' : 'certificate'} valid until ${tls.validTo.toISOString()}`;
  });
  await check('database', async () => {
    const database = await openDatabase(config.database, { poolSize: 1 });
    try {
      await database.db.execute(sql`select 1`);
      const applied = await appliedMigrationCount(database);
      const expected = expectedMigrationCount();
      const target = database.kind === 'pglite' ? `PGlite in ${config.database.kind === 'pglite' ? config.database.dataDir : ''}` : 'PostgreSQL';
      if (applied < expected) return `${target} reachable; ${applied} of ${expected} migrations applied (run \`savoir migrate\`)`;
      return `${target} reachable; ${applied} of ${expected} migrations applied`;
    } finally {
      await database.close();
    }
  });
  const refusals = productionRefusals(config);
  checks.push({
    name: 'production guardrails',
    ok: refusals.length === 0,
    detail: config.env !== 'production' ? `not applicable (SAVOIR_ENV=${config.env})` : refusals.length === 0 ? 'no development default in use' : refusals.map((r) => r.message).join('; '),
  });
  return checks;
}

export function formatDoctorReport(config: Config, checks: DoctorCheck[]): string {
  const variables = maskedVariables(config.raw);
  const width = Math.max(...Object.keys(variables).map((name) => name.length));
  const lines = ['Effective configuration (secrets masked):'];
  for (const [name, value] of Object.entries(variables)) lines.push(`  ${name.padEnd(width)}  ${value}`);
  lines.push('', 'Checks:');
  for (const c of checks) lines.push(`  [${c.ok ? ' ok ' : 'FAIL'}] ${c.name}: ${c.detail}`);
  return lines.join('\n');
}
