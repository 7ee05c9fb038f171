"""The order of the examples on the gallery page.

The gallery reads as a story: the lesson skadam starts from, the SciPy method
on its own, then the estimators. Examples not listed here follow, by file name.
sphinx-gallery imports this class by its qualified name, which keeps the
Sphinx configuration picklable.
"""

import os

ORDER = [
    "plot_lesson.py",
    "plot_rosenbrock.py",
    "plot_bounds.py",
    "plot_grid_search.py",
    "plot_loss_curves.py",
    "plot_compare_classifiers.py",
    "plot_dask_scaling.py",
]


class GalleryOrder:
    """Sort key for sphinx-gallery's ``within_subsection_order``."""

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        name = os.path.basename(filename)
        rank = ORDER.index(name) if name in ORDER else len(ORDER)
        return (rank, name)
