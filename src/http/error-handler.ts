import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { AppError, toProblem, type ErrorCode, type FieldError, type ProblemDetails } from './errors.ts';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export function sendProblem(reply: FastifyReply, problem: ProblemDetails, headers: Record<string, string> = {}): FastifyReply {
  // A string payload skips the route's response serializer, which knows only success shapes.
  return reply.code(problem.status).headers(headers).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(problem));
}

/** Fastify's own errors that are the client's fault, mapped to our codes. */
const fastifyClientErrors: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'bad_request',
  FST_ERR_CTP_INVALID_JSON_BODY: 'bad_request',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'bad_request',
  FST_ERR_CTP_EMPTY_TYPE: 'unsupported_media_type',
  FST_ERR_VALIDATION: 'validation_failed',
};

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const context = { instance: request.url.split('?')[0], requestId: request.id };
    if (hasZodFastifySchemaValidationErrors(error)) {
      const location = locationName(error.validationContext);
      const errors: FieldError[] = error.validation.map((issue) => ({
        field: [location, ...issue.instancePath.split('/').filter(Boolean)].join('.') || location,
        message: issue.message ?? 'invalid value',
      }));
      const detail = errors.map((e) => `${e.field}: ${e.message}`).join('; ');
      return sendProblem(reply, toProblem('validation_failed', detail, { ...context, errors }));
    }
    if (error instanceof AppError) {
      return sendProblem(reply, toProblem(error.code, error.message, { ...context, errors: error.options.errors }), error.options.headers);
    }
    if (isResponseSerializationError(error)) {
      request.log.error({ err: error, issues: error.cause.issues }, 'response did not match its schema');
      return sendProblem(reply, toProblem('internal', `An unexpected error occurred. Quote request id ${request.id} to support.`, context));
    }
    if (isDatabaseDataError(error)) {
      // The input passed validation but the database cannot hold it (a NUL byte, an out-of-range
      // number): the client's fault, and nothing was written (the transaction rolled back).
      return sendProblem(reply, toProblem('bad_request', 'A value in the request cannot be stored (invalid characters or out of range)', context));
    }
    const clientCode = error.code ? fastifyClientErrors[error.code] : undefined;
    if (clientCode) return sendProblem(reply, toProblem(clientCode, error.message, context));
    if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
      return sendProblem(reply, toProblem(error.statusCode === 429 ? 'rate_limited' : 'bad_request', error.message, context));
    }
    request.log.error({ err: error }, 'unhandled error');
    // No message, no stack: an unexpected error may carry internals. The request id links to the log.
    return sendProblem(reply, toProblem('internal', `An unexpected error occurred. Quote request id ${request.id} to support.`, context));
  });

  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, toProblem('not_found', `No route ${request.method} ${request.url.split('?')[0]}`, { requestId: request.id })),
  );
}

function locationName(context: string | undefined): string {
  if (context === 'querystring') return 'query';
  return context ?? 'request';
}

/** PostgreSQL "data exception" codes caused by a value, never by the server (class 22). */
const databaseDataErrorCodes = new Set(['22001', '22003', '22007', '22008', '22021', '22P02', '22P05']);

function isDatabaseDataError(error: unknown): boolean {
  const code = (error as { cause?: { code?: unknown }; code?: unknown }).cause?.code ?? (error as { code?: unknown }).code;
  return typeof code === 'string' && databaseDataErrorCodes.has(code);
}
