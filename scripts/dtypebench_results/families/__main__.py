"""python3 -m dtypebench_results.families gpu-check: the GPU-check budget of every family."""
import sys

from . import gpu_check_lines

if __name__ == "__main__":
    if sys.argv[1:] != ["gpu-check"]:
        print("usage: python3 -m dtypebench_results.families gpu-check", file=sys.stderr)
        sys.exit(2)
    print("\n".join(gpu_check_lines()))
