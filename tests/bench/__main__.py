"""`make bench`: every speed figure the project claims, printed. Each module has main()."""

import importlib
import sys
import time

SECTIONS = [
    "arena", "memory", "gateway", "local", "ratings", "sampler", "categories",
    "recovery", "api", "load",
]  # fmt: skip


def main() -> None:
    wanted = sys.argv[1:] or SECTIONS
    for name in wanted:
        try:
            module = importlib.import_module(f"tests.bench.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"tests.bench.{name}":
                raise
            continue
        print(f"\n== {name} " + "=" * (70 - len(name)))
        started = time.perf_counter()
        module.main()
        print(f"({name}: {time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
