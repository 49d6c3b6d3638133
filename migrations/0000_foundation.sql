CREATE TABLE "secret_versions" (
	"environment" text NOT NULL,
	"key" text NOT NULL,
	"version" integer NOT NULL,
	"operation" text NOT NULL,
	"ciphertext" "bytea",
	"iv" "bytea",
	"tag" "bytea",
	"wrapped_key" "bytea",
	"key_provider" text,
	"length" integer,
	"fingerprint" text,
	"actor" text NOT NULL,
	"reason" text NOT NULL,
	"request_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "secret_versions_environment_key_version_pk" PRIMARY KEY("environment","key","version")
);
--> statement-breakpoint
CREATE TABLE "secrets" (
	"environment" text NOT NULL,
	"key" text NOT NULL,
	"current_version" integer DEFAULT 0 NOT NULL,
	"deleted" boolean DEFAULT false NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "secrets_environment_key_pk" PRIMARY KEY("environment","key")
);
--> statement-breakpoint
CREATE TABLE "audit_entries" (
	"seq" bigint PRIMARY KEY NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"actor" text NOT NULL,
	"action" text NOT NULL,
	"environment" text,
	"key" text,
	"version" integer,
	"request_id" text,
	"fingerprint" text,
	"detail" jsonb,
	"prev_hash" text NOT NULL,
	"hash" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "api_tokens" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"token_hash" text NOT NULL,
	"environments" text[] NOT NULL,
	"scopes" text[] NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "api_tokens_token_hash_unique" UNIQUE("token_hash")
);
--> statement-breakpoint
CREATE TABLE "keyring" (
	"name" text PRIMARY KEY NOT NULL,
	"provider" text NOT NULL,
	"wrapped" "bytea" NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "audit_entries_at_idx" ON "audit_entries" USING btree ("at");--> statement-breakpoint
CREATE INDEX "audit_entries_secret_idx" ON "audit_entries" USING btree ("environment","key");--> statement-breakpoint
CREATE INDEX "audit_entries_actor_idx" ON "audit_entries" USING btree ("actor");--> statement-breakpoint
CREATE UNIQUE INDEX "api_tokens_live_name_idx" ON "api_tokens" USING btree ("name") WHERE revoked_at is null;