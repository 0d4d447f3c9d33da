"""Entry point for `python -m loader`."""

import sys

from loader.cli import main

sys.exit(main())
