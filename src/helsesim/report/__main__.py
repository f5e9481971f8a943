"""``python -m helsesim.report PATH``: the same as ``helsesim-report PATH``."""

import sys

from helsesim.report.command import main

sys.exit(main())
