#!/usr/bin/env python3
"""Writes N rows of random answers to the demonstration activation instrument, the input for
the `alongside score` benchmark: `python3 bench/make_responses.py 1000000 > responses.csv`."""
import random
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
random.seed(1)
items = [f"demo-{i:02d}" for i in range(1, 14)]
codes, weights = ["1", "2", "3", "4", "na", ""], [10, 25, 35, 25, 3, 2]
out = sys.stdout
out.write("respondent_id," + ",".join(items) + "\n")
for r in range(n):
    out.write(f"R{r:07d}," + ",".join(random.choices(codes, weights=weights, k=13)) + "\n")
