"""Web views, one module per page family; URLs are in ``contacts.urls``."""
