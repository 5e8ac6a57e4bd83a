// Login cost at the chosen argon2id parameters: the raw hash/verify, then full HTTP sign-ins
// (throttle checks, argon2 verify, session, audit event, e-mail queued) on embedded PGlite,
// sequential and two at a time, and an unknown account against a known one (timing parity).
//   npx tsx bench/login.bench.ts        (BENCH_LOGINS=40 by default)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { hash as bcryptHash, verify as bcryptVerify } from '@node-rs/bcrypt';
import { ARGON2_PARAMETERS, hashPassword, verifyPassword } from '../src/auth/passwords/password-hash.ts';
import { loadConfig } from '../src/config/load.ts';
import { openPglite } from '../src/db/client.ts';
import { runMigrations } from '../src/db/migrate.ts';
import { memberships, organizations, users } from '../src/db/schema/index.ts';
import { percentile } from './support/stats.ts';
import { withUnscoped } from '../src/db/tenancy.ts';
import { buildApp } from '../src/http/app.ts';
import { createLogger } from '../src/http/logger.ts';

const LOGINS = Number(process.env.BENCH_LOGINS ?? 40);
const PASSWORD = 'correct horse battery staple 42';

const ms = (value: number) => `${value.toFixed(1)} ms`;

async function timeEach(count: number, fn: (i: number) => Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    await fn(i);
    samples.push(performance.now() - start);
  }
  return samples;
}

async function main(): Promise<void> {
  console.log(`argon2id parameters: m=${ARGON2_PARAMETERS.memoryCost} KiB, t=${ARGON2_PARAMETERS.timeCost}, p=${ARGON2_PARAMETERS.parallelism}`);
  const argonHash = await hashPassword(PASSWORD);
  const hashSamples = await timeEach(10, () => hashPassword(PASSWORD));
  const verifySamples = await timeEach(20, () => verifyPassword(argonHash, PASSWORD));
  const bcrypt = await bcryptHash(PASSWORD, 10);
  const bcryptSamples = await timeEach(20, () => bcryptVerify(PASSWORD, bcrypt));
  console.log(`argon2id hash          p50 ${ms(percentile(hashSamples, 50))}  p95 ${ms(percentile(hashSamples, 95))}`);
  console.log(`argon2id verify        p50 ${ms(percentile(verifySamples, 50))}  p95 ${ms(percentile(verifySamples, 95))}`);
  console.log(`bcrypt(10) verify      p50 ${ms(percentile(bcryptSamples, 50))}  (imported hashes, before their upgrade)`);

  const root = mkdtempSync(path.join(tmpdir(), 'savoir-login-bench-'));
  const config = loadConfig({ SAVOIR_DATA_DIR: root, SAVOIR_LOG_LEVEL: 'silent' });
  const database = await openPglite(path.join(root, 'pglite'));
  try {
    await runMigrations(database);
    await withUnscoped(database.db, async (tx) => {
      const [org] = await tx.insert(organizations).values({ name: 'Bench', slug: 'bench' }).returning();
      const [user] = await tx.insert(users).values({ email: 'bench@example.org', passwordHash: argonHash }).returning();
      await tx.insert(memberships).values({ organizationId: org!.id, userId: user!.id, role: 'editor' });
      // Known accounts for wrong-password attempts (one each, so no account lock interferes).
      await tx.insert(users).values(Array.from({ length: 18 }, (_, i) => ({ email: `known${i}@example.org`, passwordHash: argonHash })));
    });
    const app = await buildApp({ config, database, logger: createLogger(config) });
    const login = (email: string, remoteAddress = '127.0.0.1', password = PASSWORD) =>
      app.inject({ method: 'POST', url: '/api/v1/auth/login', remoteAddress, payload: { email, password } }).then((r) => {
        if (email === 'bench@example.org' && r.statusCode !== 200) throw new Error(`login failed: ${r.statusCode} ${r.body}`);
        return r;
      });
    await login('bench@example.org'); // warm-up
    const sequential = await timeEach(LOGINS, () => login('bench@example.org'));
    const unknown = await timeEach(18, (i) => login(`nobody${i}@example.org`, `198.51.100.${i + 1}`));
    const wrongPassword = await timeEach(18, (i) => login(`known${i}@example.org`, `203.0.113.${i + 1}`, 'not the password at all'));
    const start = performance.now();
    let next = 0;
    const worker = async () => {
      while (next < LOGINS) {
        next += 1;
        await login('bench@example.org');
      }
    };
    await Promise.all([worker(), worker()]);
    const concurrentSeconds = (performance.now() - start) / 1000;
    await app.close();

    const p50 = percentile(sequential, 50);
    console.log(`HTTP login (PGlite)    p50 ${ms(p50)}  p95 ${ms(percentile(sequential, 95))}  sequential throughput ${(1000 / p50).toFixed(1)} logins/s`);
    console.log(`HTTP login, 2 at once  ${(LOGINS / concurrentSeconds).toFixed(1)} logins/s over ${LOGINS} logins (PGlite serialises queries; argon2 runs on the libuv pool)`);
    const wrongP50 = percentile(wrongPassword, 50);
    console.log(`failed login, unknown account   p50 ${ms(percentile(unknown, 50))}`);
    console.log(`failed login, wrong password    p50 ${ms(wrongP50)}  ratio unknown/known ${(percentile(unknown, 50) / wrongP50).toFixed(2)} (a dummy argon2 verify keeps them alike)`);
    console.log(`argon2 share of a login: ${((percentile(verifySamples, 50) / p50) * 100).toFixed(0)} %`);
  } finally {
    await database.close();
    rmSync(root, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
