"""Entry point for `python -m hotline_devstack` (same as the `hotline-dev` script)."""

import sys

from hotline_devstack.cli import main

sys.exit(main())
