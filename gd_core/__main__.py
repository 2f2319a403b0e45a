import sys

try:
    from .cli.main import main
except KeyboardInterrupt:  # Ctrl-C while numpy and pandas load: no traceback either
    sys.stderr.write("error: interrupted; nothing was written\n")
    sys.exit(130)

if __name__ == "__main__":  # Dask's local worker processes re-import the main module (as __mp_main__)
    sys.exit(main())
