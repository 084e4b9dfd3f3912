"""``python -m escalation_sim``: the ``escalation-sim`` command."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
