import { spawn, type ChildProcess } from 'node:child_process';
import https from 'node:https';
import { once } from 'node:events';

/** Starts `savoir serve` as `npm start` would (tsx), in its own process, on the given ports. */
export function spawnSavoir(env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve'], {
    env: { PATH: process.env.PATH ?? '', SAVOIR_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

export function getStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    https
      .get(url, { rejectUnauthorized: false, agent: false }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      })
      .on('error', () => resolve(0));
  });
}

/** Polls `url` every `intervalMs` until it answers 200; returns when it does. */
export async function waitFor200(url: string, timeoutMs = 120_000, intervalMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await getStatus(url)) === 200) return;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
}

export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  await once(child, 'exit');
}
