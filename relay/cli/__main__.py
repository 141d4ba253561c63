"""`python -m relay.cli` runs the `jarshy` command."""

import sys

from relay.cli import main

sys.exit(main())
