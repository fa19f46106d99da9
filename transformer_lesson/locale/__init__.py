"""Translation tables: `locale/<lang>/<domain>.py` holds `MESSAGES = {english: translation}` (see i18n.py)."""
