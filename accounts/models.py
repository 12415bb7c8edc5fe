"""No models: log-in failures live in django-axes' tables (see ``accounts.lockout``)."""
