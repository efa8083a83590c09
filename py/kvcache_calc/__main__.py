"""`python -m kvcache_calc`: the CLI."""

import sys

from .cli import main

sys.exit(main())
