"""Every figure `harness paper` writes, on a run of one repeat and a run of five: each file
exists and is not blank, each axes of each figure holds data, and main.tex captions each
figure with what it shows and how many tasks and repeats stand behind it."""

from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest

from tests.conftest import run_cli

pytestmark = pytest.mark.slow
FIGURES = ("fig_completion", "fig_decomposition", "fig_pass_k", "fig_task_gaps")


@pytest.fixture(scope="module", params=[1, 5], ids=["1-repeat", "5-repeats"])
def paper(request, tmp_path_factory):
    """(repeats, db, run id, paper dir, files listed): a small table2 slice and its paper, built once."""
    from harness.store import reader

    repeats = request.param
    root = tmp_path_factory.mktemp(f"paper{repeats}")
    db = root / "figures.duckdb"
    proc = run_cli("run", "experiment=table2", "workload.limit=12", f"repeats={repeats}", "executor.workers=2",
                   f"store.path={db}")
    assert proc.returncode == 0, proc.stderr
    out = root / "paper"
    proc = run_cli("paper", "--db", str(db), "--out", str(out), "--no-latex")
    assert proc.returncode == 0, proc.stderr
    listed = [Path(line.strip()) for line in proc.stdout.splitlines() if line.startswith("  ")]
    return repeats, str(db), reader.list_runs(str(db)).id.iloc[0], out, listed


def _not_blank(png: Path) -> bool:
    """More than a sliver of the image is not background (white or transparent)."""
    img = mpimg.imread(png)
    rgb, alpha = img[..., :3], img[..., 3] if img.shape[-1] == 4 else np.ones(img.shape[:2])
    inked = (alpha > 0.1) & (rgb.min(axis=-1) < 0.9)
    return inked.mean() > 0.01


def test_every_figure_file_exists_and_is_not_blank(paper):
    _, _, _, out, listed = paper
    figs = [p for p in listed if p.parent == out / "figures"]
    stems = {p.stem for p in figs}
    assert set(FIGURES) <= stems
    for stem in stems:
        pdf, png = out / "figures" / f"{stem}.pdf", out / "figures" / f"{stem}.png"
        assert pdf.stat().st_size > 1000 and pdf.read_bytes()[:4] == b"%PDF"
        assert png.stat().st_size > 1000 and _not_blank(png), png


def test_every_axes_of_every_figure_holds_data(paper):
    from harness.analysis.report import estimates_for
    from harness.analysis.validity import analysable
    from harness.paper import figures as F
    from harness.paper.style import style
    from harness.store import reader

    _, db, run_id, _, _ = paper
    est = estimates_for(db, run_id)
    episodes, _ = analysable(reader.episodes(db, run_id))
    treatment, baseline = est[est.analysis == "gap"].conditions.iloc[0].split("|")
    with style():
        built = {"fig_completion": F.completion_figure(est), "fig_decomposition": F.decomposition_figure(est),
                 "fig_pass_k": F.pass_k_figure(est),
                 "fig_task_gaps": F.task_gap_figure(episodes, treatment, baseline)}
    for name, fig in built.items():
        assert fig is not None and fig.axes, name
        for ax in fig.axes:
            assert ax.lines or ax.patches or ax.collections, f"{name}: empty axes {ax.get_title()!r}"


def test_pass_k_says_what_one_repeat_cannot_show(paper):
    from harness.analysis.report import estimates_for
    from harness.paper import figures as F
    from harness.paper.style import style

    repeats, db, run_id, _, _ = paper
    with style():
        fig = F.pass_k_figure(estimates_for(db, run_id))
    if repeats == 1:
        assert "repeats" in fig.get_supxlabel()
    else:
        assert fig.get_supxlabel() == "" and len(fig.axes[0].lines) == 8  # one curve per condition


def test_main_tex_captions_say_what_each_figure_shows(paper):
    repeats, _, run_id, out, listed = paper
    main = (out / "main.tex").read_text()
    figs = sorted(p for p in listed if p.suffix == ".pdf" and p.parent == out / "figures")
    blocks = main.split(r"\begin{figure}")[1:]
    assert len(blocks) == len(figs)
    size = f"12 tasks $\\times$ {repeats} repeat{'s' * (repeats > 1)} $\\times$ 8 conditions"
    for fig, block in zip(figs, blocks, strict=True):
        assert f"{{figures/{fig.name}}}" in block
        text = block.split(r"\caption{", 1)[1].split("}\n", 1)[0]
        assert fig.stem.replace("_", r"\_") not in text and len(text.split()) > 15
        assert run_id in text
        if fig.stem in FIGURES:
            assert size in text, text
