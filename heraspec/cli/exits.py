"""The exit codes of `heraspec`, and where an internal error asks to be reported."""

EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
REPORT_URL = "https://github.com/heraspec/heraspec/issues"
