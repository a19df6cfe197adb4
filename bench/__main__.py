"""`python -m bench`: see bench.runner."""

import sys

try:
    from bench.runner import main
except ModuleNotFoundError as missing:  # the dev extras are not installed
    print(
        f"error: the benchmarks need {missing.name}, one of tradeledger's dev extras: "
        "pip install -e '.[dev]', then python -m bench",
        file=sys.stderr,
    )
    sys.exit(2)

main()
