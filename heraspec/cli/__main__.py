"""`python -m heraspec.cli`, the same as `heraspec`."""

import sys

from .boundary import main

sys.exit(main())
