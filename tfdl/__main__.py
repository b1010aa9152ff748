"""`python -m tfdl ...` is the `tfdl` command."""

import sys

from tfdl.harness.cli import main

sys.exit(main())
