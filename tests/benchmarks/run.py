"""`make bench`: every benchmark in one process; the BENCH lines are repeated at the end."""

from __future__ import annotations

import time

from tests.benchmarks import bench_ccs, bench_extract, bench_store


def main() -> None:
    started = time.perf_counter()
    lines = bench_extract.main() + bench_ccs.main() + bench_store.main()
    print(f"\n== summary ({time.perf_counter() - started:.0f} s) ==")
    for line in lines:
        print(line)


if __name__ == "__main__":
    main()
