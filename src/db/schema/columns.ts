import { customType } from 'drizzle-orm/pg-core';

/** bytea as Buffer on both drivers (postgres.js gives Buffer, PGlite gives Uint8Array). */
export const bytea = customType<{ data: Buffer; driverData: Uint8Array }>({
  dataType: () => 'bytea',
  toDriver: (value) => value,
  fromDriver: (value) => Buffer.from(value),
});
