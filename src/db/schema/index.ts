export * from './tenancy.ts';
export * from './organizations.ts';
export * from './jobs.ts';
export * from './identity.ts';
export * from './mfa.ts';
export * from './api-keys.ts';
export * from './invitations.ts';
export * from './audit.ts';
