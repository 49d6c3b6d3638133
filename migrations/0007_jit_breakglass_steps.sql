CREATE TABLE "cli_logins" (
	"code_hash" text PRIMARY KEY NOT NULL,
	"poll_hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"user_id" text,
	"team_id" text,
	"confirmed_at" timestamp with time zone,
	"claimed_at" timestamp with time zone,
	CONSTRAINT "cli_logins_poll_hash_unique" UNIQUE("poll_hash")
);
--> statement-breakpoint
CREATE TABLE "access_grants" (
	"id" text PRIMARY KEY NOT NULL,
	"request_id" text NOT NULL,
	"environment" text NOT NULL,
	"keys" text[] NOT NULL,
	"user_id" text NOT NULL,
	"team_id" text,
	"granted_at" timestamp with time zone DEFAULT now() NOT NULL,
	"ends_at" timestamp with time zone NOT NULL,
	"revoked_at" timestamp with time zone,
	"revoked_by" text,
	"end_noticed_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "api_tokens" ADD COLUMN "user_id" text;--> statement-breakpoint
ALTER TABLE "api_tokens" ADD COLUMN "team_id" text;--> statement-breakpoint
ALTER TABLE "change_requests" ADD COLUMN "rollback_to" integer;--> statement-breakpoint
ALTER TABLE "change_requests" ADD COLUMN "access_keys" text[];--> statement-breakpoint
ALTER TABLE "change_requests" ADD COLUMN "access_for_ms" integer;--> statement-breakpoint
ALTER TABLE "change_requests" ADD COLUMN "break_glass" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "change_requests" ADD COLUMN "acknowledged_by" text;--> statement-breakpoint
ALTER TABLE "change_requests" ADD COLUMN "acknowledged_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "change_requests" ADD COLUMN "flagged_by" text;--> statement-breakpoint
ALTER TABLE "change_requests" ADD COLUMN "flagged_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "change_requests" ADD COLUMN "review_escalated_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "reviews" ADD COLUMN "step" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "access_grants" ADD CONSTRAINT "access_grants_request_id_change_requests_id_fk" FOREIGN KEY ("request_id") REFERENCES "public"."change_requests"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "access_grants_request_idx" ON "access_grants" USING btree ("request_id");--> statement-breakpoint
CREATE INDEX "access_grants_user_idx" ON "access_grants" USING btree ("user_id","ends_at");