import { describe, expect, it } from 'vitest';
import { PermanentError } from '../../src/shared/errors.js';
import type { KeyRange } from '../../src/step/ports.js';
import { checkTiling, planRanges, taskTarget, type PlannedRange } from '../../src/step/range-plan.js';

/** mulberry32: a small deterministic PRNG, so every failure names a seed that reproduces it. */
function prng(seed: number): { next: () => number; int: (lo: number, hi: number) => number } {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)) };
}

const EMPTY = Buffer.alloc(0);
const hex = (b: Buffer): string => (b.length === 0 ? '∅' : b.toString('hex'));

/** Random region boundaries: keys of 1..8 bytes, some shorter than 4 bytes, some sharing a 4-byte prefix. */
function randomRegions(seed: number): KeyRange[] {
  const random = prng(seed);
  const shape = random.int(0, 4);
  const count = shape === 0 ? 0 : shape === 1 ? random.int(1, 5) : shape === 2 ? random.int(5, 40) : random.int(100, 400);
  const keys: Buffer[] = [];
  const randomKey = (length: number): Buffer => Buffer.from(Array.from({ length }, () => random.int(0, 255)));
  while (keys.length < count) {
    const kind = random.next();
    if (kind < 0.15 && keys.length > 0) {
      // Shares its first four bytes (or all of a shorter key) with an earlier boundary.
      const base = keys[random.int(0, keys.length - 1)]!;
      const head = base.subarray(0, Math.min(4, base.length));
      keys.push(Buffer.concat([head, randomKey(random.int(0, 4))]));
    } else if (kind < 0.25) {
      keys.push(randomKey(random.int(1, 3)));
    } else if (kind < 0.3) {
      // Low or high edges of the prefix space.
      const edge = random.next() < 0.5 ? 0x00 : 0xff;
      keys.push(Buffer.concat([Buffer.alloc(random.int(1, 4), edge), randomKey(random.int(0, 4))]));
    } else {
      keys.push(randomKey(random.int(1, 8)));
    }
  }
  const sorted = keys.sort(Buffer.compare).filter((k, i, all) => i === 0 || !k.equals(all[i - 1]!));
  const bounds = [EMPTY, ...sorted, EMPTY];
  return bounds.slice(0, -1).map((startRow, i) => ({ startRow, endRow: bounds[i + 1]! }));
}

/** `a` ≤ `b` where an empty end key is +∞. */
const endLe = (a: Buffer, b: Buffer): boolean => b.length === 0 || (a.length > 0 && a.compare(b) <= 0);
const contains = (region: KeyRange, range: KeyRange): boolean => region.startRow.compare(range.startRow) <= 0 && endLe(range.endRow, region.endRow);

/** Throws (plain checks: the property test runs a few hundred thousand of them) unless the plan is right. */
function checkPlan(regions: readonly KeyRange[], target: number, planned: readonly PlannedRange[]): void {
  const fail = (why: string): never => {
    throw new Error(`target ${target}, ${regions.length} regions, ${planned.length} ranges: ${why}`);
  };
  if (planned.length === 0) fail('no ranges');
  if (planned[0]!.startRow.length !== 0) fail('the first range does not start at the first key');
  if (planned.at(-1)!.endRow.length !== 0) fail('the last range does not end at the last key');
  const seen = new Set<number>();
  planned.forEach((range, i) => {
    const where = `range ${i} [${hex(range.startRow)}, ${hex(range.endRow)}) in region ${range.region}`;
    if (range.index !== i) fail(`${where} has index ${range.index}`);
    if (i > 0 && !range.startRow.equals(planned[i - 1]!.endRow)) fail(`${where} does not start where range ${i - 1} ends (${hex(planned[i - 1]!.endRow)})`);
    if (range.endRow.length > 0 && range.startRow.compare(range.endRow) >= 0) fail(`${where} is empty or reversed`);
    if (i > 0 && range.region < planned[i - 1]!.region) fail(`${where} comes after a range of region ${planned[i - 1]!.region}`);
    const region = regions[range.region];
    if (region === undefined || !contains(region, range)) fail(`${where} is not inside its region`);
    // Regions tile the key space, so a non-empty range inside one is inside no other; the neighbours show it.
    for (const other of [range.region - 1, range.region + 1]) {
      if (regions[other] !== undefined && contains(regions[other], range)) fail(`${where} is also inside region ${other}`);
    }
    seen.add(range.region);
  });
  if (seen.size !== regions.length) fail(`only ${seen.size} regions have a range`);
  checkTiling(planned, 'planned ranges');
}

describe('planRanges', () => {
  it('tiles the key space for many random region lists and targets', () => {
    let checked = 0;
    for (let seed = 1; seed <= 400; seed += 1) {
      const regions = randomRegions(seed);
      const random = prng(seed * 7919);
      for (const target of [1, random.int(1, 200), random.int(1, 200), 200]) {
        try {
          checkPlan(regions, target, planRanges(regions, target));
        } catch (e) {
          throw new Error(`seed ${seed}: ${(e as Error).message}`, { cause: e });
        }
        checked += 1;
      }
    }
    expect(checked).toBe(1600);
  });

  it('has a checker that catches a broken plan (so the property above can fail)', () => {
    const regions = randomRegions(3);
    const planned = planRanges(regions, 50);
    expect(() => checkPlan(regions, 50, planned)).not.toThrow();
    const wrongRegion = planned.map((r, i) => (i === 1 ? { ...r, region: r.region + 1 } : r));
    expect(() => checkPlan(regions, 50, wrongRegion)).toThrow(/not inside its region|comes after/);
    const reindexed = planned.map((r, i) => (i === 1 ? { ...r, index: 7 } : r));
    expect(() => checkPlan(regions, 50, reindexed)).toThrow(/index 7/);
    const merged = [{ ...planned[0]!, region: 0, endRow: regions[1]!.endRow }, ...planned.filter((r) => r.region >= 2)];
    expect(() => checkPlan(regions, 50, merged.map((r, i) => ({ ...r, index: i })))).toThrow(/not inside its region|only/);
  });

  it('covers the generator shapes: a single region, hundreds of regions, short keys and shared prefixes', () => {
    const lists = Array.from({ length: 400 }, (_, i) => randomRegions(i + 1));
    expect(lists.some((l) => l.length === 1)).toBe(true);
    expect(lists.some((l) => l.length >= 200)).toBe(true);
    const bounds = lists.flatMap((l) => l.slice(1).map((r) => r.startRow));
    expect(bounds.some((k) => k.length < 4)).toBe(true);
    expect(bounds.some((k) => k.length === 8)).toBe(true);
    expect(lists.some((l) => l.slice(2).some((r, i) => r.startRow.length >= 4 && l[i + 1]!.startRow.length >= 4
      && r.startRow.subarray(0, 4).equals(l[i + 1]!.startRow.subarray(0, 4))))).toBe(true);
  });

  it('cuts a single region covering everything into exactly target ranges of even prefix widths', () => {
    const whole: KeyRange[] = [{ startRow: EMPTY, endRow: EMPTY }];
    for (let target = 1; target <= 200; target += 1) {
      const planned = planRanges(whole, target);
      checkPlan(whole, target, planned);
      expect(planned.length).toBe(target);
      const prefix = (k: Buffer, end: boolean): number => (k.length === 0 ? (end ? 2 ** 32 : 0) : k.readUInt32BE(0));
      for (const r of planned) {
        if (r.startRow.length > 0) expect(r.startRow.length).toBe(4);
        if (r.endRow.length > 0) expect(r.endRow.length).toBe(4);
      }
      const widths = planned.map((r) => prefix(r.endRow, true) - prefix(r.startRow, false));
      expect(widths.reduce((a, b) => a + b, 0)).toBe(2 ** 32);
      expect(Math.max(...widths) - Math.min(...widths), `target ${target}`).toBeLessThanOrEqual(1);
    }
  });

  it('gives a region inside one 4-byte prefix exactly one range, and cuts big regions in proportion', () => {
    const regions: KeyRange[] = [
      { startRow: EMPTY, endRow: Buffer.from('0000000501', 'hex') },
      { startRow: Buffer.from('0000000501', 'hex'), endRow: Buffer.from('00000005ff', 'hex') },
      { startRow: Buffer.from('00000005ff', 'hex'), endRow: Buffer.from([0x80]) },
      { startRow: Buffer.from([0x80]), endRow: EMPTY },
    ];
    const planned = planRanges(regions, 100);
    checkPlan(regions, 100, planned);
    expect(planned.filter((r) => r.region === 0)).toHaveLength(1);
    expect(planned.filter((r) => r.region === 1)).toHaveLength(1);
    expect(planned.filter((r) => r.region === 2).length).toBeGreaterThanOrEqual(49);
    expect(planned.filter((r) => r.region === 3)).toHaveLength(50);
  });

  it('refuses regions that do not tile the key space', () => {
    expect(() => planRanges([{ startRow: EMPTY, endRow: Buffer.from([1]) }], 4)).toThrow(PermanentError);
    expect(() => planRanges([], 4)).toThrow(/there are none/);
  });
});

describe('checkTiling', () => {
  const k = (...bytes: number[]): Buffer => Buffer.from(bytes);

  it('accepts a tiling', () => {
    expect(() => checkTiling([{ startRow: EMPTY, endRow: k(5) }, { startRow: k(5), endRow: EMPTY }], 'r')).not.toThrow();
    expect(() => checkTiling([{ startRow: EMPTY, endRow: EMPTY }], 'r')).not.toThrow();
  });

  it('rejects a gap', () => {
    expect(() => checkTiling([{ startRow: EMPTY, endRow: k(5) }, { startRow: k(6), endRow: EMPTY }], 'r')).toThrow(/range 1 does not start where range 0 ends/);
  });

  it('rejects an overlap', () => {
    expect(() => checkTiling([{ startRow: EMPTY, endRow: k(5) }, { startRow: k(4), endRow: EMPTY }], 'r')).toThrow(/range 1 does not start/);
    expect(() => checkTiling([
      { startRow: EMPTY, endRow: k(5) }, { startRow: k(5), endRow: k(3) }, { startRow: k(3), endRow: EMPTY },
    ], 'r')).toThrow(/range 1 is empty or reversed/);
  });

  it('rejects an empty range', () => {
    expect(() => checkTiling([{ startRow: EMPTY, endRow: k(5) }, { startRow: k(5), endRow: k(5) }, { startRow: k(5), endRow: EMPTY }], 'r')).toThrow(/empty or reversed/);
  });

  it('rejects a missing open end at either side, and no ranges', () => {
    expect(() => checkTiling([{ startRow: k(1), endRow: EMPTY }], 'r')).toThrow(/first does not start at the first key/);
    expect(() => checkTiling([{ startRow: EMPTY, endRow: k(9) }], 'r')).toThrow(/last does not end at the last key/);
    expect(() => checkTiling([], 'r')).toThrow(/there are none/);
    expect(() => checkTiling([{ startRow: EMPTY, endRow: k(9) }], 'regions')).toThrow(/^regions do not tile the key space/);
  });
});

describe('taskTarget', () => {
  it('is the executor cores times the tasks per core, at least one', () => {
    expect(taskTarget(16, 4)).toBe(64);
    expect(taskTarget(1, 1)).toBe(1);
    expect(taskTarget(0, 4)).toBe(1);
    expect(taskTarget(8, 0)).toBe(1);
  });
});
