import { ConfigError } from '../shared/errors.js';
import type { CollectionConfig } from '../shared/types.js';
import { collectionConfig, namePartProblem } from './collection-name.js';
import { parsePythonLiteral, PythonLiteralError, type PyDict, type PyValue } from './python-literal.js';
import { toPythonLiteral } from './python-repr.js';

/**
 * The collections configuration (DESIGN.md §3.4). The legacy secret's SecretString is base64 of a Python
 * literal: `{'collections_all': {'db.core.addresses': {'db': 'core', 'table': 'addresses', 'pii': 'true'}}}`.
 * Plain JSON of the same shape is accepted too, base64-encoded or not.
 */

/** Parses a SecretString; `secretId` names the secret in every error. Collections keep the secret's order. */
export function parseCollectionsSecret(secretText: string, secretId: string): CollectionConfig[] {
  const fail = (what: string, entry?: string): never => {
    throw new ConfigError(`collections secret ${secretId}${entry === undefined ? '' : `, entry ${JSON.stringify(entry)}`}: ${what}`, {
      context: { secretId, entry },
    });
  };
  const root = parseDocument(decodeText(secretText, fail), fail);
  if (!isDict(root) || !Object.hasOwn(root, 'collections_all')) fail("the top level must be a dict with a 'collections_all' key");
  const all = (root as PyDict).collections_all;
  if (!isDict(all)) return fail("'collections_all' must be a dict of entries");
  const result: CollectionConfig[] = [];
  const seen = new Map<string, string>();
  const flats = new Map<string, string>();
  for (const [key, entry] of Object.entries(all)) {
    if (!isDict(entry)) fail("must be a dict with 'db', 'table' and 'pii'", key);
    const fields = entry as PyDict;
    const db = requireName(fields, 'db', (what) => fail(what, key));
    const table = requireName(fields, 'table', (what) => fail(what, key));
    const config = collectionConfig(db, table, parsePii(fields.pii, (what) => fail(what, key)));
    const previous = seen.get(config.name);
    if (previous !== undefined) fail(`names the same collection ${config.name} as entry ${JSON.stringify(previous)}`, key);
    seen.set(config.name, key);
    // `a_b:c` and `a:b_c` (or `Core:x` and `core:x`) are different tables with one `<db>_<table>` spelling:
    // the Athena table name, and the output folder before it was made injective. Refuse the pair.
    const flat = `${config.db}_${config.table}`.toLowerCase();
    const sharing = flats.get(flat);
    if (sharing !== undefined) fail(`and entry ${JSON.stringify(sharing)} both spell ${flat} as <db>_<table> (their Athena table and legacy output folder): rename one of them`, key);
    flats.set(flat, key);
    result.push(config);
  }
  return result;
}

/** The legacy format, as the seeder writes it: base64 of a Python literal, entries keyed `db.<db>.<table>`. */
export function encodeLegacySecret(collections: readonly Pick<CollectionConfig, 'db' | 'table' | 'pii'>[]): string {
  const all: PyDict = {};
  for (const c of collections) {
    all[`db.${c.db}.${c.table}`] = { db: c.db, table: c.table, pii: c.pii ? 'true' : 'false' };
  }
  return Buffer.from(toPythonLiteral({ collections_all: all }), 'utf8').toString('base64');
}

type Fail = (what: string) => never;

/** The secret may be the document itself or base64 of it (the legacy form). */
function decodeText(secretText: string, fail: Fail): string {
  const text = secretText.trim();
  if (text.startsWith('{')) return text;
  const compact = text.replace(/\s+/g, '');
  if (compact === '' || !/^[A-Za-z0-9+/]+={0,2}$/.test(compact) || compact.length % 4 === 1) {
    return fail('is neither a JSON or Python-literal dict nor base64 of one');
  }
  let decoded: string;
  try {
    decoded = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(compact, 'base64'));
  } catch {
    return fail('is base64 but does not decode to UTF-8 text');
  }
  if (!decoded.trim().startsWith('{')) fail('decodes from base64 to something that is not a dict');
  return decoded.trim();
}

function parseDocument(text: string, fail: Fail): PyValue {
  try {
    return JSON.parse(text) as PyValue;
  } catch {
    // Not JSON: the legacy Python literal.
  }
  try {
    return parsePythonLiteral(text);
  } catch (error) {
    if (error instanceof PythonLiteralError) return fail(`is neither JSON nor a valid Python literal: ${error.message}`);
    throw error;
  }
}

function requireName(fields: PyDict, field: 'db' | 'table', fail: Fail): string {
  const value = fields[field];
  if (typeof value !== 'string') return fail(`'${field}' must be a string (got ${describe(value)})`);
  const problem = namePartProblem(value);
  if (problem !== undefined) fail(`'${field}' ${problem}`);
  return value;
}

/** `'true'` / `'false'` (any case) or a boolean. Absent means true: the safe side for personal data. */
function parsePii(value: PyValue | undefined, fail: Fail): boolean {
  if (value === undefined || value === true || value === false) return value ?? true;
  if (typeof value === 'string') {
    const text = value.trim().toLowerCase();
    if (text === 'true') return true;
    if (text === 'false') return false;
  }
  return fail(`'pii' must be 'true' or 'false' (got ${describe(value)})`);
}

function isDict(value: PyValue | undefined): value is PyDict {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function describe(value: PyValue | undefined): string {
  if (value === undefined) return 'nothing';
  return typeof value === 'string' ? JSON.stringify(value) : toPythonLiteral(value);
}
