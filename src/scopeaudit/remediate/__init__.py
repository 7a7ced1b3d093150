"""From verdicts to the change itself: ``fix`` (the key file rewritten to the
recommendation), ``lint --against`` (no new access) and ``design`` (a key for a new
integration)."""
