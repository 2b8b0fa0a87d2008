/** Collection names the seeder uses, in order: realistic `ns:table` names of the ingest cluster. */
const NAMES = [
  'core:addresses',
  'accounts:claimStatements',
  'agent_core:agentToDo',
  'core:contract',
  'calculator:calculationParts',
  'payments:paymentSchedule',
];

export function seededCollectionNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => NAMES[i] ?? `seed:collection${i + 1}`);
}

/** Default time span of seeded records: fixed, so the data is the same for the same seed on any day. */
export const DEFAULT_SEED_FROM = Date.UTC(2025, 0, 1);
export const DEFAULT_SEED_UNTIL = Date.UTC(2026, 0, 1);
