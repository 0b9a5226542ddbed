"""Files of the ``shared/`` folder beside the repository (specifications, the public DSK sample).

CI clones the repository into a folder with ``shared/`` next to it, so the folder is found relative to this
file, never at an absolute path of one machine. A test that needs a missing shared file fails (it does not
skip): a test that skips in CI is a test that does not exist.
"""

from __future__ import annotations

from pathlib import Path

import pytest

#: ``<repository>/../shared``
SHARED_DIR = (Path(__file__).resolve().parents[1] / ".." / "shared").resolve()
#: The public DSK sample: 16 records, 519,319 yen.
PUBLIC_SAMPLE = SHARED_DIR / "samples" / "dsk_csv" / "public-sample.utf8.csv"


def shared_file(path: Path) -> Path:
    """``path`` (a file under :data:`SHARED_DIR`), failing the test when it is not there."""
    if not path.is_file():
        pytest.fail(
            f"{path} is missing: check out the shared folder beside the repository ({SHARED_DIR})",
            pytrace=False,
        )
    return path
