"""Turn a benchmark report into a reST table and a plot."""


def rst_table(report):
    """One reST list-table per case: contender, median, ratio to the anchor."""
    lines = []
    for name, case in report["cases"].items():
        lines += [
            f".. list-table:: {name} (median {case['unit']})",
            "   :header-rows: 1",
            "",
            "   * - contender",
            f"     - median ({case['unit']})",
        ]
        for contender, res in case["results"].items():
            lines += [f"   * - ``{contender}``", f"     - {res['median']:.4g}"]
        lines += ["", f".. list-table:: {name}: ratios (< 1: skadam faster)", ""]
        lines += ["   :header-rows: 1", "", "   * - ratio", "     - value"]
        for key, value in case["ratios"].items():
            lines += [f"   * - ``{key}``", f"     - {value:.3f}"]
        lines.append("")
    return "\n".join(line for line in lines if line != "" or True) + "\n"


def plot(report, path):
    """Bar charts of the medians, one panel per case, saved to ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cases = report["cases"]
    fig, axes = plt.subplots(
        len(cases), 1, figsize=(7, 2.6 * len(cases)), squeeze=False
    )
    for ax, (name, case) in zip(axes[:, 0], cases.items(), strict=True):
        names = list(case["results"])
        medians = [case["results"][n]["median"] for n in names]
        colors = ["tab:blue" if _is_skadam(n) else "tab:gray" for n in names]
        ax.barh(names, medians, color=colors)
        ax.invert_yaxis()
        ax.set_xscale("log")
        ax.set_xlabel(f"median {case['unit']} (log scale; blue: skadam)")
        ax.set_title(name)
    title = "skadam benchmarks" + (
        " (--quick: meaningless sizes)" if report["quick"] else ""
    )
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _is_skadam(name):
    return name.startswith(("adam", "minimize", "numpy_scratch", "skadam"))
