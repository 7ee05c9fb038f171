"""Turn a benchmark report into a reST table and a plot."""


def rst_table(report):
    """reST tables: the targets first, then each case's medians and ratios."""
    lines = [
        ".. list-table:: Targets (ratios are skadam / anchor; < 1: skadam faster)",
        "   :header-rows: 1",
        "",
        "   * - case",
        "     - target",
        "     - measured",
        "     - met",
    ]
    for name, case in report["cases"].items():
        for target, result in case["targets"].items():
            lines += [f"   * - {name}", f"     - ``{target}``"]
            lines += [f"     - {result['value']:.3g}", f"     - {_yes(result['met'])}"]
    lines.append("")
    for name, case in report["cases"].items():
        lines += _case_table(name, case)
    return "\n".join(lines) + "\n"


def _case_table(name, case):
    lines = [
        f".. list-table:: {name}: median {case['unit']}",
        "   :header-rows: 1",
        "",
        "   * - contender",
        f"     - {case['unit']}",
    ]
    for contender, res in case["results"].items():
        lines += [f"   * - ``{contender}``", f"     - {res['median']:.4g}"]
    lines.append("")
    if case["ratios"]:  # an empty list-table is an error in reST
        lines += [f".. list-table:: {name}: ratios", "   :header-rows: 1", ""]
        lines += ["   * - ratio", "     - value"]
        for key, value in case["ratios"].items():
            lines += [f"   * - ``{key}``", f"     - {value:.3g}"]
        lines.append("")
    return lines


def _yes(met):
    return "yes" if met else "**no**"


def plot(report, path):
    """One panel per case (two for growth), saved to ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = []
    for name, case in report["cases"].items():
        if "series" in case:
            panels += [(_lines, name, case, axis) for axis in case["series"]]
        elif "paths" in case:
            panels.append((_paths, name, case, None))
        else:
            panels.append((_bars, name, case, None))
    fig, axes = plt.subplots(
        len(panels), 1, figsize=(7.5, 2.8 * len(panels)), squeeze=False
    )
    for ax, (draw, name, case, axis) in zip(axes[:, 0], panels, strict=True):
        draw(ax, name, case, axis)
    quick = " (--quick: toy sizes, meaningless numbers)" if report["quick"] else ""
    fig.suptitle("skadam benchmarks" + quick)
    fig.tight_layout(rect=(0, 0, 1, 0.98))
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _bars(ax, name, case, _):
    names = list(case["results"])
    medians = [case["results"][n]["median"] for n in names]
    colors = ["tab:blue" if _is_skadam(n) else "tab:gray" for n in names]
    ax.barh(names, medians, color=colors)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.tick_params(axis="y", labelsize=7)
    ax.set_xlabel(f"median {case['unit']} (log scale; blue: skadam)")
    ax.set_title(name)


def _lines(ax, name, case, axis):
    for label, points in case["series"][axis].items():
        xs, ys = zip(*points, strict=True)
        ax.loglog(xs, ys, "o-", label=label)
    ax.set_xlabel(axis)
    ax.set_ylabel(case["unit"])
    ax.legend(fontsize=7)
    ax.set_title(f"{name}: {case['unit']} against {axis}")


def _paths(ax, name, case, _):
    for label, path in case["paths"].items():
        xs = [p["seconds"] for p in path]
        ys = [max(p["subopt"], 1e-12) for p in path]
        ax.loglog(xs, ys, "o-", label=label)
    ax.axhline(case["params"]["target"], color="k", lw=0.8, ls="--")
    ax.set_xlabel("fit time (s)")
    ax.set_ylabel("relative suboptimality")
    ax.legend(fontsize=7)
    ax.set_title(name)


def _is_skadam(name):
    label = name.split(":")[-1]
    return label.startswith(("adam", "minimize", "numpy_backend", "skadam"))
