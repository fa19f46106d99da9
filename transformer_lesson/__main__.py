"""`python -m transformer_lesson translate "I am a student"`: the capstone's command (capstone/cli.py)."""
import sys

from .capstone.cli import main

if __name__ == "__main__":
    sys.exit(main())
