CREATE TABLE "sync_state" (
	"target" text NOT NULL,
	"environment" text NOT NULL,
	"key" text NOT NULL,
	"synced_version" integer DEFAULT 0 NOT NULL,
	"synced_at" timestamp with time zone,
	"last_error" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "sync_state_target_environment_key_pk" PRIMARY KEY("target","environment","key")
);
