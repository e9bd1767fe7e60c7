CREATE TYPE "public"."actual_status" AS ENUM('provisional', 'final', 'estimated');--> statement-breakpoint
CREATE TYPE "public"."aggregation" AS ENUM('sum', 'ratio', 'none');--> statement-breakpoint
CREATE TYPE "public"."area" AS ENUM('urban', 'rural');--> statement-breakpoint
CREATE TYPE "public"."binding" AS ENUM('binding', 'expected');--> statement-breakpoint
CREATE TYPE "public"."comparator" AS ENUM('at-least', 'at-most', 'exactly');--> statement-breakpoint
CREATE TYPE "public"."direction" AS ENUM('increase', 'decrease');--> statement-breakpoint
CREATE TYPE "public"."disability_category" AS ENUM('visual', 'hearing', 'speech', 'physical', 'intellectual', 'mental', 'multiple');--> statement-breakpoint
CREATE TYPE "public"."disability_grade" AS ENUM('1', '2', '3', '4');--> statement-breakpoint
CREATE TYPE "public"."indicator_domain" AS ENUM('income', 'social-security', 'care', 'rehabilitation', 'education', 'employment', 'culture-sports', 'accessibility', 'rights', 'governance');--> statement-breakpoint
CREATE TYPE "public"."indicator_unit" AS ENUM('percent', 'persons', 'person-times', 'households', 'institutions', 'sites', 'items', 'events', 'beds', 'vehicles', 'cny-10k', 'cny');--> statement-breakpoint
CREATE TYPE "public"."plan_kind" AS ENUM('five-year-plan', 'annual-work-plan', 'work-summary', 'special-action-plan');--> statement-breakpoint
CREATE TYPE "public"."plan_status" AS ENUM('draft', 'in-force', 'expired', 'superseded');--> statement-breakpoint
CREATE TYPE "public"."region_level" AS ENUM('national', 'province', 'prefecture', 'county', 'township');--> statement-breakpoint
CREATE TYPE "public"."sex" AS ENUM('male', 'female');--> statement-breakpoint
CREATE TYPE "public"."value_kind" AS ENUM('actual', 'target');--> statement-breakpoint
CREATE TABLE "indicators" (
	"code" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"name_en" text,
	"domain" "indicator_domain" NOT NULL,
	"unit" "indicator_unit" NOT NULL,
	"aggregation" "aggregation" NOT NULL,
	"direction" "direction" NOT NULL,
	"min" numeric,
	"max" numeric,
	"definition" text,
	"numerator_label" text,
	"denominator_label" text,
	"revision" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "indicators_min_le_max" CHECK ("indicators"."min" is null or "indicators"."max" is null or "indicators"."min" <= "indicators"."max")
);
--> statement-breakpoint
CREATE TABLE "plans" (
	"id" text PRIMARY KEY NOT NULL,
	"title" text NOT NULL,
	"title_en" text,
	"kind" "plan_kind" NOT NULL,
	"region_code" text NOT NULL,
	"issuer" text,
	"document_number" text,
	"start_year" integer NOT NULL,
	"end_year" integer NOT NULL,
	"baseline_year" integer,
	"issued_on" date,
	"published_on" date,
	"source_url" text,
	"status" "plan_status" DEFAULT 'in-force' NOT NULL,
	"parent_plan_id" text,
	"revision" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "plans_document_number_key" UNIQUE("document_number"),
	CONSTRAINT "plans_years_ordered" CHECK ("plans"."start_year" <= "plans"."end_year")
);
--> statement-breakpoint
CREATE TABLE "regions" (
	"code" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"name_en" text,
	"level" "region_level" NOT NULL,
	"parent_code" text,
	"revision" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "regions_code_format" CHECK ("regions"."code" ~ '^([0-9]{6}|[0-9]{9})$'),
	CONSTRAINT "regions_not_own_parent" CHECK ("regions"."parent_code" is distinct from "regions"."code")
);
--> statement-breakpoint
CREATE TABLE "yearly_values" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "yearly_values_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"kind" "value_kind" NOT NULL,
	"plan_id" text,
	"region_code" text NOT NULL,
	"indicator_code" text NOT NULL,
	"from_year" integer NOT NULL,
	"year" integer NOT NULL,
	"category" "disability_category",
	"grade" "disability_grade",
	"sex" "sex",
	"area" "area",
	"value" numeric,
	"status" "actual_status",
	"numerator" numeric,
	"denominator" numeric,
	"as_of" date,
	"comparator" "comparator",
	"binding" "binding",
	"baseline_year" integer,
	"baseline_value" numeric,
	"qualitative" text,
	"source" text,
	"note" text,
	"revision" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "yearly_values_natural_key" UNIQUE NULLS NOT DISTINCT("kind","plan_id","region_code","indicator_code","from_year","year","category","grade","sex","area"),
	CONSTRAINT "yearly_values_period" CHECK ("yearly_values"."from_year" <= "yearly_values"."year"),
	CONSTRAINT "yearly_values_plan_kind" CHECK (("yearly_values"."kind" = 'target') = ("yearly_values"."plan_id" is not null)),
	CONSTRAINT "yearly_values_actual_has_value" CHECK ("yearly_values"."kind" = 'target' or "yearly_values"."value" is not null),
	CONSTRAINT "yearly_values_target_has_value" CHECK ("yearly_values"."kind" = 'actual' or "yearly_values"."value" is not null or "yearly_values"."qualitative" is not null)
);
--> statement-breakpoint
ALTER TABLE "plans" ADD CONSTRAINT "plans_region_code_regions_code_fk" FOREIGN KEY ("region_code") REFERENCES "public"."regions"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "plans" ADD CONSTRAINT "plans_parent_fk" FOREIGN KEY ("parent_plan_id") REFERENCES "public"."plans"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "regions" ADD CONSTRAINT "regions_parent_fk" FOREIGN KEY ("parent_code") REFERENCES "public"."regions"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "yearly_values" ADD CONSTRAINT "yearly_values_plan_id_plans_id_fk" FOREIGN KEY ("plan_id") REFERENCES "public"."plans"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "yearly_values" ADD CONSTRAINT "yearly_values_region_code_regions_code_fk" FOREIGN KEY ("region_code") REFERENCES "public"."regions"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "yearly_values" ADD CONSTRAINT "yearly_values_indicator_code_indicators_code_fk" FOREIGN KEY ("indicator_code") REFERENCES "public"."indicators"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "indicators_domain_idx" ON "indicators" USING btree ("domain","code");--> statement-breakpoint
CREATE INDEX "plans_region_idx" ON "plans" USING btree ("region_code","id");--> statement-breakpoint
CREATE INDEX "regions_parent_idx" ON "regions" USING btree ("parent_code","code");--> statement-breakpoint
CREATE INDEX "yearly_values_series_idx" ON "yearly_values" USING btree ("region_code","indicator_code","year");--> statement-breakpoint
CREATE INDEX "yearly_values_indicator_idx" ON "yearly_values" USING btree ("indicator_code","year");--> statement-breakpoint
CREATE INDEX "yearly_values_plan_idx" ON "yearly_values" USING btree ("plan_id");