"""``python -m mlopsctl.review.replacefacts``: the command line (see cli.py)."""

import sys

from mlopsctl.review.replacefacts.cli import main

sys.exit(main())
