"""Resource limits for workspace file operations."""

from dataclasses import dataclass

MiB = 1024 * 1024
GiB = 1024 * MiB


@dataclass(frozen=True, slots=True)
class FileLimits:
    max_upload_bytes: int = 100 * MiB
    # Counts uncompressed file bytes, so the bound holds regardless of compressibility.
    max_zip_bytes: int = 2 * GiB
    max_zip_entries: int = 10_000
    max_tree_entries: int = 10_000
    max_depth: int = 20
