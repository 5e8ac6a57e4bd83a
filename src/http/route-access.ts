import type { FastifyInstance, FastifyRequest } from 'fastify';
import { roleHasPermission, type Permission, type Role } from '../access/permissions.ts';
import { AppError } from './errors.ts';

/** Who made the request, once authenticated. Filled by the authenticators (sessions, API keys). */
export interface Principal {
  organizationId: string;
  role: Role;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The action this route performs, checked against the permission matrix. */
    permission?: Permission;
    /** Set on the few routes anyone may call (health, OpenAPI, login). */
    public?: true;
  }
  interface FastifyRequest {
    principal?: Principal;
  }
}

export type Authenticator = (request: FastifyRequest) => Promise<Principal | undefined>;

/**
 * Every route must declare a permission or be declared public: a route that declares nothing
 * stops the server at start-up, so it cannot ship. Then every non-public request is
 * authenticated and checked against the matrix before its handler runs.
 */
export function installRouteAccess(app: FastifyInstance, authenticators: Authenticator[]): void {
  app.addHook('onRoute', (route) => {
    const config = route.config as { permission?: Permission; public?: true } | undefined;
    const declared = Number(Boolean(config?.permission)) + Number(Boolean(config?.public));
    if (declared !== 1) {
      throw new Error(`route ${String(route.method)} ${route.url} must declare exactly one of config.permission or config.public`);
    }
  });

  app.addHook('onRequest', async (request) => {
    const config = request.routeOptions.config;
    if (config.public) return;
    // Only the not-found handler has no declaration; anything else without one is refused (fail closed).
    if (!config.permission) {
      if (request.is404) return;
      throw new AppError('forbidden', 'This route declares no permission');
    }
    let principal: Principal | undefined;
    for (const authenticate of authenticators) {
      principal = await authenticate(request);
      if (principal) break;
    }
    if (!principal) throw new AppError('unauthenticated', 'Sign in or present an API key to use this route', { headers: { 'www-authenticate': 'Bearer' } });
    if (!roleHasPermission(principal.role, config.permission)) {
      throw new AppError('forbidden', `Your role (${principal.role}) does not allow ${config.permission}`);
    }
    request.principal = principal;
  });
}

/** The authenticated principal of a route that declared a permission. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new AppError('unauthenticated', 'Sign in or present an API key to use this route');
  return request.principal;
}
