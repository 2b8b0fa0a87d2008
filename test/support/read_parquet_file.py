"""Reads one local Parquet file with pyarrow, as an outside reader does, and prints it as JSON.

usage: read_parquet_file.py FILE
Prints {"schema": {column: arrow type}, "rows": [{column: value}], "statistics": {column: [min, max] | null}}.
Timestamps are printed as epoch milliseconds. Only synthetic test rows are read with it.
"""
import json
import sys

import pyarrow.parquet as pq


def plain(value):
    if hasattr(value, "timestamp"):
        return round(value.timestamp() * 1000)
    return value


def main() -> None:
    path = sys.argv[1]
    file = pq.ParquetFile(path)
    table = file.read()
    schema = {field.name: str(field.type) for field in table.schema}
    rows = [{k: plain(v) for k, v in row.items()} for row in table.to_pylist()]
    group = file.metadata.row_group(0)
    statistics = {}
    for i in range(group.num_columns):
        column = group.column(i)
        stats = column.statistics
        statistics[column.path_in_schema] = (
            [plain(stats.min), plain(stats.max)] if stats is not None and stats.has_min_max else None
        )
    print(json.dumps({"schema": schema, "rows": rows, "statistics": statistics}))


if __name__ == "__main__":
    main()
