import type { FastifyInstance } from 'fastify';
import type { AppDependencies } from '../http/app.ts';
import type { Authenticator } from '../http/route-access.ts';
import { apiKeyAuthenticator } from './api-keys/api-key-authenticator.ts';
import { loadMasterKey } from '../crypto/master-key.ts';
import { registerMfaRoutes } from './mfa/mfa.routes.ts';
import { registerSessionRoutes } from './sessions/session.routes.ts';
import { sessionAuthenticator } from './sessions/session-authenticator.ts';

/** How production callers prove who they are: an API key in Authorization, or the session cookie. */
export function defaultAuthenticators(deps: Pick<AppDependencies, 'config' | 'database'>): Authenticator[] {
  return [apiKeyAuthenticator(deps.database.db), sessionAuthenticator(deps.database.db, deps.config.sessions)];
}

/** Every identity and access route: sessions, MFA, password reset, members, invitations, API keys, organisations. */
export function registerIdentityRoutes(app: FastifyInstance, deps: Pick<AppDependencies, 'config' | 'database'>): void {
  const context = { config: deps.config, db: deps.database.db };
  registerSessionRoutes(app, context);
  registerMfaRoutes(app, { ...context, masterKey: loadMasterKey(deps.config.masterKey) });
}
