"""Build the compiled order book (``tradesim_nb._book_c``) from its Cython source.

Everything else about the package is declared in ``pyproject.toml``. ``pip install`` (and
``pip install -e``) run this with Cython from the build requirements, on any machine with a
C compiler and the Python headers; setuptools hands the ``.pyx`` to Cython (its compiler
directives are in the file's header), so the source distribution carries the ``.pyx``.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        # a heap type (type specs), so that the class can say it lives in tradesim_nb.book
        Extension("tradesim_nb._book_c", ["tradesim_nb/_book_c.pyx"],
                  define_macros=[("CYTHON_USE_TYPE_SPECS", "1")]),
    ],
)
