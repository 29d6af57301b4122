"""Entry point for `pulumi up --cwd incluster`: read layer 1 through a StackReference, set up the cluster."""

import sys
from pathlib import Path

# The program's code lives in the repository's components package, one folder up.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from components.incluster.program import main  # noqa: E402

main()
