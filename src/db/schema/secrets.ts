import { sql } from 'drizzle-orm';
import { boolean, integer, pgTable, primaryKey, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { SECRET_OPERATIONS, type SecretOperation } from '../../domain/vocabulary.js';
import { bytea } from './columns.js';

// The list lives in the vocabulary (the CLI and the Slack modal offer it too); exported here for the queries.
export { SECRET_OPERATIONS, type SecretOperation };

/** The head of each secret: which version is current. Row-locked for check-and-set writes. */
export const secrets = pgTable(
  'secrets',
  {
    environment: text('environment').notNull(),
    key: text('key').notNull(),
    currentVersion: integer('current_version').notNull().default(0),
    deleted: boolean('deleted').notNull().default(false),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.environment, t.key] })],
);

/** Every version ever written; a delete is a tombstone with no ciphertext. Never updated. */
export const secretVersions = pgTable(
  'secret_versions',
  {
    environment: text('environment').notNull(),
    key: text('key').notNull(),
    version: integer('version').notNull(),
    operation: text('operation', { enum: SECRET_OPERATIONS }).notNull(),
    ciphertext: bytea('ciphertext'),
    iv: bytea('iv'),
    tag: bytea('tag'),
    wrappedKey: bytea('wrapped_key'),
    keyProvider: text('key_provider'),
    length: integer('length'),
    fingerprint: text('fingerprint'),
    actor: text('actor').notNull(),
    reason: text('reason').notNull(),
    requestId: text('request_id'),
    /** HMAC over the row's identity, origin and sealed bytes under a server key (crypto/version-mac.ts). */
    mac: text('mac'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.environment, t.key, t.version] }),
    // A request writes at most one version, whatever clicks, retries or replicas do.
    uniqueIndex('secret_versions_request_idx').on(t.requestId).where(sql`request_id is not null`),
  ],
);
