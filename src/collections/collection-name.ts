import { ConfigError } from '../shared/errors.js';
import type { CollectionConfig, CollectionName } from '../shared/types.js';

/**
 * Collection names as HBase spells them: `<namespace>:<table>`, where `-` and `.` of the Mongo database and
 * collection names become `_` (DESIGN.md §3.1). Every `CollectionConfig` carries the HBase spelling in
 * `db` and `table` too, so a collection named in the secret and the same one named on the command line
 * (`core:addresses`) are the same object.
 */
const PART = /^[A-Za-z0-9_]+$/;

/** `agent-core` → `agent_core`, `claim.statements` → `claim_statements`. Idempotent. */
export function hbaseName(part: string): string {
  return part.replace(/[-.]/g, '_');
}

/** Why a namespace or table name cannot be an HBase name, or undefined when it can. */
export function namePartProblem(part: string): string | undefined {
  if (part === '') return 'is empty';
  if (!PART.test(hbaseName(part))) return `${JSON.stringify(part)} may hold only letters, digits, '_', '-' and '.'`;
  return undefined;
}

export function collectionConfig(db: string, table: string, pii: boolean): CollectionConfig {
  const ns = hbaseName(db);
  const qualifier = hbaseName(table);
  return { name: `${ns}:${qualifier}`, db: ns, table: qualifier, pii };
}

/**
 * A collection named on the command line (`ns:table`) that the collections secret does not list. Its `pii`
 * flag is unknown, so it defaults to true: tagging non-PII data as PII only restricts access, while the
 * opposite would expose personal data.
 */
export function collectionFromName(name: string, pii = true): CollectionConfig {
  const parts = name.trim().split(':');
  if (parts.length !== 2) {
    throw new ConfigError(`collection ${JSON.stringify(name)} is not of the form <namespace>:<table>, e.g. core:addresses`, {
      context: { collection: name },
    });
  }
  const [db, table] = parts as [string, string];
  for (const [what, part] of [['namespace', db], ['table', table]] as const) {
    const problem = namePartProblem(part);
    if (problem !== undefined) {
      throw new ConfigError(`collection ${JSON.stringify(name)}: the ${what} ${problem}`, { context: { collection: name } });
    }
  }
  return collectionConfig(db, table, pii);
}

/**
 * The collections a run works on: all configured ones when none are requested; otherwise the requested
 * names, each taken from the configuration when listed there, else built from its name (pii: true).
 */
export function selectCollections(configured: readonly CollectionConfig[], requested?: readonly string[]): CollectionConfig[] {
  if (requested === undefined || requested.length === 0) return [...configured];
  const byName = new Map(configured.map((c) => [c.name, c]));
  const chosen = new Map<CollectionName, CollectionConfig>();
  for (const name of requested) {
    const wanted = collectionFromName(name);
    chosen.set(wanted.name, byName.get(wanted.name) ?? { ...wanted, configured: false });
  }
  return [...chosen.values()];
}

/**
 * A trigger event (the Lambda's input) may name only configured collections: the event is the least trusted
 * input, and `hbase:meta,otherteam:payroll` would otherwise be decrypted into the output bucket. An operator's
 * `run` / `reprocess` still takes any table (its summary says it is not configured).
 */
export function requireConfigured(configured: readonly CollectionConfig[], requested: readonly string[], secretId: string): void {
  const known = new Set(configured.map((c) => c.name));
  const unknown = requested.filter((name) => !known.has(collectionFromName(name).name));
  if (unknown.length === 0) return;
  throw new ConfigError(
    `trigger event names ${unknown.map((n) => JSON.stringify(n)).join(', ')}, not in the collections secret ${secretId}: ` +
      'an event may name only configured collections. Fix: add them to the secret, or run them by hand with `ingest-replica run --collections`',
    { context: { collections: unknown.join(','), secretId } },
  );
}
