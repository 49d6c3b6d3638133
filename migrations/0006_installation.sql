CREATE TABLE "installation" (
	"id" smallint PRIMARY KEY DEFAULT 1 NOT NULL,
	"first_started_at" timestamp with time zone NOT NULL,
	CONSTRAINT "installation_single_row" CHECK ("installation"."id" = 1)
);
