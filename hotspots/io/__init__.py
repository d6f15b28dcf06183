"""Input and output: every reader of input files, the config sections that describe them, and the writers."""
