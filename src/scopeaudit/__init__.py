"""scopeaudit: least-privilege scope audit and linter for insp.ac API keys."""

__version__ = "0.1.0"
