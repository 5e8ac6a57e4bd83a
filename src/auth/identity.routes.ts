import type { FastifyInstance } from 'fastify';
import type { KeyRing } from '../crypto/key-ring.ts';
import type { AppDependencies } from '../http/app.ts';
import type { Authenticator } from '../http/route-access.ts';
import { registerAccountRoutes } from './account/account.routes.ts';
import { apiKeyAuthenticator } from './api-keys/api-key-authenticator.ts';
import { registerApiKeyRoutes } from './api-keys/api-keys.routes.ts';
import { registerInvitationRoutes } from './invitations/invitations.routes.ts';
import { registerMemberRoutes } from './members/members.routes.ts';
import { registerMfaRoutes } from './mfa/mfa.routes.ts';
import { registerPasswordResetRoutes } from './password-reset/password-reset.routes.ts';
import { registerPlatformRoutes } from './platform/platform.routes.ts';
import { registerSetupRoutes } from './platform/setup.routes.ts';
import { registerSessionRoutes } from './sessions/session.routes.ts';
import { sessionAuthenticator } from './sessions/session-authenticator.ts';
import { registerSupportRoutes } from './support/support.routes.ts';

/** How production callers prove who they are: an API key in Authorization, or the session cookie. */
export function defaultAuthenticators(deps: Pick<AppDependencies, 'config' | 'database'>): Authenticator[] {
  return [apiKeyAuthenticator(deps.database.db), sessionAuthenticator(deps.database.db, deps.config.sessions)];
}

/** Every identity and access route: sessions, MFA, password reset, members, invitations, API keys, organisations. */
export function registerIdentityRoutes(app: FastifyInstance, deps: Pick<AppDependencies, 'config' | 'database'> & { keyRing: KeyRing }): void {
  const context = { config: deps.config, db: deps.database.db };
  registerSessionRoutes(app, context);
  registerMfaRoutes(app, { ...context, keyRing: deps.keyRing });
  registerAccountRoutes(app, context);
  registerPasswordResetRoutes(app, context);
  registerSetupRoutes(app, context);
  registerMemberRoutes(app, context);
  registerInvitationRoutes(app, context);
  registerApiKeyRoutes(app, context);
  registerSupportRoutes(app, context);
  registerPlatformRoutes(app, context);
}
