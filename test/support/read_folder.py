"""Reads one run folder as an outside reader does: pyarrow's dataset discovery over the folder's Parquet files.

usage: read_folder.py BUCKET FOLDER
Reads AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_REGION from the environment (moto's S3
on the local stack). Prints one JSON object: the files pyarrow found and the `id` of every row it read. pyarrow
skips names starting with `_` or `.` (as Spark, Hive and Athena do), so `_manifest.json`, `_SUCCESS` and
`_quarantine/` are not data; every other object under the folder is. Rows are never printed, only their ids.
"""
import json
import os
import sys
from urllib.parse import urlparse

import pyarrow.dataset as ds
import pyarrow.fs as pafs


def main() -> None:
    bucket, folder = sys.argv[1], sys.argv[2].rstrip("/")
    endpoint = urlparse(os.environ["AWS_ENDPOINT_URL"])
    fs = pafs.S3FileSystem(
        endpoint_override=endpoint.netloc,
        scheme=endpoint.scheme,
        access_key=os.environ["AWS_ACCESS_KEY_ID"],
        secret_key=os.environ["AWS_SECRET_ACCESS_KEY"],
        region=os.environ.get("AWS_REGION", "eu-west-2"),
        allow_bucket_creation=False,
    )
    dataset = ds.dataset(f"{bucket}/{folder}", filesystem=fs, format="parquet")
    ids = dataset.to_table(columns=["id"]).column("id").to_pylist()
    files = [path[len(bucket) + 1:] for path in dataset.files]
    json.dump({"files": sorted(files), "ids": ids}, sys.stdout)


if __name__ == "__main__":
    main()
