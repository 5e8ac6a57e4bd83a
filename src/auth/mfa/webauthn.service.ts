import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type AuthenticatorTransportFuture,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { and, eq, sql } from 'drizzle-orm';
import type { Config } from '../../config/load.ts';
import type { AppTx } from '../../db/client.ts';
import { sessions, webauthnCredentials } from '../../db/schema/index.ts';

/** The relying party is the public URL's host: passkeys made for it work only there. */
export function relyingPartyOf(config: Config): { rpID: string; origin: string } {
  const url = new URL(config.http.publicUrl);
  return { rpID: url.hostname, origin: url.origin };
}

/** How long a WebAuthn challenge may be answered: a ceremony takes seconds, not hours. */
export const WEBAUTHN_CHALLENGE_TTL_MS = 5 * 60_000;

/**
 * Stored as `<issued at, epoch ms>.<challenge>` in the session's one challenge column (base64url
 * has no dot), so the age travels with it without another column.
 */
async function storeChallenge(tx: AppTx, sessionId: string, challenge: string): Promise<void> {
  await tx.update(sessions).set({ webauthnChallenge: `${Date.now()}.${challenge}` }).where(eq(sessions.id, sessionId));
}

/** A challenge is good for one answer, within WEBAUTHN_CHALLENGE_TTL_MS: taken (and cleared) whatever the outcome. */
async function takeChallenge(tx: AppTx, sessionId: string): Promise<string | undefined> {
  const [row] = await tx.select({ challenge: sessions.webauthnChallenge }).from(sessions).where(eq(sessions.id, sessionId)).for('update');
  await tx.update(sessions).set({ webauthnChallenge: null }).where(eq(sessions.id, sessionId));
  const stored = row?.challenge;
  const dot = stored ? stored.indexOf('.') : -1;
  // A value without its issue time (stored before this rule) counts as expired; a minute of clock skew between app servers is tolerated.
  if (!stored || dot < 1) return undefined;
  const issuedAtMs = Number(stored.slice(0, dot));
  const ageMs = Date.now() - issuedAtMs;
  if (!Number.isFinite(issuedAtMs) || ageMs < -60_000 || ageMs > WEBAUTHN_CHALLENGE_TTL_MS) return undefined;
  return stored.slice(dot + 1);
}

export async function beginPasskeyRegistration(tx: AppTx, config: Config, user: { id: string; email: string }, sessionId: string) {
  const existing = await tx.select().from(webauthnCredentials).where(eq(webauthnCredentials.userId, user.id));
  const options = await generateRegistrationOptions({
    rpName: 'Savoir',
    rpID: relyingPartyOf(config).rpID,
    userName: user.email,
    userID: new TextEncoder().encode(user.id),
    attestationType: 'none',
    excludeCredentials: existing.map((c) => ({ id: c.credentialId, transports: c.transports as AuthenticatorTransportFuture[] })),
    authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
  });
  await storeChallenge(tx, sessionId, options.challenge);
  return options;
}

export async function finishPasskeyRegistration(tx: AppTx, config: Config, userId: string, sessionId: string, response: RegistrationResponseJSON, name: string): Promise<{ id: string } | undefined> {
  const expectedChallenge = await takeChallenge(tx, sessionId);
  if (!expectedChallenge) return undefined;
  const { rpID, origin } = relyingPartyOf(config);
  const verification = await verifyRegistrationResponse({ response, expectedChallenge, expectedOrigin: origin, expectedRPID: rpID, requireUserVerification: false }).catch(() => undefined);
  if (!verification?.verified || !verification.registrationInfo) return undefined;
  const { credential } = verification.registrationInfo;
  const [row] = await tx
    .insert(webauthnCredentials)
    .values({
      userId,
      credentialId: credential.id,
      publicKey: Buffer.from(credential.publicKey).toString('base64url'),
      counter: credential.counter,
      transports: credential.transports ?? [],
      name,
    })
    .onConflictDoNothing()
    .returning({ id: webauthnCredentials.id });
  return row;
}

export async function beginPasskeyAuthentication(tx: AppTx, config: Config, userId: string, sessionId: string) {
  const credentials = await tx.select().from(webauthnCredentials).where(eq(webauthnCredentials.userId, userId));
  const options = await generateAuthenticationOptions({
    rpID: relyingPartyOf(config).rpID,
    allowCredentials: credentials.map((c) => ({ id: c.credentialId, transports: c.transports as AuthenticatorTransportFuture[] })),
    userVerification: 'preferred',
  });
  await storeChallenge(tx, sessionId, options.challenge);
  return options;
}

export async function finishPasskeyAuthentication(tx: AppTx, config: Config, userId: string, sessionId: string, response: AuthenticationResponseJSON): Promise<boolean> {
  const expectedChallenge = await takeChallenge(tx, sessionId);
  if (!expectedChallenge) return false;
  const [stored] = await tx
    .select()
    .from(webauthnCredentials)
    .where(and(eq(webauthnCredentials.userId, userId), eq(webauthnCredentials.credentialId, response.id)));
  if (!stored) return false;
  const { rpID, origin } = relyingPartyOf(config);
  const verification = await verifyAuthenticationResponse({
    response,
    expectedChallenge,
    expectedOrigin: origin,
    expectedRPID: rpID,
    requireUserVerification: false,
    credential: { id: stored.credentialId, publicKey: Buffer.from(stored.publicKey, 'base64url'), counter: stored.counter, transports: stored.transports as AuthenticatorTransportFuture[] },
  }).catch(() => undefined);
  if (!verification?.verified) return false;
  await tx
    .update(webauthnCredentials)
    .set({ counter: verification.authenticationInfo.newCounter, lastUsedAt: sql`now()` })
    .where(eq(webauthnCredentials.id, stored.id));
  return true;
}
