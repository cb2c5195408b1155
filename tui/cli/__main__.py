import sys

from jumpdeck.tui.cli import main

sys.exit(main())
