import { parseArgs } from 'node:util';
import { GuardrailError } from './config/guardrails.ts';
import { ConfigError, loadConfig, type Config } from './config/load.ts';
import { verifyAuditChains } from './audit/verify.ts';
import { createSetupLinkIfNoOperatorUnscoped } from './auth/platform/bootstrap.service.ts';
import { formatAuditVerification } from './cli/audit-verify.ts';
import { setupInstructions } from './cli/setup-instructions.ts';
import { KeysCommandError, rotateDataKeyCommand, rotateMasterKeyCommand } from './cli/keys.ts';
import { KeyRingError } from './crypto/key-ring.ts';
import { formatDoctorReport, runDoctorChecks } from './cli/doctor.ts';
import { generateMasterKeyText } from './crypto/master-key.ts';
import { openDatabase } from './db/client.ts';
import { runMigrations } from './db/migrate.ts';
import { createLogger } from './http/logger.ts';
import { startSavoir } from './server.ts';

const usage = `Usage: savoir <command>

Commands:
  serve            start the server (HTTPS, redirect, background jobs)
  migrate          apply database migrations and exit
  doctor           print the effective configuration (secrets masked) and check database, TLS, data folder
  keys generate    print a new random master key (for SAVOIR_MASTER_KEY_FILE)
  bootstrap        print a one-time link (valid 30 minutes) that creates the first platform operator
  audit verify     check every audit chain; names the first broken event (exit 1 when one is broken)
  keys rotate --new-key-file <file> [--old-key-file <file>]
                   re-wrap every data key under a new master key (no downtime)
  keys rotate-data-key
                   make a new active data key; a background job re-seals secrets under it
  help             show this help

Configuration comes from environment variables (see docs/operator-guide.md).`;

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: false,
    options: { 'new-key-file': { type: 'string' }, 'old-key-file': { type: 'string' } },
  });
  const [command = 'help', subcommand] = positionals;
  if (command === 'help' || command === '--help') {
    console.log(usage);
    return 0;
  }
  if (command === 'keys' && subcommand === 'generate') {
    console.log(generateMasterKeyText());
    return 0;
  }
  const config = loadConfig();
  if (command === 'keys' && subcommand === 'rotate') {
    const asText = (value: unknown) => (typeof value === 'string' ? value : undefined);
    console.log(await rotateMasterKeyCommand(config, { newKeyFile: asText(values['new-key-file']), oldKeyFile: asText(values['old-key-file']) }));
    return 0;
  }
  if (command === 'keys' && subcommand === 'rotate-data-key') {
    console.log(await rotateDataKeyCommand(config));
    return 0;
  }
  switch (command) {
    case 'serve':
      return serve(config);
    case 'migrate': {
      const database = await openDatabase(config.database, { poolSize: 1 });
      try {
        const { applied } = await runMigrations(database);
        console.log(applied > 0 ? `Applied ${applied} migration(s).` : 'The database is up to date.');
      } finally {
        await database.close();
      }
      return 0;
    }
    case 'doctor': {
      const checks = await runDoctorChecks(config);
      console.log(formatDoctorReport(config, checks));
      return checks.every((c) => c.ok) ? 0 : 1;
    }
    case 'bootstrap':
      return bootstrap(config);
    case 'audit':
      if (subcommand === 'verify') return auditVerify(config);
      return unknownCommand(command, subcommand);
    default:
      return unknownCommand(command, subcommand);
  }
}

function unknownCommand(command: string, subcommand: string | undefined): number {
  console.error(`Unknown command: ${[command, subcommand].filter(Boolean).join(' ')}\n\n${usage}`);
  return 2;
}

async function bootstrap(config: Config): Promise<number> {
  const database = await openDatabase(config.database, { poolSize: 1 });
  try {
    await runMigrations(database);
    const setup = await createSetupLinkIfNoOperatorUnscoped(database.db, config);
    if (!setup) {
      console.error('A platform operator already exists: operators create the next ones.');
      return 1;
    }
    console.log(setupInstructions(setup, config.http.publicUrl));
    return 0;
  } finally {
    await database.close();
  }
}

async function auditVerify(config: Config): Promise<number> {
  const database = await openDatabase(config.database, { poolSize: 1 });
  try {
    const chains = await verifyAuditChains(database.db);
    console.log(formatAuditVerification(chains));
    return chains.every((c) => c.ok) ? 0 : 1;
  } finally {
    await database.close();
  }
}

/** How long `serve` waits, after SIGTERM, for running jobs and requests to finish. */
const SHUTDOWN_DEADLINE_MS = 25_000;

async function serve(config: Config): Promise<number> {
  const logger = createLogger(config);
  const savoir = await startSavoir(config, logger);
  const lines = [
    '',
    `  Savoir is running (${config.env}) at ${savoir.url}`,
    savoir.redirectUrl ? `  Plain HTTP at ${savoir.redirectUrl} redirects to HTTPS.` : '',
    savoir.tls?.selfSigned ? `  The certificate is self-signed (${config.tls.mode === 'self-signed' ? config.tls.certFile : ''}): your browser will ask you to accept it.` : '',
    savoir.setup ? `  ${setupInstructions(savoir.setup, savoir.url)}` : '',
    `  Database: ${savoir.database.kind === 'pglite' ? `embedded PGlite in ${config.dataDir}` : 'PostgreSQL'}`,
    '',
    '  Next:',
    `    curl -k ${savoir.url}/readyz            readiness of the database and migrations`,
    `    curl -k ${savoir.url}/api/openapi.json  the API description`,
    '    npm run savoir -- doctor                  check the configuration',
    '',
  ].filter((line, i, all) => line !== '' || all[i - 1] !== '');
  process.stdout.write(`${lines.join('\n')}\n`);
  await new Promise<void>((resolve) => {
    const shutdown = (signal: string) => {
      logger.info({ signal }, 'shutting down');
      // A handler that ignores its abort signal must not keep a deploy waiting for ever: its job's
      // lease expires and another process runs it again.
      setTimeout(() => {
        logger.error({ afterMs: SHUTDOWN_DEADLINE_MS }, 'shutdown deadline passed: exiting with jobs still running');
        process.exit(1);
      }, SHUTDOWN_DEADLINE_MS).unref();
      savoir.close().then(resolve, (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        resolve();
      });
    };
    process.once('SIGINT', shutdown);
    process.once('SIGTERM', shutdown);
  });
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof KeysCommandError || error instanceof KeyRingError) {
      console.error(error.message);
      process.exit(error instanceof KeysCommandError ? 2 : 1);
    }
    if (error instanceof ConfigError || error instanceof GuardrailError) {
      console.error(error.message);
      process.exit(78); // EX_CONFIG: the configuration, not the program, is at fault
    }
    console.error(error);
    process.exit(1);
  },
);
