"""`python -m siamlab …` runs the command-line interface."""

from siamlab.cli import main

raise SystemExit(main())
