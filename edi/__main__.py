"""``python -m edi``: the ``waybill edi`` commands."""

import sys

from waybill.edi.cli import main

sys.exit(main())
