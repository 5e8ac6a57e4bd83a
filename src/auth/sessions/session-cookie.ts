import type { CookieSerializeOptions } from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createHash } from 'node:crypto';

/**
 * `__Host-` makes the browser refuse the cookie unless it is Secure, has Path=/ and no Domain:
 * no subdomain or plain-HTTP page can set or overwrite it.
 */
export const SESSION_COOKIE = '__Host-savoir_session';
export const CSRF_HEADER = 'x-csrf-token';

const cookieOptions: CookieSerializeOptions = { httpOnly: true, secure: true, sameSite: 'strict', path: '/' };

export function setSessionCookie(reply: FastifyReply, token: string): void {
  reply.setCookie(SESSION_COOKIE, token, cookieOptions);
}

export function clearSessionCookie(reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, cookieOptions);
}

export function sessionTokenOf(request: FastifyRequest): string | undefined {
  const token = request.cookies?.[SESSION_COOKIE];
  return token && /^[A-Za-z0-9_-]{20,100}$/.test(token) ? token : undefined;
}

/**
 * The session's CSRF token, derived from the cookie's secret token (so nothing more to store):
 * the page gets it from the login and /me answers and sends it back in `x-csrf-token`; another
 * site can make the browser send the cookie but can neither read this value nor set the header.
 * It cannot be derived from what the database stores (the token's plain SHA-256).
 */
export function csrfTokenFor(sessionToken: string): string {
  return createHash('sha256').update(`savoir-csrf:${sessionToken}`).digest('base64url');
}

export const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
