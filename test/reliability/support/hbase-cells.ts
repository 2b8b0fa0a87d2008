import { parseEnvelope, type ParsedEnvelope } from '../../../src/contracts/envelope.js';
import { HBaseRestSource } from '../../../src/hbase/rest-adapter.js';
import type { Cell } from '../../../src/step/ports.js';
import { stack } from './stack.js';

/** Every latest `cf:record` cell of a table, straight from HBase REST, with its envelope when it parses. */
export async function tableCells(collection: string): Promise<(Cell & { envelope: ParsedEnvelope | undefined })[]> {
  const hbase = new HBaseRestSource({ url: stack.hbaseRestUrl });
  try {
    const cells: (Cell & { envelope: ParsedEnvelope | undefined })[] = [];
    for (const range of await hbase.regions(collection)) {
      for await (const batch of hbase.scan({ table: collection, range, window: { start: 0, end: Number.MAX_SAFE_INTEGER } })) {
        for (const cell of batch) {
          let envelope: ParsedEnvelope | undefined;
          try {
            envelope = parseEnvelope(cell.value);
          } catch {
            envelope = undefined;
          }
          cells.push({ rowKey: Buffer.from(cell.rowKey), timestamp: cell.timestamp, value: Buffer.from(cell.value), envelope });
        }
      }
    }
    return cells;
  } finally {
    await hbase.close();
  }
}

/** Writes cells to a table as they are (the table must exist). */
export async function putCells(collection: string, cells: readonly Cell[]): Promise<void> {
  const hbase = new HBaseRestSource({ url: stack.hbaseRestUrl });
  try {
    for (let i = 0; i < cells.length; i += 20) await hbase.putCells(collection, cells.slice(i, i + 20));
  } finally {
    await hbase.close();
  }
}
