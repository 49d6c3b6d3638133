CREATE TABLE "slack_inbox" (
	"id" text PRIMARY KEY NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"iv" "bytea",
	"payload" "bytea",
	"attempts" integer DEFAULT 0 NOT NULL,
	"lease_until" timestamp with time zone NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "slack_inbox_due_idx" ON "slack_inbox" USING btree ("status","lease_until");