"""Chinese (简体中文) tables, one module per domain; the terms follow docs/terminology.md."""
