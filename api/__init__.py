"""The public JSON API (Interakt-compatible), mounted at ``/v1/public/``."""
