#!/usr/bin/env python3
"""machine_class.py RUN.json: the run's machine class (CPU model and core count, lower case,
dashes), the name ci/regression files baselines under and history files CPU rows under."""
import sys

from dtypebench_results import EXIT_UNREADABLE, ResultsError, context_of, load, machine

if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: machine_class.py RUN.json", file=sys.stderr)
        sys.exit(EXIT_UNREADABLE)
    try:
        print(machine(context_of(load(sys.argv[1]))).cpu_class())
    except ResultsError as e:
        print(f"machine_class: {e}", file=sys.stderr)
        sys.exit(EXIT_UNREADABLE)
