import { pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { bytea } from './columns.js';

/**
 * Server keys (fingerprint HMAC key, audit chain key), each a data key wrapped by the key provider,
 * created once by whichever replica starts first.
 */
export const keyring = pgTable('keyring', {
  name: text('name').primaryKey(),
  provider: text('provider').notNull(),
  wrapped: bytea('wrapped').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});
