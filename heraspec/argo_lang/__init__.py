"""The small languages heraspec borrows from Argo, each parsed in one place.

- ``depends``: Argo's enhanced depends logic (one parser: validate checks, the compiler translates
  and ``heraspec run`` evaluates the same tree);
- ``govaluate``: the ``when`` grammar of Argo v4.1.2 (github.com/Knetic/govaluate, as
  workflow/controller/steps.go ``shouldExecute`` calls it);
- ``gojson``: Go's encoding/json text (struct fields in declaration order, map keys sorted),
  ``strconv.Quote``;
- ``durations``: Argo's ``ParseStringToDuration`` (an integer of seconds, else Go's
  ``time.ParseDuration``).

This package imports nothing else of heraspec, so the document, check, compile and run stages can
all use it.
"""

class LanguageError(ValueError):
    """A malformed expression or value in one of these languages, or one that cannot be evaluated."""


# Argo's evaluators (Go) have no nesting limit; heraspec's parsers recurse once per level of
# parentheses or prefix operator. Validate refuses deeper nesting (check/dag.py too_deep), so a spec
# that validates also runs. Chains (`a && b && ... && z`) are flat and not limited.
MAX_NESTING = 64
