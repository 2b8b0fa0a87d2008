"""Rewrites one Parquet file's rows with Snappy and ZSTD levels 1-3 (pyarrow), timing each encode's CPU.

Used by bench/compression.ts: the sink's writer has no ZSTD level setting (it writes level 1), so the levels are
compared with pyarrow on the same rows, dictionary off for the unique columns as the sink writes them.
Prints a JSON list of {codec, path, cpuMs}.
"""
import io
import json
import sys
import time

import pyarrow.parquet as pq

source, out_dir, name, repeat = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
table = pq.read_table(source)
results = []
for codec, level in [("snappy", None), ("zstd", 1), ("zstd", 2), ("zstd", 3)]:
    samples = []
    body = b""
    for _ in range(repeat):
        sink = io.BytesIO()
        start = time.process_time()
        pq.write_table(table, sink, compression=codec, compression_level=level,
                       use_dictionary=["db", "collection", "record_type"], write_statistics=["id", "timestamp", "db", "collection", "row_key", "record_type"])
        samples.append((time.process_time() - start) * 1000)
        body = sink.getvalue()
    label = codec if level is None else f"{codec} (level {level})"
    path = f"{out_dir}/{name}-pyarrow-{codec}{'' if level is None else level}.parquet"
    with open(path, "wb") as f:
        f.write(body)
    results.append({"codec": label, "path": path, "cpuMs": sorted(samples)[len(samples) // 2]})
print(json.dumps(results))
