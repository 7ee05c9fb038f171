"""Sphinx configuration for the skadam documentation.

Build with ``python -m sphinx -W -b html docs docs/_build/html`` after
``pip install ".[docs]"``.

Cross-links to Python, NumPy, SciPy, scikit-learn and Matplotlib (intersphinx)
need their inventories from the web, so they are off unless the environment
variable ``SKADAM_DOCS_INTERSPHINX=1`` is set. Without it the build never
touches the network and gives the same result everywhere (references to those
projects render as plain code); with it, an unreachable inventory is a warning,
hence an error under ``-W``, rather than a silently different site.
"""

import inspect
import os
import sys
from pathlib import Path

# Document the skadam of this checkout, not an installed copy.
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# Local helpers (the gallery's sort key).
sys.path.insert(0, str(ROOT / "docs" / "_ext"))
os.environ.setdefault("MPLBACKEND", "Agg")

import skadam  # noqa: E402

project = "skadam"
author = "The skadam developers"
copyright = "2026, The skadam developers"
version = release = skadam.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
default_role = "literal"
pygments_style = "sphinx"

# -- HTML --------------------------------------------------------------------

html_theme = "alabaster"
html_static_path = ["_static"]
html_title = f"skadam {release}"
html_theme_options = {
    "description": "Adam, from scratch in NumPy, for SciPy and scikit-learn",
    "fixed_sidebar": True,
    "page_width": "1100px",
    "sidebar_width": "230px",
}
html_sidebars = {"**": ["about.html", "navigation.html", "searchbox.html"]}

# -- API reference -----------------------------------------------------------

autosummary_generate = True
autodoc_default_options = {"members": True}
autodoc_typehints = "none"
# numpydoc's own member tables would point at methods that have no page of
# their own; the class template lists the methods instead.
numpydoc_show_class_members = False
numpydoc_attributes_as_param_list = False

# -- Cross-links to other projects --------------------------------------------

_INTERSPHINX_TARGETS = {
    "python": ("https://docs.python.org/3", None),
    "numpy": ("https://numpy.org/doc/stable", None),
    "scipy": ("https://docs.scipy.org/doc/scipy", None),
    "sklearn": ("https://scikit-learn.org/stable", None),
    "matplotlib": ("https://matplotlib.org/stable", None),
}


def _intersphinx_enabled():
    value = os.environ.get("SKADAM_DOCS_INTERSPHINX", "0").strip().lower()
    return value not in ("", "0", "false", "no", "off")


intersphinx_mapping = _INTERSPHINX_TARGETS if _intersphinx_enabled() else {}
intersphinx_timeout = 10

# -- Gallery -----------------------------------------------------------------

sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": "/plot_",
    "within_subsection_order": "gallery_order.GalleryOrder",
    "doc_module": ("skadam",),
    "backreferences_dir": "generated/backreferences",
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "remove_config_comments": True,
    "download_all_examples": False,
    "min_reported_time": 1,
    # A failing example fails the build.
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
}

# -- MyST (only used to include CHANGELOG.md) ---------------------------------

myst_heading_anchors = 3


# -- Hooks --------------------------------------------------------------------


def _hide_private_parameters(app, what, name, obj, options, signature, annotation):
    """Drop parameters with a leading underscore from class signatures.

    ``AdamState`` is a dataclass whose scratch-space field is private; it is
    not part of the documented constructor.
    """
    if what != "class" or signature is None or "_" not in signature:
        return None
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return None
    params = [
        p.replace(annotation=inspect.Parameter.empty)
        for p in sig.parameters.values()
        if not p.name.startswith("_")
    ]
    if len(params) == len(sig.parameters):
        return None
    empty = inspect.Signature.empty
    return str(sig.replace(parameters=params, return_annotation=empty)), annotation


def _skip_foreign_methods(app, what, name, obj, skip, options):
    """Document only the methods skadam defines.

    scikit-learn attaches metadata-routing methods (``set_fit_request``, ...) to
    every estimator class; their docstrings belong to scikit-learn's own site.
    """
    if what != "class" or skip or not callable(obj):
        return None
    module = getattr(obj, "__module__", None) or ""
    return None if module.startswith("skadam") else True


def setup(app):
    app.connect("autodoc-process-signature", _hide_private_parameters)
    app.connect("autodoc-skip-member", _skip_foreign_methods)
