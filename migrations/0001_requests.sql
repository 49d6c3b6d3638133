CREATE TABLE "change_requests" (
	"id" text PRIMARY KEY NOT NULL,
	"environment" text NOT NULL,
	"key" text NOT NULL,
	"operation" text NOT NULL,
	"status" text NOT NULL,
	"base_version" integer NOT NULL,
	"ciphertext" "bytea",
	"iv" "bytea",
	"tag" "bytea",
	"wrapped_key" "bytea",
	"key_provider" text,
	"old_length" integer,
	"old_fingerprint" text,
	"new_length" integer,
	"new_fingerprint" text,
	"requester" text NOT NULL,
	"requester_user_id" text,
	"team_id" text,
	"reason" text NOT NULL,
	"policy" jsonb NOT NULL,
	"applied_version" integer,
	"outcome" text,
	"closed_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"closed_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "request_messages" (
	"request_id" text NOT NULL,
	"channel" text NOT NULL,
	"ts" text NOT NULL,
	"audience" text NOT NULL,
	CONSTRAINT "request_messages_request_id_channel_pk" PRIMARY KEY("request_id","channel")
);
--> statement-breakpoint
CREATE TABLE "reviews" (
	"request_id" text NOT NULL,
	"reviewer" text NOT NULL,
	"decision" text NOT NULL,
	"comment" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "reviews_request_id_reviewer_pk" PRIMARY KEY("request_id","reviewer")
);
--> statement-breakpoint
ALTER TABLE "request_messages" ADD CONSTRAINT "request_messages_request_id_change_requests_id_fk" FOREIGN KEY ("request_id") REFERENCES "public"."change_requests"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reviews" ADD CONSTRAINT "reviews_request_id_change_requests_id_fk" FOREIGN KEY ("request_id") REFERENCES "public"."change_requests"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "change_requests_status_idx" ON "change_requests" USING btree ("status","expires_at");--> statement-breakpoint
CREATE UNIQUE INDEX "secret_versions_request_idx" ON "secret_versions" USING btree ("request_id") WHERE request_id is not null;