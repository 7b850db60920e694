"""The probe reuses the client's building blocks rather than keeping copies of them."""

from __future__ import annotations

from pathlib import Path

import rawS3

PACKAGE = Path(rawS3.__file__).resolve().parent
CASTAGNOLI_REFLECTED = "0x82F63B78"
NVME_REFLECTED = "0x9A6C9329AC4BC9B5"


def _files_naming(constant: str) -> list[str]:
    return sorted(
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if constant.lower() in path.read_text(encoding="utf-8").lower()
    )


def test_each_crc_polynomial_is_written_down_in_one_module_only() -> None:
    # A second CRC implementation drifts from the first; the probe computes its checksums
    # with rawS3.checksums like the client does.
    assert _files_naming(CASTAGNOLI_REFLECTED) == ["crc.py"]
    assert _files_naming(NVME_REFLECTED) == ["crc.py"]
