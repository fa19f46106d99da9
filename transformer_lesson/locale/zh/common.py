"""Chinese for the shared core: the checkers' machinery (checks/_core.py), notebook helpers, drawing."""

MESSAGES: dict[str, str] = {
}
