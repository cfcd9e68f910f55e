"""Sphinx configuration of the tradesim_nb documentation (built offline: ``make docs``)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import tradesim_nb  # the installed package (make install: editable, compiled book built)

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent

project = "tradesim_nb"
author = "the tradesim_nb developers"
copyright = "2026, the tradesim_nb developers"
version = release = tradesim_nb.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_nb",
]

# -- the notebooks, rendered with their outputs -------------------------------------------
# The numbered notebooks live in ../notebooks (saved without outputs); they are copied here at
# build time and executed offline (the live dashboard falls back to the local venue).
_NB_OUT = DOCS / "notebooks"
_NB_OUT.mkdir(exist_ok=True)
for _nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
    _dst = _NB_OUT / _nb.name
    if not _dst.exists() or _dst.read_bytes() != _nb.read_bytes():
        shutil.copyfile(_nb, _dst)
# executed offline: the dashboard uses the local venue, the session notebook writes to a
# temporary folder (the kernels inherit this environment)
os.environ.setdefault("TRADESIM_LIVE_SOURCE", "local")
os.environ.setdefault("TRADESIM_SESSION_DIR", tempfile.mkdtemp(prefix="tradesim-docs-"))
nb_execution_mode = "force"
nb_execution_timeout = 300
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]

source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
exclude_patterns = ["_build", "**.ipynb_checkpoints", "jupyter_execute"]
templates_path = ["_templates"]

# -- API reference from the numpydoc docstrings -------------------------------------------
autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
# Citations keep their names: a module's References section defines them once for the module,
# and its classes and functions cite them ([AC2000]_). numpydoc renames each docstring's
# citations apart (rename_references / relabel_references), after which a member cannot cite
# its module's references; its renaming is switched off here, before the extension connects it.
import numpydoc.numpydoc as _numpydoc  # noqa: E402

_numpydoc.rename_references = lambda *args, **kwargs: None
_numpydoc.relabel_references = lambda *args, **kwargs: None
# A References list may name works the text does not cite inline (further reading).
suppress_warnings = ["ref.citation",
                    # BokehJS's loader output (output_notebook: application/javascript +
                    # application/vnd.bokehjs_load.v0+json) has no static rendering, and
                    # needs none: the widgets' state is embedded in the page
                    "mystnb.unknown_mime_type"]
add_module_names = False

# -- HTML ---------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = "tradesim_nb"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}
html_static_path: list[str] = []
mathjax_path = "https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"


def _skip_type_aliases(app, what, name, obj, skip, options):
    """Type aliases (``PriceLevel = tuple[float, float]``) are described in their module's
    docstring; autodoc cannot format a signature for them."""
    import types
    import typing

    if isinstance(obj, types.GenericAlias) or typing.get_origin(obj) is not None:
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_type_aliases)
