"""Shared plumbing of every stage: typed config, command-line parsing, atomic files, stage timings."""
