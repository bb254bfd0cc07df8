"""The ``nsmigrate`` command line: one module per command, argparse in ``main`` only."""
