"""Build script for mmmech's compiled kernels (metadata, packages and data: pyproject.toml).

Every ``mmmech/_kernels/*.pyx`` is compiled with Cython 3 against NumPy. The Cython
directives live here, in one place (``CYTHON_DIRECTIVES``). OpenMP is detected at build
time by compiling a tiny test program; without it the kernels build serial (``prange``
then runs as a plain loop).

Environment switches
--------------------
MMMECH_DEBUG_BUILD=1   bounds checks, wraparound checks and ``-O0 -g`` (for debugging kernels)
MMMECH_NO_OPENMP=1     never link OpenMP, even where the compiler supports it
"""

import glob
import os
import shutil
import subprocess
import sys
import tempfile

from setuptools import Extension, setup

DEBUG = os.environ.get("MMMECH_DEBUG_BUILD", "") not in ("", "0")

CYTHON_DIRECTIVES = {
    "language_level": 3,
    "boundscheck": DEBUG,
    "wraparound": DEBUG,
    "cdivision": True,
    "initializedcheck": DEBUG,
    "nonecheck": False,
    "embedsignature": True,
}


def _openmp_flags():
    """Return (compile_args, link_args) for OpenMP, or ([], []) when unavailable."""
    if os.environ.get("MMMECH_NO_OPENMP", "") not in ("", "0") or sys.platform == "darwin":
        return [], []
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if not cc:
        return [], []
    code = (
        "#include <omp.h>\nint main(void){int n=0;\n"
        "#pragma omp parallel reduction(+:n)\nn+=1;\nreturn n>0?0:1;}\n"
    )
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "t.c")
        with open(src, "w") as fh:
            fh.write(code)
        try:
            res = subprocess.run(
                [cc, "-fopenmp", src, "-o", os.path.join(tmp, "t")], capture_output=True, timeout=60
            )
        except (OSError, subprocess.SubprocessError):
            return [], []
    if res.returncode != 0:
        return [], []
    return ["-fopenmp"], ["-fopenmp"]


def _extensions():
    import numpy
    from Cython.Build import cythonize

    omp_c, omp_l = _openmp_flags()
    opt = ["-O0", "-g"] if DEBUG else ["-O3"]
    exts = []
    for pyx in sorted(glob.glob(os.path.join("mmmech", "_kernels", "*.pyx"))):
        name = os.path.splitext(pyx)[0].replace(os.sep, ".")
        exts.append(
            Extension(
                name,
                [pyx],
                # the kernels' C headers (e.g. _logic_helpers.h) sit beside the .pyx files
                include_dirs=[numpy.get_include(), os.path.join("mmmech", "_kernels")],
                define_macros=[
                    ("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION"),
                    ("MMMECH_HAVE_OPENMP", "1" if omp_c else "0"),
                ],
                extra_compile_args=opt + omp_c,
                extra_link_args=omp_l,
            )
        )
    return cythonize(exts, compiler_directives=CYTHON_DIRECTIVES, quiet=True)


setup(ext_modules=_extensions())
