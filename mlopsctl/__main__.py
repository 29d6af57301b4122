import sys

from mlopsctl.cli import main

sys.exit(main())
