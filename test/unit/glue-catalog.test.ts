import { describe, expect, it } from 'vitest';
import { CATALOG_COLUMNS, publishedRunsIn } from '../../src/sink/glue-catalog.js';

describe('Glue catalog: which folders are published runs', () => {
  const prefix = 'incremental/core_contract';
  it('takes only run folders holding a manifest directly, each once, sorted', () => {
    const keys = [
      `${prefix}/20261125-1130_b/part-x-00001.parquet`,
      `${prefix}/20261125-1130_b/_manifest.json`,
      `${prefix}/20261125-1030_a/_manifest.json`,
      `${prefix}/20261125-1030_a/_SUCCESS`,
      // Unpublished (parts only), a legacy name, a nested manifest, another collection sharing the prefix start.
      `${prefix}/20261125-1230_c/part-y-00001.parquet`,
      `${prefix}/20261125-1330_d/manifest.json`,
      `${prefix}/20261125-1430_e/_quarantine/_manifest.json`,
      `${prefix}_history/20261125-1030_f/_manifest.json`,
    ];
    expect(publishedRunsIn(keys, prefix)).toEqual(['20261125-1030_a', '20261125-1130_b']);
  });

  it('declares the output columns with Hive types (the timestamp as timestamp)', () => {
    expect(CATALOG_COLUMNS.map((c) => `${c.Name} ${c.Type}`)).toEqual([
      'id string', 'timestamp timestamp', 'record string', 'db string', 'collection string', 'row_key string', 'record_type string',
    ]);
  });
});
