import { describe, expect, it } from 'vitest';
import { collectionFromName, selectCollections } from '../../src/collections/collection-name.js';
import { encodeLegacySecret, parseCollectionsSecret } from '../../src/collections/collections-secret.js';
import { ConfigError } from '../../src/shared/errors.js';

const SECRET = '/intraday/collections';
const LEGACY_TEXT =
  "{'collections_all': {" +
  "'db.core.addresses': {'db': 'core', 'table': 'addresses', 'pii': 'true'}, " +
  "'db.agent-core.agent.ToDo': {'db': 'agent-core', 'table': 'agent.ToDo', 'pii': 'False'}, " +
  "'db.calc.parts': {'db': 'calc', 'table': 'parts', 'pii': False}}}";
const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('parseCollectionsSecret', () => {
  const expected = [
    { name: 'core:addresses', db: 'core', table: 'addresses', pii: true },
    { name: 'agent_core:agent_ToDo', db: 'agent_core', table: 'agent_ToDo', pii: false },
    { name: 'calc:parts', db: 'calc', table: 'parts', pii: false },
  ];

  it('reads the legacy form: base64 of a Python literal, with HBase names (- and . become _)', () => {
    expect(parseCollectionsSecret(b64(LEGACY_TEXT), SECRET)).toEqual(expected);
  });

  it('reads the same Python literal without base64, and base64 split over lines', () => {
    expect(parseCollectionsSecret(LEGACY_TEXT, SECRET)).toEqual(expected);
    expect(parseCollectionsSecret(b64(LEGACY_TEXT).replace(/(.{60})/g, '$1\n'), SECRET)).toEqual(expected);
  });

  it('reads plain JSON of the same shape, base64-encoded or not', () => {
    const json = JSON.stringify({ collections_all: { 'db.core.addresses': { db: 'core', table: 'addresses', pii: true } } });
    const one = [{ name: 'core:addresses', db: 'core', table: 'addresses', pii: true }];
    expect(parseCollectionsSecret(json, SECRET)).toEqual(one);
    expect(parseCollectionsSecret(b64(json), SECRET)).toEqual(one);
  });

  it('treats a missing pii as true, the safe side', () => {
    expect(parseCollectionsSecret("{'collections_all': {'x': {'db': 'a', 'table': 'b'}}}", SECRET)[0]?.pii).toBe(true);
  });

  it('names the secret, the entry and the problem in its errors', () => {
    const bad = "{'collections_all': {'db.core.addresses': {'db': 'core', 'table': 'addresses', 'pii': 'maybe'}}}";
    const error = configError(() => parseCollectionsSecret(b64(bad), SECRET));
    expect(error.message).toBe(`collections secret ${SECRET}, entry "db.core.addresses": 'pii' must be 'true' or 'false' (got "maybe")`);
    expect(error.context).toMatchObject({ secretId: SECRET, entry: 'db.core.addresses' });
  });

  it.each([
    ["{'collections_all': {'e': {'db': 'core', 'pii': 'true'}}}", `entry "e": 'table' must be a string (got nothing)`],
    ["{'collections_all': {'e': {'db': 'co re', 'table': 't'}}}", `entry "e": 'db' "co re" may hold only letters, digits, '_', '-' and '.'`],
    ["{'collections_all': {'e': {'db': 'a', 'table': ''}}}", `entry "e": 'table' is empty`],
    ["{'collections_all': {'e': ['a']}}", `entry "e": must be a dict with 'db', 'table' and 'pii'`],
    ["{'collections_all': {'e': {'db': 'a-b', 'table': 't'}, 'f': {'db': 'a.b', 'table': 't'}}}", `entry "f": names the same collection a_b:t as entry "e"`],
    ["{'collections': {}}", `: the top level must be a dict with a 'collections_all' key`],
    ["{'collections_all': []}", `: 'collections_all' must be a dict of entries`],
    ["{'collections_all': {'e': {'db': true}}}", `: is neither JSON nor a valid Python literal: unexpected name "true" (Python spells it True) at line 1, column 34`],
    ['not a secret!', ': is neither a JSON or Python-literal dict nor base64 of one'],
    [b64('[1, 2]'), ': decodes from base64 to something that is not a dict'],
    [Buffer.from([0xff, 0xfe, 0xfd]).toString('base64'), ': is base64 but does not decode to UTF-8 text'],
  ])('rejects %j', (text, message) => {
    expect(configError(() => parseCollectionsSecret(text, SECRET)).message).toBe(`collections secret ${SECRET}${message.startsWith(':') ? '' : ', '}${message}`);
  });
});

describe('encodeLegacySecret', () => {
  it('writes base64 of the Python literal the legacy readers expect', () => {
    const text = Buffer.from(encodeLegacySecret([{ db: 'core', table: 'addresses', pii: true }]), 'base64').toString('utf8');
    expect(text).toBe("{'collections_all': {'db.core.addresses': {'db': 'core', 'table': 'addresses', 'pii': 'true'}}}");
  });

  it('round-trips through parseCollectionsSecret', () => {
    const collections = [
      { name: 'core:addresses', db: 'core', table: 'addresses', pii: true },
      { name: 'agent_core:agentToDo', db: 'agent_core', table: 'agentToDo', pii: false },
    ];
    expect(parseCollectionsSecret(encodeLegacySecret(collections), SECRET)).toEqual(collections);
  });
});

describe('collectionFromName', () => {
  it('builds a pii collection from ns:table, with HBase names', () => {
    expect(collectionFromName('agent-core:to.do')).toEqual({ name: 'agent_core:to_do', db: 'agent_core', table: 'to_do', pii: true });
  });

  it.each(['addresses', 'a:b:c', ':t', 'ns:', 'ns:ta ble'])('rejects %j', (name) => {
    expect(configError(() => collectionFromName(name)).context).toEqual({ collection: name });
  });
});

describe('selectCollections', () => {
  const configured = [
    { name: 'core:addresses', db: 'core', table: 'addresses', pii: false },
    { name: 'calc:parts', db: 'calc', table: 'parts', pii: false },
  ];

  it('takes every configured collection when none is requested', () => {
    expect(selectCollections(configured)).toEqual(configured);
  });

  it('takes requested collections from the configuration, else from their names with pii true', () => {
    expect(selectCollections(configured, ['calc:parts', 'new:one', 'calc:parts'])).toEqual([
      configured[1],
      { name: 'new:one', db: 'new', table: 'one', pii: true, configured: false },
    ]);
  });
});
