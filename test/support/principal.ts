import type { Role } from '../../src/access/permissions.ts';
import type { Authenticator } from '../../src/http/route-access.ts';

/** Test-only: the principal named by two headers (the identity room brings real sessions). */
export const headerAuthenticator: Authenticator = async (request) => {
  const organizationId = request.headers['x-test-org'];
  const role = request.headers['x-test-role'];
  if (typeof organizationId !== 'string' || typeof role !== 'string') return undefined;
  return { organizationId, role: role as Role };
};

export const as = (organizationId: string, role: Role) => ({ 'x-test-org': organizationId, 'x-test-role': role });
