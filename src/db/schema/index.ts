export * from './tenancy.ts';
export * from './organizations.ts';
export * from './jobs.ts';
export * from './knowledge.ts';
