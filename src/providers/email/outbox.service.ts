// TEMPORARY STAND-IN until branch audit-email is merged (its file replaces this one entirely).
import type { AppTx } from '../../db/client.ts';

export type EmailTemplate = 'invitation' | 'password-reset' | 'new-sign-in' | 'mfa-reset' | 'incident-notice';

export async function queueEmail(
  _tx: AppTx,
  _email: { organizationId: string | null; to: string; template: EmailTemplate; locale: 'fr' | 'en'; variables: Record<string, string> },
): Promise<{ id: string }> {
  return { id: '00000000-0000-0000-0000-000000000000' };
}
