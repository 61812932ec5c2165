"""`python -m heraspec.cli`, the same as `heraspec`."""

from .boundary import process_main

process_main()
