"""From verdicts to the change itself: ``fix`` (the key file rewritten to the
recommendation, staged with ``--announce``), ``lint --against`` (no new access), ``design``
(a key for a new integration) and ``split`` (one key per client of a shared key)."""
