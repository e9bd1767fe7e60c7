CREATE TYPE "public"."token_role" AS ENUM('reader', 'editor', 'admin');--> statement-breakpoint
CREATE TABLE "service_secrets" (
	"name" text PRIMARY KEY NOT NULL,
	"value" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "tokens" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"role" "token_role" NOT NULL,
	"region_code" text,
	"secret_hash" text NOT NULL,
	"created_by" text DEFAULT registry_actor() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "tokens_editor_has_region" CHECK (("tokens"."role" = 'editor') = ("tokens"."region_code" is not null))
);
--> statement-breakpoint
ALTER TABLE "tokens" ADD CONSTRAINT "tokens_region_code_regions_code_fk" FOREIGN KEY ("region_code") REFERENCES "public"."regions"("code") ON DELETE no action ON UPDATE no action;