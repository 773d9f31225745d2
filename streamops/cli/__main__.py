"""`python -m streamops.cli ...`: the same as the `streamops` console script."""

from streamops.cli import main

main()
