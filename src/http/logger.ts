import pino, { type Logger } from 'pino';
import type { Config } from '../config/load.ts';

/**
 * Paths pino replaces with "[redacted]" wherever they appear in a log line: credentials in
 * headers, and the usual names secrets take in bodies and objects. Secrets never reach a log.
 */
export const redactedPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  ...['password', 'newPassword', 'currentPassword', 'token', 'secret', 'apiKey', 'masterKey', 'credentials', 'totpCode', 'recoveryCode', 'privateKey', 'authorization', 'cookie'].flatMap(
    (name) => [name, `*.${name}`, `*.*.${name}`],
  ),
];

export function createLogger(config: Pick<Config, 'logLevel'>, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level: config.logLevel,
      redact: { paths: redactedPaths, censor: '[redacted]' },
      base: { service: 'savoir' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
