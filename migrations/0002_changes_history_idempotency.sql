CREATE TYPE "public"."change_entity" AS ENUM('region', 'indicator', 'plan', 'target', 'value');--> statement-breakpoint
CREATE TYPE "public"."change_op" AS ENUM('upsert', 'delete');--> statement-breakpoint
CREATE TABLE "changes" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "changes_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"txid" "xid8" DEFAULT pg_current_xact_id() NOT NULL,
	"entity" "change_entity" NOT NULL,
	"key" text NOT NULL,
	"op" "change_op" NOT NULL,
	"revision" integer NOT NULL,
	"actor" text DEFAULT registry_actor() NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "idempotency_keys" (
	"key" text PRIMARY KEY NOT NULL,
	"request_hash" text NOT NULL,
	"status" integer NOT NULL,
	"response" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "value_history" (
	"value_id" bigint NOT NULL,
	"revision" integer NOT NULL,
	"state" jsonb NOT NULL,
	"superseded_op" "change_op" NOT NULL,
	"superseded_by" text NOT NULL,
	"superseded_at" timestamp with time zone NOT NULL,
	CONSTRAINT "value_history_pkey" PRIMARY KEY("value_id","revision")
);
--> statement-breakpoint
ALTER TABLE "indicators" ADD COLUMN "updated_by" text DEFAULT registry_actor() NOT NULL;--> statement-breakpoint
ALTER TABLE "plans" ADD COLUMN "updated_by" text DEFAULT registry_actor() NOT NULL;--> statement-breakpoint
ALTER TABLE "regions" ADD COLUMN "updated_by" text DEFAULT registry_actor() NOT NULL;--> statement-breakpoint
ALTER TABLE "yearly_values" ADD COLUMN "updated_by" text DEFAULT registry_actor() NOT NULL;--> statement-breakpoint
CREATE INDEX "changes_cursor_idx" ON "changes" USING btree ("txid","id");--> statement-breakpoint
CREATE INDEX "idempotency_keys_created_idx" ON "idempotency_keys" USING btree ("created_at");