// Requests per second of GET /healthz over HTTPS (keep-alive), Savoir against a bare node:https
// server with the same certificate, both in their own process, loaded from this one in turn.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { median } from './support/stats.ts';
import { spawnSavoir, stop, waitFor200 } from './support/savoir-process.ts';

const durationS = Number(process.env.BENCH_DURATION_S ?? 5);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const connections = 20;
const savoirPort = 18_643;
const barePort = 18_644;

async function requestsPerSecond(url: string): Promise<number> {
  const result = await autocannon({ url, connections, duration: durationS, pipelining: 1, tlsOptions: { rejectUnauthorized: false } } as autocannon.Options);
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${url}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
  return result.requests.average;
}

const dataDir = mkdtempSync(path.join(tmpdir(), 'savoir-bench-https-'));
const savoir = spawnSavoir({ SAVOIR_DATA_DIR: dataDir, SAVOIR_PORT: String(savoirPort), SAVOIR_REDIRECT_PORT: 'off', SAVOIR_JOBS_ENABLED: 'false', SAVOIR_LOG_LEVEL: 'warn' });
await waitFor200(`https://127.0.0.1:${savoirPort}/readyz`);
const bare = spawn(process.execPath, ['--import', 'tsx', 'bench/support/bare-https-server.ts', path.join(dataDir, 'tls/self-signed.crt'), path.join(dataDir, 'tls/self-signed.key'), String(barePort)], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
await once(bare.stdout!, 'data');

const savoirRates: number[] = [];
const bareRates: number[] = [];
try {
  // Warm both up, then alternate so that drift in the machine's load hits both alike.
  await requestsPerSecond(`https://127.0.0.1:${savoirPort}/healthz`);
  await requestsPerSecond(`https://127.0.0.1:${barePort}/healthz`);
  for (let round = 0; round < rounds; round++) {
    savoirRates.push(await requestsPerSecond(`https://127.0.0.1:${savoirPort}/healthz`));
    bareRates.push(await requestsPerSecond(`https://127.0.0.1:${barePort}/healthz`));
  }
} finally {
  await stop(savoir);
  await stop(bare);
  rmSync(dataDir, { recursive: true, force: true });
}

console.log(`https: GET /healthz, ${connections} keep-alive connections, ${rounds} rounds of ${durationS} s each`);
console.log(`  Savoir (Fastify, helmet, request ids, logging): median ${median(savoirRates).toFixed(0)} req/s  [${savoirRates.map((r) => r.toFixed(0)).join(', ')}]`);
console.log(`  bare node:https baseline:                       median ${median(bareRates).toFixed(0)} req/s  [${bareRates.map((r) => r.toFixed(0)).join(', ')}]`);
console.log(`  Savoir / baseline: ${(median(savoirRates) / median(bareRates)).toFixed(2)}`);
