export * from './secrets.js';
export * from './audit.js';
export * from './tokens.js';
export * from './keyring.js';
export * from './requests.js';
