"""Checks on the documentation: API reference coverage, numpydoc validity,
docstring examples run as doctests, and the code blocks of the docs pages run.

The Sphinx build itself (``python -m sphinx -W``) runs in ``.ci/docs``.
"""

import ast
import doctest
import importlib
import inspect
import pkgutil
import re
import textwrap
from pathlib import Path

import numpydoc.validate
import pytest
from numpydoc.docscrape import get_doc_object

import skadam

DOCS = Path(__file__).resolve().parent.parent / "docs"

# numpydoc checks every public docstring must pass. Left out on purpose:
# ES01 (extended summary) and SA01 (See Also) for every object, RT02 (it
# forbids scikit-learn's named returns, "self : object"), and EX01 for
# methods; EX01 applies to each top-level public name.
CHECKS = {
    "GL01", "GL02", "GL03", "GL05", "GL06", "GL07", "GL08", "GL09", "GL10",
    "SS01", "SS02", "SS03", "SS04", "SS05",
    "PR01", "PR02", "PR03", "PR04", "PR05", "PR06", "PR07", "PR10",
    "RT01", "RT03", "YD01",
    "SA02", "SA03", "SA04",
}  # fmt: skip


def _public_methods(cls):
    """Public methods and properties of ``cls`` defined in skadam (inherited
    ones included, scikit-learn's not)."""
    names = []
    for klass in cls.__mro__:
        for name, member in vars(klass).items():
            if name.startswith("_") or name in names:
                continue
            if isinstance(member, (classmethod, staticmethod)):
                member = member.__func__
            if isinstance(member, property):
                member = member.fget
            if inspect.isfunction(member) and member.__module__.startswith("skadam"):
                names.append(name)
    return names


def _public_modules():
    """``skadam`` and its public submodules (``skadam.dask``)."""
    names = ["skadam"]
    for info in pkgutil.iter_modules(skadam.__path__, prefix="skadam."):
        if not info.name.rsplit(".", 1)[-1].startswith("_"):
            names.append(info.name)
    return names


def _public_names():
    """Qualified names listed in the ``__all__`` of the public modules."""
    names = []
    for module_name in _public_modules():
        module = importlib.import_module(module_name)
        names += [f"{module_name}.{name}" for name in module.__all__]
    return names


def _resolve(path):
    """The object at a dotted path such as ``skadam.dask.Incremental.fit``."""
    parts = path.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ModuleNotFoundError:
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(path)


def _documented_objects():
    """(import path, is top level) for every public docstring of skadam."""
    objects = []
    for path in _public_names():
        objects.append((path, True))
        obj = _resolve(path)
        if inspect.isclass(obj):
            objects += [(f"{path}.{m}", False) for m in _public_methods(obj)]
    return objects


class _Validator(numpydoc.validate.Validator):
    # Private parameters (a leading underscore, such as a dataclass's internal
    # field) are not part of the documented interface.
    @property
    def signature_parameters(self):
        params = super().signature_parameters
        return tuple(p for p in params if not p.lstrip("*").startswith("_"))


def _make_validator(obj_name):
    return _Validator(get_doc_object(_resolve(obj_name)))


def _api_reference_names():
    """Qualified names in the autosummary tables of docs/api.rst."""
    text = (DOCS / "api.rst").read_text()
    pattern = r"^\.\. currentmodule:: (\S+)$|^\.\. autosummary::\n((?:[ \t]+.*\n|\n)+)"
    names, module = [], None
    for match in re.finditer(pattern, text, flags=re.MULTILINE):
        if match.group(1):
            module = match.group(1)
            continue
        for line in match.group(2).splitlines():
            entry = line.strip()
            if entry and not entry.startswith(":"):
                names.append(f"{module}.{entry}")
    return names


def test_api_reference_lists_every_public_name():
    listed = _api_reference_names()
    public = _public_names()
    assert "skadam.adam_minimize" in public  # the discovery works
    assert sorted(set(public) - set(listed)) == []
    assert sorted(set(listed) - set(public)) == []
    assert len(listed) == len(set(listed)), "a name is listed twice"


@pytest.mark.parametrize(("path", "top_level"), _documented_objects())
def test_docstring_is_valid_numpydoc(path, top_level):
    result = numpydoc.validate.validate(path, validator_cls=_make_validator)
    checks = CHECKS | {"EX01"} if top_level else CHECKS
    errors = [f"{code}: {msg}" for code, msg in result["errors"] if code in checks]
    assert errors == [], f"{path}:\n" + "\n".join(errors)


def _skadam_modules():
    names = ["skadam"]
    for info in pkgutil.walk_packages(skadam.__path__, prefix="skadam."):
        names.append(info.name)
    return names


def _doctests():
    finder = doctest.DocTestFinder(exclude_empty=True)
    tests = []
    for module_name in _skadam_modules():
        module = importlib.import_module(module_name)
        for test in finder.find(module, module_name):
            if test.examples:
                tests.append(test)
    return tests


def test_public_objects_have_doctests():
    # Guards the parametrization below against silently finding nothing.
    found = {t.name for t in _doctests()}
    short = [path.rsplit(".", 1)[-1] for path in _public_names()]
    missing = [n for n in short if not any(x.endswith(f".{n}") for x in found)]
    assert missing == []


@pytest.mark.parametrize("test", _doctests(), ids=lambda t: t.name)
def test_docstring_examples_run(test):
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    runner = doctest.DocTestRunner(optionflags=flags)
    report = []
    runner.run(test, out=report.append)
    results = runner.summarize(verbose=False)
    assert results.failed == 0, "".join(report)


def _code_blocks(page):
    """The ``.. code-block:: python`` blocks of a docs page, dedented."""
    blocks = re.findall(
        r"^( *)\.\. code-block:: python\n\n((?:\1[ ]+.*\n|[ \t]*\n)+)",
        page.read_text(),
        flags=re.MULTILINE,
    )
    return [textwrap.dedent(body) for _, body in blocks]


# Pages whose code blocks are self-contained and run here. Not listed: the
# "Scaling out" page, whose examples connect to a Dask cluster (skadam.dask's
# docstring examples and its tests cover that code instead).
RUNNABLE_PAGES = ["index.rst", "quickstart.rst", "user_guide/*.rst"]
PAGES = sorted(p for pattern in RUNNABLE_PAGES for p in DOCS.glob(pattern))
PAGES = [p for p in PAGES if _code_blocks(p)]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_docs_page_code_runs(page):
    # The blocks of one page build on each other, like a notebook.
    namespace = {"__name__": "__docs__"}
    for block in _code_blocks(page):
        exec(compile(block, str(page), "exec"), namespace)


def test_docs_pages_with_code_are_found():
    pages = {p.name for p in PAGES}
    assert {"quickstart.rst", "minimize.rst", "estimators.rst"} <= pages


# README sections whose python examples are self-contained (the Dask section
# sketches code for a remote cluster and is not run).
README_RUNNABLE_SECTIONS = ["Using the minimizer", "Estimators"]


def _readme_python_blocks(section):
    readme = (DOCS.parent / "README.md").read_text()
    match = re.search(rf"^## {section}\n(.*?)(?=^## |\Z)", readme, re.M | re.S)
    assert match, f"the README has no section {section!r}"
    return re.findall(r"^```python\n(.*?)^```", match.group(1), re.M | re.S)


@pytest.mark.parametrize("section", README_RUNNABLE_SECTIONS)
def test_readme_python_examples_run(section):
    # The README's examples must stay in step with the code and the docs.
    blocks = _readme_python_blocks(section)
    assert blocks, f"the README section {section!r} has no python example"
    namespace = {"__name__": "__readme__"}
    for block in blocks:
        exec(compile(block, "README.md", "exec"), namespace)


def test_readme_links_the_documentation():
    readme = (DOCS.parent / "README.md").read_text()
    assert "## Documentation" in readme
    assert "python -m sphinx -W -b html docs docs/_build/html" in readme


EXAMPLES = sorted((DOCS.parent / "examples").glob("plot_*.py"))


def test_gallery_examples_are_found():
    names = {p.name for p in EXAMPLES}
    assert {"plot_rosenbrock.py", "plot_bounds.py", "plot_lesson.py"} <= names


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_gallery_example_has_title_cells_and_a_figure(path):
    # The gallery build runs the examples; this checks the form sphinx-gallery
    # needs: a reST title in the docstring, "# %%" cells and a Matplotlib figure.
    source = path.read_text()
    docstring = ast.get_docstring(ast.parse(source)) or ""
    lines = [line for line in docstring.splitlines() if line.strip()]
    title = next((i for i, line in enumerate(lines) if not set(line) <= {"="}), None)
    assert title is not None and title + 1 < len(lines), "no title"
    underline = lines[title + 1]
    assert set(underline) == {"="} and len(underline) >= len(lines[title]), "no title"
    assert "\n# %%" in source
    assert re.search(r"plt\.(subplots|figure)\(", source), "no figure"
