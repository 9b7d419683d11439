# Reads a dotenv file as systemd reads an EnvironmentFile= (load_env_file,
# then strv_env_clean_with_callback, as exec_context_load_environment does),
# through libsystemd-shared, and writes each value to OUTDIR/NAME.
# Usage: python3 read_systemd.py LIBRARY FILE OUTDIR. A file systemd
# refuses: exit 1.
import ctypes
import os
import sys

lib = ctypes.CDLL(sys.argv[1])
strv = ctypes.POINTER(ctypes.c_char_p)
lib.load_env_file.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(strv)]
lib.load_env_file.restype = ctypes.c_int
lib.strv_env_clean_with_callback.argtypes = [strv, ctypes.c_void_p, ctypes.c_void_p]
lib.strv_env_clean_with_callback.restype = strv

env = strv()
r = lib.load_env_file(None, sys.argv[2].encode(), ctypes.byref(env))
if r < 0:
    sys.exit("systemd refused the file: %s" % os.strerror(-r))
if env:
    env = lib.strv_env_clean_with_callback(env, None, None)
    i = 0
    while env[i] is not None:
        name, _, value = env[i].partition(b"=")
        with open(os.path.join(sys.argv[3].encode(), name), "wb") as f:
            f.write(value)
        i += 1
