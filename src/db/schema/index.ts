export * from './secrets.js';
export * from './audit.js';
export * from './tokens.js';
export * from './keyring.js';
export * from './requests.js';
export * from './outbox.js';
export * from './jobs.js';
export * from './rotation.js';
