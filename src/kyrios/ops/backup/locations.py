"""Where backups live: the backup directory, and the second location each one is copied to — a
directory (another disk, a mounted share) or an S3-compatible bucket (`s3://bucket/prefix`)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Protocol

from kyrios.ops.backup.archive import BackupError
from kyrios.ops.backup.retention import made_at


class Location(Protocol):
    """A place holding backup files by name."""

    def put(self, path: Path) -> None: ...
    def names(self) -> list[str]: ...
    def delete(self, name: str) -> None: ...
    def describe(self) -> str: ...


class DirectoryLocation:
    """Backups as files in a directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def put(self, path: Path) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        partial = self.directory / (path.name + ".partial")
        shutil.copyfile(path, partial)
        partial.replace(self.directory / path.name)

    def names(self) -> list[str]:
        if not self.directory.is_dir():
            return []
        return sorted(p.name for p in self.directory.iterdir() if made_at(p.name) is not None)

    def delete(self, name: str) -> None:
        (self.directory / name).unlink(missing_ok=True)

    def describe(self) -> str:
        return str(self.directory)


class S3Location:
    """Backups as objects under a prefix of an S3 (or S3-compatible) bucket."""

    def __init__(self, bucket: str, prefix: str, *, endpoint_url: str | None = None) -> None:
        import boto3

        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.client: Any = boto3.client("s3", endpoint_url=endpoint_url)

    def put(self, path: Path) -> None:
        self.client.upload_file(str(path), self.bucket, self.prefix + path.name)

    def names(self) -> list[str]:
        found: list[str] = []
        for page in self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix
        ):
            for item in page.get("Contents", []):
                name = str(item["Key"])[len(self.prefix) :]
                if made_at(name) is not None:
                    found.append(name)
        return sorted(found)

    def delete(self, name: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.prefix + name)

    def describe(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"


def location(spec: str, *, s3_endpoint_url: str | None = None) -> Location:
    """The location `KYRIOS_BACKUP_COPY_TO` names."""
    if spec.startswith("s3://"):
        bucket, _, prefix = spec.removeprefix("s3://").partition("/")
        if not bucket:
            raise BackupError(f"{spec}: name a bucket, e.g. s3://my-bucket/kyrios")
        return S3Location(bucket, prefix, endpoint_url=s3_endpoint_url)
    return DirectoryLocation(Path(spec).expanduser())
