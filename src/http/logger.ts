import pino, { type Logger } from 'pino';
import type { Config } from '../config/load.ts';
import { redactSecrets } from '../crypto/secret-names.ts';

/** Header paths pino censors itself; every other secret is caught by name in `redactSecrets`. */
export const redactedPaths = ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-api-key"]', 'res.headers["set-cookie"]'];

export function createLogger(config: Pick<Config, 'logLevel'>, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level: config.logLevel,
      redact: { paths: redactedPaths, censor: '[redacted]' },
      // Every log line passes through the same name-based redaction as audit details, at any depth.
      formatters: { log: (object) => redactSecrets(object) as Record<string, unknown> },
      serializers: {
        // Fastify's default logs the URL with its query string, where a token may travel.
        req: (request: { method?: string; url?: string; ip?: string; id?: string }) => ({
          method: request.method,
          url: request.url?.split('?')[0],
          remoteAddress: request.ip,
        }),
      },
      base: { service: 'savoir' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
