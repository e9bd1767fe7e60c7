import { sql } from 'drizzle-orm'
import {
  bigint, check, customType, date, foreignKey, index, integer, jsonb, numeric, pgEnum, pgTable, primaryKey, text, timestamp, unique
} from 'drizzle-orm/pg-core'

// Enumerations are the vocabulary of docs/design.md; the API schemas import them from here
// so the database and the contract cannot drift apart.
export const regionLevels = ['national', 'province', 'prefecture', 'county', 'township'] as const
export const indicatorDomains = [
  'income', 'social-security', 'care', 'rehabilitation', 'education', 'employment',
  'culture-sports', 'accessibility', 'rights', 'governance'
] as const
export const indicatorUnits = [
  'percent', 'persons', 'person-times', 'households', 'institutions', 'sites', 'items',
  'events', 'beds', 'vehicles', 'cny-10k', 'cny'
] as const
export const aggregations = ['sum', 'ratio', 'none'] as const
export const directions = ['increase', 'decrease'] as const
// How an indicator's yearly values relate over time: `flow` amounts add up over years
// (new jobs, households retrofitted), a `stock` is a level at a date (institutions, beds),
// a `rate` a share at a date.
export const temporalNatures = ['flow', 'stock', 'rate'] as const
export const planKinds = ['five-year-plan', 'annual-work-plan', 'work-summary', 'special-action-plan'] as const
export const planStatuses = ['draft', 'in-force', 'expired', 'superseded'] as const
export const valueKinds = ['actual', 'target'] as const
export const actualStatuses = ['provisional', 'final', 'estimated'] as const
export const comparators = ['at-least', 'at-most', 'exactly'] as const
export const bindings = ['binding', 'expected'] as const
// GB/T 26341-2010 disability categories and grades.
export const categories = ['visual', 'hearing', 'speech', 'physical', 'intellectual', 'mental', 'multiple'] as const
export const grades = ['1', '2', '3', '4'] as const
export const sexes = ['male', 'female'] as const
export const areas = ['urban', 'rural'] as const

export const regionLevel = pgEnum('region_level', regionLevels)
export const indicatorDomain = pgEnum('indicator_domain', indicatorDomains)
export const indicatorUnit = pgEnum('indicator_unit', indicatorUnits)
export const aggregation = pgEnum('aggregation', aggregations)
export const direction = pgEnum('direction', directions)
export const temporalNature = pgEnum('temporal_nature', temporalNatures)
export const planKind = pgEnum('plan_kind', planKinds)
export const planStatus = pgEnum('plan_status', planStatuses)
export const valueKind = pgEnum('value_kind', valueKinds)
export const actualStatus = pgEnum('actual_status', actualStatuses)
export const comparator = pgEnum('comparator', comparators)
export const binding = pgEnum('binding', bindings)
export const disabilityCategory = pgEnum('disability_category', categories)
export const disabilityGrade = pgEnum('disability_grade', grades)
export const sex = pgEnum('sex', sexes)
export const area = pgEnum('area', areas)

/** The actor of the current write transaction (migrations/0001_actor_function.sql). */
export const currentActor = sql`registry_actor()`

const timestamps = {
  revision: integer('revision').notNull().default(1),
  /** Who made the latest revision (token id; 'anonymous' while access control is off). */
  updatedBy: text('updated_by').notNull().default(currentActor),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow()
}

export const regions = pgTable('regions', {
  code: text('code').primaryKey(),
  name: text('name').notNull(),
  nameEn: text('name_en'),
  level: regionLevel('level').notNull(),
  parentCode: text('parent_code'),
  ...timestamps
}, (t) => [
  foreignKey({ columns: [t.parentCode], foreignColumns: [t.code], name: 'regions_parent_fk' }),
  index('regions_parent_idx').on(t.parentCode, t.code),
  check('regions_code_format', sql`${t.code} ~ '^([0-9]{6}|[0-9]{9})$'`),
  check('regions_not_own_parent', sql`${t.parentCode} is distinct from ${t.code}`)
])

export const indicators = pgTable('indicators', {
  code: text('code').primaryKey(),
  name: text('name').notNull(),
  nameEn: text('name_en'),
  domain: indicatorDomain('domain').notNull(),
  unit: indicatorUnit('unit').notNull(),
  aggregation: aggregation('aggregation').notNull(),
  direction: direction('direction').notNull(),
  nature: temporalNature('nature').notNull().default('stock'),
  min: numeric('min'),
  max: numeric('max'),
  definition: text('definition'),
  numeratorLabel: text('numerator_label'),
  denominatorLabel: text('denominator_label'),
  ...timestamps
}, (t) => [
  index('indicators_domain_idx').on(t.domain, t.code),
  check('indicators_min_le_max', sql`${t.min} is null or ${t.max} is null or ${t.min} <= ${t.max}`)
])

export const plans = pgTable('plans', {
  id: text('id').primaryKey(),
  title: text('title').notNull(),
  titleEn: text('title_en'),
  kind: planKind('kind').notNull(),
  regionCode: text('region_code').notNull().references(() => regions.code),
  issuer: text('issuer'),
  documentNumber: text('document_number').unique('plans_document_number_key'),
  startYear: integer('start_year').notNull(),
  endYear: integer('end_year').notNull(),
  baselineYear: integer('baseline_year'),
  issuedOn: date('issued_on', { mode: 'string' }),
  publishedOn: date('published_on', { mode: 'string' }),
  sourceUrl: text('source_url'),
  status: planStatus('status').notNull().default('in-force'),
  parentPlanId: text('parent_plan_id'),
  ...timestamps
}, (t) => [
  foreignKey({ columns: [t.parentPlanId], foreignColumns: [t.id], name: 'plans_parent_fk' }),
  index('plans_region_idx').on(t.regionCode, t.id),
  check('plans_years_ordered', sql`${t.startYear} <= ${t.endYear}`)
])

/**
 * Targets and actuals share one table: they share the natural key except for the plan,
 * and `/v1/values/{id}` addresses both. The unique constraint treats NULLs as equal
 * (PostgreSQL 15+), so an actual (plan NULL) with no breakdown (all NULL) is one key.
 */
export const yearlyValues = pgTable('yearly_values', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  kind: valueKind('kind').notNull(),
  planId: text('plan_id').references(() => plans.id, { onDelete: 'cascade' }),
  // Region and indicator references are enforced by set-based statement triggers rather
  // than declared foreign keys (migrations/0006_set_based_feed_and_references.sql): one
  // check per distinct region and indicator of a statement instead of two per row (per-row
  // checks cost about a quarter of a bulk import's database time).
  regionCode: text('region_code').notNull(),
  indicatorCode: text('indicator_code').notNull(),
  fromYear: integer('from_year').notNull(),
  year: integer('year').notNull(),
  category: disabilityCategory('category'),
  grade: disabilityGrade('grade'),
  sex: sex('sex'),
  area: area('area'),
  value: numeric('value'),
  // actuals
  status: actualStatus('status'),
  numerator: numeric('numerator'),
  denominator: numeric('denominator'),
  asOf: date('as_of', { mode: 'string' }),
  // targets
  comparator: comparator('comparator'),
  binding: binding('binding'),
  baselineYear: integer('baseline_year'),
  baselineValue: numeric('baseline_value'),
  qualitative: text('qualitative'),
  // provenance
  source: text('source'),
  note: text('note'),
  ...timestamps
}, (t) => [
  unique('yearly_values_natural_key')
    .on(t.kind, t.planId, t.regionCode, t.indicatorCode, t.fromYear, t.year, t.category, t.grade, t.sex, t.area)
    .nullsNotDistinct(),
  index('yearly_values_series_idx').on(t.regionCode, t.indicatorCode, t.year),
  index('yearly_values_indicator_idx').on(t.indicatorCode, t.year),
  index('yearly_values_plan_idx').on(t.planId),
  // Single-year total actuals of one indicator, region after region: what rollups and
  // rankings read. The read columns are part of the key (drizzle has no INCLUDE)
  // so those reads are index-only, and a province's regions sit on a few adjacent pages.
  index('yearly_values_actual_totals_idx')
    .on(t.indicatorCode, t.regionCode, t.year, t.value, t.numerator, t.denominator, t.status, t.id)
    .where(sql`${t.kind} = 'actual' and ${t.fromYear} = ${t.year} and ${t.category} is null and ${t.grade} is null and ${t.sex} is null and ${t.area} is null`),
  check('yearly_values_period', sql`${t.fromYear} <= ${t.year}`),
  check('yearly_values_plan_kind', sql`(${t.kind} = 'target') = (${t.planId} is not null)`),
  check('yearly_values_actual_has_value', sql`${t.kind} = 'target' or ${t.value} is not null`),
  check('yearly_values_target_has_value', sql`${t.kind} = 'actual' or ${t.value} is not null or ${t.qualitative} is not null`)
])

/** PostgreSQL's 64-bit transaction id (pg_current_xact_id()). */
const xid8 = customType<{ data: string, driverData: string }>({ dataType: () => 'xid8' })

export const changeEntities = ['region', 'indicator', 'plan', 'target', 'value'] as const
export const changeOps = ['upsert', 'delete'] as const
export const changeEntity = pgEnum('change_entity', changeEntities)
export const changeOp = pgEnum('change_op', changeOps)

/**
 * The sync feed, written by statement-level triggers in the writing transaction
 * (migrations/0006_set_based_feed_and_references.sql): one row per statement and kind of
 * change, holding the keys it changed and the revision of each, so a 5,000-row import
 * writes one row, not 5,000. The feed serves one change per key (`unnest`). `txid` is
 * the writer's transaction id; the feed only serves rows whose transaction is older than
 * every transaction still running, so a late commit can never land behind a cursor.
 */
export const changes = pgTable('changes', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  txid: xid8('txid').notNull().default(sql`pg_current_xact_id()`),
  entity: changeEntity('entity').notNull(),
  op: changeOp('op').notNull(),
  /** The changed keys (code, id), and below each one's revision after the change. */
  keys: text('keys').array().notNull(),
  revisions: integer('revisions').array().notNull(),
  actor: text('actor').notNull().default(currentActor),
  at: timestamp('at', { withTimezone: true, mode: 'date' }).notNull().defaultNow()
}, (t) => [
  index('changes_cursor_idx').on(t.txid, t.id),
  check('changes_keys_revisions', sql`cardinality(${t.keys}) = cardinality(${t.revisions}) and cardinality(${t.keys}) > 0`)
])

/**
 * Superseded revisions of yearly values (the current revision is the row itself): a
 * trigger copies the old row here when a value is updated or deleted, with who replaced
 * it and when. Creates write nothing here, so bulk loads of new values stay cheap.
 */
export const valueHistory = pgTable('value_history', {
  valueId: bigint('value_id', { mode: 'number' }).notNull(),
  revision: integer('revision').notNull(),
  /** The value as it was at this revision (the row, as JSON). */
  state: jsonb('state').notNull(),
  supersededOp: changeOp('superseded_op').notNull(),
  supersededBy: text('superseded_by').notNull(),
  supersededAt: timestamp('superseded_at', { withTimezone: true, mode: 'date' }).notNull()
}, (t) => [
  primaryKey({ columns: [t.valueId, t.revision], name: 'value_history_pkey' })
])

/** Answers of bulk imports by Idempotency-Key, so a retry replays instead of re-running. */
export const idempotencyKeys = pgTable('idempotency_keys', {
  key: text('key').primaryKey(),
  requestHash: text('request_hash').notNull(),
  status: integer('status').notNull(),
  response: jsonb('response').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow()
}, (t) => [
  index('idempotency_keys_created_idx').on(t.createdAt)
])

export const tokenRoles = ['reader', 'editor', 'admin'] as const
export const tokenRole = pgEnum('token_role', tokenRoles)

/**
 * Access tokens. The secret is shown once at creation; only its keyed hash (HMAC-SHA256
 * with the service's pepper) is stored. Revoked tokens are kept, so history and the
 * changes feed can still name who made a write.
 */
export const tokens = pgTable('tokens', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  role: tokenRole('role').notNull(),
  /** Editors only: the region (and everything below it) the token may write. */
  regionCode: text('region_code').references(() => regions.code),
  secretHash: text('secret_hash').notNull(),
  createdBy: text('created_by').notNull().default(currentActor),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }),
  revokedAt: timestamp('revoked_at', { withTimezone: true, mode: 'date' })
}, (t) => [
  check('tokens_editor_has_region', sql`(${t.role} = 'editor') = (${t.regionCode} is not null)`)
])

/** Service secrets generated on first use (the token pepper when TOKEN_PEPPER is not set). */
export const serviceSecrets = pgTable('service_secrets', {
  name: text('name').primaryKey(),
  value: text('value').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow()
})

export const schema = { regions, indicators, plans, yearlyValues, changes, valueHistory, idempotencyKeys, tokens, serviceSecrets }
