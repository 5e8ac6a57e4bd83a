import type { FastifyInstance, FastifyRequest } from 'fastify';
import { authorize } from '../access/authorize.ts';
import type { Permission, Role } from '../access/permissions.ts';
import { AppError } from './errors.ts';

/** Who made the request, once authenticated. Filled by the authenticators (sessions, API keys). */
export interface Principal {
  /** The organisation acted in; null only for a platform operator at platform level. */
  organizationId: string | null;
  role: Role;
  userId?: string;
  sessionId?: string;
  apiKeyId?: string;
  /** For API keys: the permissions the key carries (it gets their intersection with the matrix). */
  keyPermissions?: readonly string[];
  /** For API keys limited to some assistants. */
  assistantIds?: readonly string[] | null;
  /** A platform operator (at platform level, or inside an organisation under a support grant). */
  operator?: boolean;
  supportGrantId?: string;
  /** For sessions: whether a second factor is enrolled, and when it was last proven in this session. */
  mfa?: { enrolled: boolean; verifiedAt: Date | null };
}

/** A principal acting inside one organisation. */
export type TenantPrincipal = Principal & { organizationId: string };

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

/** A registered route and what it declared, as the route x role tests enumerate them. */
export interface DeclaredRoute {
  method: string;
  url: string;
  permission?: Permission;
  public?: true;
}
const catalogues = new WeakMap<FastifyInstance, DeclaredRoute[]>();

/** Every route registered on the app (after `ready()`), with its declaration. */
export function declaredRoutes(app: FastifyInstance): readonly DeclaredRoute[] {
  return catalogues.get(app) ?? [];
}

/**
 * Every route must declare a permission or be declared public: a route that declares nothing
 * stops the server at start-up, so it cannot ship. Then every non-public request is
 * authenticated and checked against the matrix before its handler runs.
 */
export function installRouteAccess(app: FastifyInstance, authenticators: Authenticator[]): void {
  const catalogue: DeclaredRoute[] = [];
  catalogues.set(app, catalogue);
  app.addHook('onRoute', (route) => {
    const config = route.config as { permission?: Permission; public?: true } | undefined;
    for (const method of [route.method].flat()) {
      catalogue.push({ method: String(method), url: route.url, ...(config?.permission ? { permission: config.permission } : {}), ...(config?.public ? { public: true as const } : {}) });
    }
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
    // Known before the decision, so that a refused attempt is attributed too (support access audit).
    request.principal = principal;
    authorize(principal, config.permission);
  });
}

/** The authenticated principal of a route that declared an organisation-level permission. */
export function principalOf(request: FastifyRequest): TenantPrincipal {
  const principal = request.principal;
  if (!principal) throw new AppError('unauthenticated', 'Sign in or present an API key to use this route');
  // Only platform operators lack an organisation, and the matrix gives them no organisation action.
  if (principal.organizationId === null) throw new AppError('forbidden', 'Choose an organisation first');
  return principal as TenantPrincipal;
}

/** The authenticated principal of any route (own account, platform operations). */
export function anyPrincipalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new AppError('unauthenticated', 'Sign in or present an API key to use this route');
  return request.principal;
}
