"""``python -m rawS3``: the ``raws3`` command line (see ``rawS3.cli``)."""

import sys

from rawS3.cli import main

if __name__ == "__main__":
    sys.exit(main())
