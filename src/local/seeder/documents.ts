import { idJsonOf, rowKeyOf } from '../../contracts/row-key.js';
import { formatIngestTimestamp } from '../../shared/time.js';
import { Random } from './random.js';

/**
 * Deterministic source records for the seeder: the same (seed, collection, index) always gives the same
 * `_id`, timestamp and document, so tests can regenerate the truth and compare decrypted output with it.
 */
export interface SeededRecord {
  readonly index: number;
  readonly id: unknown;
  readonly idJson: string;
  readonly rowKey: Buffer;
  /** Cell timestamp = `_lastModifiedDateTime`, epoch ms. */
  readonly timestamp: number;
  readonly recordType: 'MONGO_UPDATE' | 'MONGO_INSERT';
  /** The document as Mongo extended JSON text (UTF-8): what the ciphertext decrypts to. */
  readonly plaintext: string;
}

export interface RecordSpace {
  readonly seed: string | number;
  readonly collection: string;
  /** Timestamps are spread over [from, until). */
  readonly from: number;
  readonly until: number;
}

const GIVEN = ['Zoë', 'José', 'Siân', 'Łukasz', 'Aoife', 'Björn', 'Chloé', 'Dafydd', 'Mária', 'Ngozi', 'Øyvind', 'Rhiannon'];
const FAMILY = ['Müller', 'O’Brien', 'García', 'Ní Bhriain', 'Nowak', 'Smith', 'Jones', 'Dvořák', 'Öztürk', 'Evans'];
const STREETS = ['Heol y Frenhines', 'Kings Road', 'Rue de l’Église', 'Straße des 17. Juni', 'High Street', 'Ffordd Pen-y-bryn'];
const TOWNS = ['Caerdydd', 'Newcastle upon Tyne', 'Llanfairpwllgwyngyll', 'Derry/Londonderry', 'Leeds', 'Aberystwyth'];
const NOTES = [
  'Claimant called about a change of circumstances — “moved house”.',
  'Payment reissued; bank details verified ✓.',
  'Ymholiad yn Gymraeg: gofynnwyd am ohebiaeth ddwyieithog.',
  'Evidence received: tenancy agreement (2 pages), utility bill.',
  'Appointment rescheduled at the customer’s request → next week.',
];

export function seededRecord(space: RecordSpace, index: number): SeededRecord {
  const random = new Random(`${space.seed}|${space.collection}|${index}`);
  const declarationId = `${random.hex(8)}-${random.hex(4)}-${random.hex(4)}-${random.hex(4)}-${random.hex(12)}`;
  const id = index % 7 === 3 ? `${declarationId}` : { declarationId, sequence: index };
  const idJson = idJsonOf(id);
  const timestamp = space.from + Math.floor(random.next() * (space.until - space.from));
  const created = timestamp - random.int(0, 400) * 86_400_000;
  const recordType = random.next() < 0.8 ? 'MONGO_UPDATE' : 'MONGO_INSERT';
  const document = {
    _id: typeof id === 'string' ? id : { declarationId, sequence: index },
    person: {
      firstName: random.pick(GIVEN),
      lastName: random.pick(FAMILY),
      dateOfBirth: { $date: new Date(Date.UTC(random.int(1940, 2005), random.int(0, 11), random.int(1, 28))).toISOString() },
      nino: `${String.fromCharCode(65 + random.int(0, 25))}${String.fromCharCode(65 + random.int(0, 25))}${random.int(100000, 999999)}${'ABCD'[random.int(0, 3)]}`,
    },
    address: {
      lines: [`${random.int(1, 250)} ${random.pick(STREETS)}`, random.pick(TOWNS)],
      postcode: `${String.fromCharCode(65 + random.int(0, 25))}${random.int(1, 99)} ${random.int(1, 9)}${String.fromCharCode(65 + random.int(0, 25))}${String.fromCharCode(65 + random.int(0, 25))}`,
      verified: random.next() < 0.7,
    },
    amounts: Array.from({ length: random.int(1, 8) }, () => ({
      value: { $numberDecimal: (random.int(0, 5_000_000) / 100).toFixed(2) },
      period: random.pick(['WEEKLY', 'FORTNIGHTLY', 'MONTHLY']),
      paid: random.next() < 0.5,
    })),
    notes: Array.from({ length: random.int(0, 6) }, () => ({
      text: random.pick(NOTES),
      author: { $oid: random.hex(24) },
      at: { $date: formatIngestTimestamp(created + random.int(0, 1_000_000)) },
    })),
    flags: { vulnerable: random.next() < 0.1, welshLanguage: random.next() < 0.2, counter: { $numberLong: String(random.int(0, 1_000_000_000)) } },
    padding: random.hex(random.int(200, 2400)),
    createdDateTime: { $date: formatIngestTimestamp(created) },
    _lastModifiedDateTime: { $date: formatIngestTimestamp(timestamp) },
  };
  return { index, id, idJson, rowKey: rowKeyOf(idJson), timestamp, recordType, plaintext: JSON.stringify(document) };
}

export function* seededRecords(space: RecordSpace, count: number): Generator<SeededRecord> {
  for (let index = 0; index < count; index += 1) yield seededRecord(space, index);
}

const SUPERSEDED_EVERY = 10;

/**
 * Every cell version the seeder writes for one record, oldest first: one record in ten also has an older,
 * superseded version three days earlier, so readers must pick the latest version inside their window.
 */
export function seededVersions(space: RecordSpace, index: number): SeededRecord[] {
  const newest = seededRecord(space, index);
  if (index % SUPERSEDED_EVERY !== SUPERSEDED_EVERY / 2) return [newest];
  const timestamp = newest.timestamp - 3 * 86_400_000;
  const plaintext = JSON.stringify({ _id: newest.id, superseded: true, _lastModifiedDateTime: { $date: formatIngestTimestamp(timestamp) } });
  return [{ ...newest, timestamp, plaintext }, newest];
}

/** The version a scan of `[start, end)` returns for a record, if any: the newest one inside the window. */
export function versionInWindow(versions: readonly SeededRecord[], start: number, end: number): SeededRecord | undefined {
  let found: SeededRecord | undefined;
  for (const v of versions) if (v.timestamp >= start && v.timestamp < end && (found === undefined || v.timestamp > found.timestamp)) found = v;
  return found;
}
