import { afterAll, beforeAll } from 'vitest';
import { createTestDatabase, type TestDatabase } from './db.ts';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { loadConfig, type Config } from '../../src/config/load.ts';
import type { Database } from '../../src/db/client.ts';
import { buildApp } from '../../src/http/app.ts';
import { createLogger } from '../../src/http/logger.ts';
import type { Authenticator } from '../../src/http/route-access.ts';

/** A configuration as a user would write it, in a temporary data folder. */
export function testConfig(variables: Record<string, string> = {}): Config {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'savoir-test-data-'));
  return loadConfig({ SAVOIR_DATA_DIR: dataDir, SAVOIR_LOG_LEVEL: 'info', ...variables });
}

/** Every log line the app wrote, as text, so tests can search it for secrets. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _encoding: string, callback: () => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    callback();
  }
  get text(): string {
    return this.lines.join('\n');
  }
}

export interface TestApp {
  app: FastifyInstance;
  config: Config;
  logs: LogCapture;
}

/** The real app (over `inject`, no socket) on a test database. */
export async function buildTestApp(database: Database, options: { authenticators?: Authenticator[]; config?: Config } = {}): Promise<TestApp> {
  const config = options.config ?? testConfig();
  const logs = new LogCapture();
  const app = await buildApp({ config, database, logger: createLogger(config, logs), authenticators: options.authenticators });
  return { app, config, logs };
}

/**
 * For a test file: a fresh database and the real app, closed after the file. `receive` gets them
 * once they exist (assign them to the file's variables, then add what the file needs).
 */
export function useTestApp(receive: (context: { database: TestDatabase; t: TestApp }) => unknown): void {
  let context: { database: TestDatabase; t: TestApp } | undefined;
  beforeAll(async () => {
    const database = await createTestDatabase();
    context = { database, t: await buildTestApp(database) };
    await receive(context);
  });
  afterAll(async () => {
    await context?.t.app.close();
    await context?.database.close();
  });
}
