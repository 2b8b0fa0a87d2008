/** Small numeric helpers for the benchmark: medians, rates and formatting. */

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export const fmtInt = (n: number): string => Math.round(n).toLocaleString('en-GB');
export const fmt1 = (n: number): string => n.toFixed(1);
export const pct = (ratio: number): string => `${(ratio * 100).toFixed(0)}%`;
