"""Checks on the documentation, all in this one file: API reference coverage,
numpydoc validity, the docstring examples of every skadam module run as
doctests (the only place they run), the code of the docs pages and of the
README runs (the Dask snippets on a local cluster), install commands agree, and
every gallery figure has content when sphinx-gallery saves it.

The Sphinx build itself (``python -m sphinx -W``) runs in ``.ci/docs``.
"""

import ast
import doctest
import importlib
import inspect
import os
import pkgutil
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
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
    # This file is the one place where doctests run: every public object of
    # skadam and skadam.dask has its examples found here, under the name of
    # the module that defines it, and so run below.
    found = {t.name for t in _doctests()}
    defined_as = {
        path: f"{_resolve(path).__module__}.{_resolve(path).__qualname__}"
        for path in _public_names()
    }
    assert "skadam.dask.Incremental" in defined_as
    missing = sorted(path for path, name in defined_as.items() if name not in found)
    assert missing == []


@pytest.mark.parametrize("test", _doctests(), ids=lambda t: t.name)
def test_docstring_examples_run(test):
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    runner = doctest.DocTestRunner(optionflags=flags)
    report = []
    runner.run(test, out=report.append)
    results = runner.summarize(verbose=False)
    assert results.failed == 0, "".join(report)
    if test.name.startswith("skadam.dask"):
        # An example that starts a cluster closes its client too.
        from distributed import default_client

        with pytest.raises(ValueError, match="No clients found"):
            default_client()


def _code_blocks(page):
    """The ``.. code-block:: python`` blocks of a docs page, dedented."""
    blocks = re.findall(
        r"^( *)\.\. code-block:: python\n\n((?:\1[ ]+.*\n|[ \t]*\n)+)",
        page.read_text(),
        flags=re.MULTILINE,
    )
    return [textwrap.dedent(body) for _, body in blocks]


# Pages whose code blocks are self-contained and run here. The "Scaling out"
# page connects to a cluster: test_dask_snippets_run runs it on a local one.
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
# connects to a cluster: test_dask_snippets_run runs it on a local one).
README_RUNNABLE_SECTIONS = ["Using the minimizer", "Estimators"]


def _readme_section(title):
    readme = (DOCS.parent / "README.md").read_text()
    match = re.search(rf"^## {title}\n(.*?)(?=^## |\Z)", readme, re.M | re.S)
    assert match, f"the README has no section {title!r}"
    return match.group(1)


def _readme_python_blocks(section):
    body = _readme_section(section)
    return re.findall(r"^```python\n(.*?)^```", body, re.M | re.S)


@pytest.mark.parametrize("section", README_RUNNABLE_SECTIONS)
def test_readme_python_examples_run(section):
    # The README's examples must stay in step with the code and the docs.
    blocks = _readme_python_blocks(section)
    assert blocks, f"the README section {section!r} has no python example"
    namespace = {"__name__": "__readme__"}
    for block in blocks:
        exec(compile(block, "README.md", "exec"), namespace)


def _dask_snippet_data(rng):
    """Small stand-ins for the data the snippets leave undefined."""
    import dask.array as da
    import dask.dataframe as dd
    import pandas as pd

    X = rng.normal(size=(400, 4))
    y = (X @ np.array([1.0, -2.0, 0.5, 0.0]) + rng.normal(size=400) > 0).astype(int)
    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(4)]).assign(label=y)
    return {
        "X": X,
        "y": y,
        "X_dask": da.from_array(X, chunks=(100, 4)),
        "y_dask": da.from_array(y, chunks=100),
        # What dd.read_parquet("s3://...") returns on the "Scaling out" page.
        "events": dd.from_pandas(frame, npartitions=4),
    }


def _dask_snippets():
    """(where, code) of every python snippet that needs a Dask cluster."""
    readme = [("README.md", b) for b in _readme_python_blocks("Scaling out with Dask")]
    page = DOCS / "scaling.rst"
    return readme + [("docs/scaling.rst", b) for b in _code_blocks(page)]


def test_dask_snippets_are_found():
    where = [w for w, _ in _dask_snippets()]
    assert where.count("README.md") == 1
    assert where.count("docs/scaling.rst") >= 5


_SNIPPET_CALLS = {"Client": "_connect", "LocalCluster": "_local_cluster"}


class _ToLocalCluster(ast.NodeTransformer):
    """Route a snippet's ``Client(...)`` and ``LocalCluster(...)`` calls to the
    test's own functions, leaving the rest of the code as written."""

    def visit_Call(self, node):
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id in _SNIPPET_CALLS:
            node.func = ast.Name(_SNIPPET_CALLS[node.func.id], ast.Load())
        return node


def _run_snippet(code, where, namespace):
    tree = ast.fix_missing_locations(_ToLocalCluster().visit(ast.parse(code)))
    exec(compile(tree, where, "exec"), namespace)


@pytest.mark.slow
@pytest.mark.parametrize("where", ["README.md", "docs/scaling.rst"])
def test_dask_snippets_run(where, loopback_cluster, monkeypatch, rng):
    # The snippets run as written: only the data they leave undefined are
    # given, and their Client(...) and LocalCluster(...) calls reach the local
    # cluster (whose settings the page must match: loopback only).
    import dask.dataframe as dd
    from distributed import Client

    data = _dask_snippet_data(rng)
    clients = []

    def connect(address_or_cluster, **kwargs):
        clients.append(Client(loopback_cluster, timeout="20s"))
        return clients[-1]

    def local_cluster_as_written(**kwargs):
        assert kwargs["host"] == "127.0.0.1"
        assert kwargs["dashboard_address"].startswith("127.0.0.1:")
        return loopback_cluster

    events = data.pop("events")
    monkeypatch.setattr(dd, "read_parquet", lambda path: events)
    namespace = {"__name__": "__snippet__", **data}
    namespace.update(_connect=connect, _local_cluster=local_cluster_as_written)
    try:
        for _, code in filter(lambda s: s[0] == where, _dask_snippets()):
            _run_snippet(code, where, namespace)
    finally:
        for client in clients:
            client.close()
    assert clients, "no snippet connected to the cluster"
    assert namespace["clf"].coef_.shape == (1, 4)


def test_readme_links_the_documentation():
    readme = (DOCS.parent / "README.md").read_text()
    assert "## Documentation" in readme
    assert "python -m sphinx -W -b html docs docs/_build/html" in readme


EXAMPLES = sorted((DOCS.parent / "examples").glob("plot_*.py"))


def test_gallery_examples_are_found():
    names = {p.name for p in EXAMPLES}
    assert {"plot_rosenbrock.py", "plot_bounds.py", "plot_lesson.py"} <= names


def _run_cells_and_check_figures(path):
    """Run a gallery example cell by cell, as sphinx-gallery does, and fail
    on a figure that is empty when a cell ends.

    sphinx-gallery splits an example at its ``# %%`` (or 20-hash) lines,
    runs the code blocks one after the other in one namespace, and at the end
    of each block saves every open figure and closes it. A figure made in one
    block and drawn in a later one is therefore saved blank, which the Sphinx
    build cannot see. This runs in a fresh interpreter, so it imports what it
    needs itself.
    """
    import os
    import re
    from pathlib import Path

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    source = Path(path).read_text()
    # sphinx-gallery 0.22's separator (py_source_parser.split_code_and_text_blocks).
    separator = re.compile(r"^#{20,}.*$|^# ?%%.*$", flags=re.M)
    cells, start = [], 0
    for match in separator.finditer(source):
        cells.append((source.count("\n", 0, start) + 1, source[start : match.start()]))
        start = match.end()
    cells.append((source.count("\n", 0, start) + 1, source[start:]))
    os.chdir(Path(path).parent)
    namespace = {"__name__": "__main__", "__file__": str(path)}
    plt.show = lambda *args, **kwargs: None  # the scraper, not show, saves figures
    for line, cell in cells:
        code = compile("\n" * (line - 1) + cell, str(path), "exec")
        exec(code, namespace)
        for number in plt.get_fignums():
            figure = plt.figure(number)
            empty = [
                ax.get_title() or f"axes {k}"
                for k, ax in enumerate(figure.axes)
                if not any(
                    (
                        ax.lines,
                        ax.collections,
                        ax.images,
                        ax.patches,
                        ax.texts,
                        ax.tables,
                        ax.artists,
                    )
                )
            ]
            assert figure.axes and not empty, (
                f"{path}, the cell that starts at line {line}: figure {number} "
                f"is saved with empty axes {empty or 'all'}; draw it in the "
                "cell that makes it"
            )
        plt.close("all")
    return len(cells)


@pytest.mark.slow
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_gallery_figures_have_content_when_their_cell_ends(path):
    # Run in a fresh interpreter: the examples start clusters and figures.
    code = inspect.getsource(_run_cells_and_check_figures)
    code += f"\nprint(_run_cells_and_check_figures({str(path)!r}))\n"
    done = subprocess.run(
        [sys.executable, "-c", code],
        # The checkout under test, whatever directory the example runs in.
        env={
            **os.environ,
            "MPLBACKEND": "Agg",
            "PYTHONPATH": os.pathsep.join(
                [
                    str(Path(__file__).resolve().parents[1]),
                    os.environ.get("PYTHONPATH", ""),
                ]
            ),
        },
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert int(done.stdout.split()[-1]) >= 2  # the example has cells


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


def _install_texts():
    root = DOCS.parent
    paths = [root / "README.md", *DOCS.rglob("*.rst"), *DOCS.glob("*.py")]
    for folder in ("skadam", "benchmarks", "examples"):
        paths += (root / folder).rglob("*.py")
    for path in sorted(paths):
        name = str(path.relative_to(root))
        if "_build" in path.parts or "auto_examples" in path.parts:
            continue
        yield name, path.read_text()


def test_install_commands_install_from_the_checkout():
    # skadam is not on PyPI: every install command names the checkout,
    # "pip install ." or 'pip install ".[extra]"', never "skadam[extra]".
    texts = dict(_install_texts())
    assert {"README.md", "docs/install.rst", "skadam/dask/__init__.py"} <= set(texts)
    from_pypi = {
        name: re.findall(r".*\bskadam\[.*", text)
        for name, text in texts.items()
        if re.search(r"\bskadam\[", text)
    }
    assert from_pypi == {}
    for name, text in texts.items():
        for command in re.findall(r"pip install [^`\n]*", text):
            target = command.split()[2].strip("\"'")
            assert target == "." or target.startswith(".["), (name, command)


def test_readme_quick_start_is_two_commands():
    blocks = re.findall(
        r"^```(\w*)\n(.*?)^```", _readme_section("Quick start"), re.M | re.S
    )
    assert blocks == [
        (
            "bash",
            "pip install . && python -m skadam\n"
            'pip install ".[test]" && python -m pytest\n',
        )
    ]


def test_fast_test_subset_is_documented():
    command = 'python -m pytest -m "not slow"'
    assert command not in _readme_section("Quick start")
    assert command in (DOCS.parent / "README.md").read_text()
    assert command in (DOCS / "install.rst").read_text()
