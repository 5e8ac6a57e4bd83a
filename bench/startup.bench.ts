// Time from process start to /readyz = 200 on the embedded default (PGlite, self-signed TLS),
// as `npm start` runs it. Cold: an empty data folder (initdb, certificate, migrations). Warm: the
// same folder again. Medians of several starts; the machine is noisy, so read the spread too.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { formatMs, median, percentile } from './support/stats.ts';
import { spawnSavoir, stop, waitFor200 } from './support/savoir-process.ts';

const coldStarts = Number(process.env.BENCH_COLD_STARTS ?? 3);
const warmStarts = Number(process.env.BENCH_WARM_STARTS ?? 5);
const port = 18_543;

async function timeOneStart(dataDir: string): Promise<number> {
  const startedAt = performance.now();
  const child = spawnSavoir({ SAVOIR_DATA_DIR: dataDir, SAVOIR_PORT: String(port), SAVOIR_REDIRECT_PORT: 'off', SAVOIR_JOBS_ENABLED: 'false' });
  try {
    await waitFor200(`https://127.0.0.1:${port}/readyz`);
    return performance.now() - startedAt;
  } finally {
    await stop(child);
  }
}

const cold: number[] = [];
const warm: number[] = [];
const folders: string[] = [];
for (let i = 0; i < coldStarts; i++) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'savoir-bench-start-'));
  folders.push(dataDir);
  cold.push(await timeOneStart(dataDir));
}
for (let i = 0; i < warmStarts; i++) warm.push(await timeOneStart(folders[0]!));
for (const folder of folders) rmSync(folder, { recursive: true, force: true });

console.log('startup: process start -> GET /readyz 200 (embedded PGlite, HTTPS)');
console.log(`  cold (empty data folder), ${cold.length} starts: median ${formatMs(median(cold))}, min ${formatMs(Math.min(...cold))}, max ${formatMs(Math.max(...cold))}`);
console.log(`  warm (existing data folder), ${warm.length} starts: median ${formatMs(median(warm))}, p90 ${formatMs(percentile(warm, 90))}`);
console.log(`  cold / warm ratio: ${(median(cold) / median(warm)).toFixed(2)}`);
