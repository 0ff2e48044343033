"""Build script for mmmech.

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
    code = "#include <omp.h>\nint main(void){int n=0;\n#pragma omp parallel reduction(+:n)\nn+=1;\nreturn n>0?0:1;}\n"
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "t.c")
        with open(src, "w") as fh:
            fh.write(code)
        try:
            res = subprocess.run([cc, "-fopenmp", src, "-o", os.path.join(tmp, "t")],
                                 capture_output=True, timeout=60)
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
        exts.append(Extension(
            name, [pyx],
            # the kernels' C headers (e.g. _logic_helpers.h) sit beside the .pyx files
            include_dirs=[numpy.get_include(), os.path.join("mmmech", "_kernels")],
            define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION"),
                           ("MMMECH_HAVE_OPENMP", "1" if omp_c else "0")],
            extra_compile_args=opt + omp_c,
            extra_link_args=omp_l,
        ))
    return cythonize(exts, compiler_directives=CYTHON_DIRECTIVES, quiet=True)


# The curated data live at the top level (structures/, pathways/) as the design card asks,
# and are installed as the subpackages mmmech._data.structures and mmmech._data.pathways so
# that importlib.resources finds them in any installed copy.
DATA_PACKAGES = {
    "mmmech._data.structures": "structures",
    "mmmech._data.pathways": "pathways",
    "mmmech._data.pathways.contexts": "pathways/contexts",
}

setup(
    name="mmmech",
    version="0.1.0",
    description="Mechanistic models of multiple myeloma drug combinations: drugs, targets, "
                "pathways, fast kernels and synergy scores",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    license="BSD-3-Clause",
    python_requires=">=3.10",
    packages=["mmmech", "mmmech._kernels", "mmmech.cli", "mmmech._data", *DATA_PACKAGES],
    package_dir={"": ".", **DATA_PACKAGES},
    package_data={
        "mmmech": ["py.typed"],
        "mmmech._kernels": ["*.pyx", "*.pxd", "*.h", "*.pyi"],
        "mmmech._data.structures": ["*.toml", "*.md"],
        "mmmech._data.pathways": ["*.toml", "*.md"],
        "mmmech._data.pathways.contexts": ["*.toml"],
    },
    ext_modules=_extensions(),
    install_requires=[
        "numpy>=1.24",
        "scipy>=1.10",
        "pandas>=2.0",
        "networkx>=3.0",
        "biopython>=1.81",
        "rdkit>=2023.9",
        "matplotlib>=3.7",
        "pyarrow>=12",
        "dask[distributed]>=2023.6",
        "python-libsbml>=5.20",
        "tomli>=2.0; python_version<'3.11'",
    ],
    extras_require={
        "test": ["pytest>=7.4", "hypothesis>=6.80", "synergy>=0.5.1"],
    },
    entry_points={"console_scripts": ["mmmech=mmmech.cli:main"]},
    zip_safe=False,
)
