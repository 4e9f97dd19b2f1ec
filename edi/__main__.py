"""``python -m edi``: the ``waybill edi`` commands."""

import sys

from edi.cli import main

sys.exit(main())
