DROP INDEX "audit_entries_secret_idx";--> statement-breakpoint
CREATE INDEX "audit_entries_reads_idx" ON "audit_entries" USING btree ("at","action","environment","actor","key") WHERE action in ('secret.read', 'secret.read_denied');--> statement-breakpoint
CREATE INDEX "audit_entries_grant_reads_idx" ON "audit_entries" USING btree (("detail" ->> 'grant'),"at") WHERE action = 'secret.read' and (detail ->> 'grant') is not null;--> statement-breakpoint
CREATE INDEX "change_requests_closed_idx" ON "change_requests" USING btree ("closed_at");--> statement-breakpoint
CREATE INDEX "audit_entries_secret_idx" ON "audit_entries" USING btree ("environment","key","at");