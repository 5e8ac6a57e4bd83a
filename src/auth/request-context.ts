import type { FastifyRequest } from 'fastify';

/** Where a request came from, as the audit log and the session list record it. */
export interface RequestContext {
  ip: string | null;
  requestId: string | null;
  userAgent: string | null;
}

export function requestContextOf(request: FastifyRequest): RequestContext {
  const userAgent = request.headers['user-agent'];
  return { ip: request.ip ?? null, requestId: request.id, userAgent: typeof userAgent === 'string' ? userAgent.slice(0, 512) : null };
}
