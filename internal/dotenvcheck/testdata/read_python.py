# Reads a dotenv file with python-dotenv as load_dotenv does (dotenv_values,
# interpolation on) and writes each value to OUTDIR/NAME, as UTF-8.
# Usage: python3 read_python.py FILE OUTDIR. A file it refuses: exit 1.
import os
import sys

from dotenv import dotenv_values

values = dotenv_values(sys.argv[1])
for name, value in values.items():
    if value is None:
        continue
    with open(os.path.join(sys.argv[2], name), "wb") as f:
        f.write(value.encode("utf-8", "surrogateescape"))
