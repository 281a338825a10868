"""The figures, the Markdown report and the skew plot of bench/sync_accuracy.py."""

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sync_analysis import (
    SETTLE,
    converged_after,
    in_windows,
    percentile,
    server_distances,
    skew_series,
    start_spread,
)


@dataclass
class ScenarioResult:
    scenario: str
    label: str
    available: bool = True
    skew: dict = field(default_factory=dict)  # p50, p95, max in ms over the steady windows
    steady_seconds: float = 0.0
    server_p95: dict = field(default_factory=dict)  # page -> p95 |page - server| in ms
    spread: dict = field(default_factory=dict)  # command -> start spread in ms
    converge: dict = field(default_factory=dict)  # command -> seconds until all within 50 ms
    seeks: int = 0
    rate_changes: int = 0
    cpu: float = 0.0
    stall: dict = field(default_factory=dict)
    series: list = field(default_factory=list)  # (seconds since PLAY, skew ms)


def effective(snapshot: dict) -> float:
    return snapshot.get("effective_at", snapshot["server_time"])


def ms(value):
    return None if value is None else round(value * 1000, 1)


def windows_of(commands: dict, snapshots: list[dict], end: float) -> tuple[list, dict]:
    """Steady windows (SETTLE s after each start) and, for a stall, when the room paused and resumed."""
    play = commands["PLAY"]
    if "SEEK" in commands:
        seek = commands["SEEK"]
        return [(effective(play) + SETTLE, seek["server_time"]), (effective(seek) + SETTLE, end)], {}
    later = sorted((s for s in snapshots if s["version"] > play["version"]), key=lambda s: s["version"])
    pause = next((s for s in later if not s["is_playing"]), None)
    resume = next((s for s in later if pause and s["version"] > pause["version"] and s["is_playing"]), None)
    if pause is None or resume is None:
        return [(effective(play) + SETTLE, end)], {"waited": False}
    stall = {"waited": True, "paused_at": pause["server_time"], "resumed_at": effective(resume)}
    return [(effective(play) + SETTLE, pause["server_time"]), (effective(resume) + SETTLE, end)], stall


def analyse(scenario, label, tracks, snapshots, commands, span, cpu) -> ScenarioResult:
    """Every figure of one scenario on one code version."""
    start, end = span
    windows, stall = windows_of(commands, snapshots, end)
    series = skew_series(tracks, effective(commands["PLAY"]) - 1, end)
    steady = in_windows(series, windows)
    result = ScenarioResult(scenario, label, cpu=round(cpu, 1), stall=stall)
    result.skew = {"p50": ms(percentile(steady, 50)), "p95": ms(percentile(steady, 95)),
                   "max": ms(max(steady, default=float("nan")))}  # fmt: skip
    result.steady_seconds = round(len(steady) * 0.1, 1)
    for track in tracks:
        result.server_p95[track.name] = ms(percentile(server_distances(track, snapshots, windows), 95))
    for name in ("PLAY", "SEEK"):
        if name in commands:
            result.spread[name] = ms(start_spread(tracks, commands[name]))
            result.converge[name] = converged_after(series, effective(commands[name]))
    result.seeks = sum(t.count("seeking", start, end) for t in tracks)
    result.rate_changes = sum(t.count("ratechange", start, end) for t in tracks)
    if stall.get("waited"):
        after = [
            skew for moment, skew in series if stall["resumed_at"] + 2 <= moment <= stall["resumed_at"] + 3
        ]
        stall["resumed_after"] = round(stall["resumed_at"] - stall["paused_at"], 2)
        stall["skew_2s_after_resume_ms"] = ms(max(after, default=None))
    origin = effective(commands["PLAY"])
    result.series = [(round(moment - origin, 2), ms(skew)) for moment, skew in series]
    return result


def cell(value, unit: str = "") -> str:
    if value is None or value != value:  # None or nan
        return "-"
    return f"{value:g}{unit}"


def row(result: ScenarioResult) -> str:
    if not result.available:
        return f"| {result.scenario} | {result.label} | n/a |" + " |" * 8
    worst = max((v for v in result.server_p95.values() if v is not None), default=None)
    spread = " / ".join(cell(result.spread.get(n)) for n in ("PLAY", "SEEK") if n in result.spread)
    converge = " / ".join(cell(result.converge.get(n) and round(result.converge[n], 1), " s")
                          for n in ("PLAY", "SEEK") if n in result.converge)  # fmt: skip
    skew = result.skew
    return (f"| {result.scenario} | {result.label} | {cell(skew['p50'])} | {cell(skew['p95'])} | "
            f"{cell(skew['max'])} | {cell(worst)} | {spread} | {converge} | {result.seeks} / "
            f"{result.rate_changes} | {result.cpu:.0f}% |")  # fmt: skip


HEADER = (
    "| scenario | code | skew p50 ms | skew p95 ms | skew max ms | worst page p95 vs server ms "
    "| start spread ms (PLAY / SEEK) | all within 50 ms after (PLAY / SEEK) | seeks / rate changes | CPU |\n"
    "|---|---|---|---|---|---|---|---|---|---|"
)


def stall_lines(results: list[ScenarioResult]) -> list[str]:
    lines = []
    for result in results:
        if result.scenario != "d":
            continue
        if not result.available:
            lines.append(f"- (d) {result.label}: n/a (no `start_when_ready` / `pause_on_buffering`)")
        elif not result.stall.get("waited"):
            lines.append(f"- (d) {result.label}: the room did not wait for the stalled viewer")
        else:
            stall = result.stall
            lines.append(f"- (d) {result.label}: the room paused for the stalled viewer and resumed "
                         f"{stall['resumed_after']} s later; skew 2-3 s after resuming: "
                         f"{cell(stall['skew_2s_after_resume_ms'])} ms at most")  # fmt: skip
    return lines


def write_report(results: list[ScenarioResult], context: dict, out: Path) -> Path:
    """Write the Markdown report and the raw figures; return the report's path."""
    out.mkdir(parents=True, exist_ok=True)
    when, chosen = context["when"], context["args"].scenarios
    lines = [f"# Sync accuracy, {when:%Y-%m-%d %H:%M} UTC", "",
             f"Machine: {context['machine']}; {context['chromium']}; load average at the end "
             f"{context['load'][0]:.2f}. Host + {context['args'].viewers} viewers, one Chromium, two server "
             f"processes per code version, {context['args'].phase:g} s per phase. CPU is the whole machine's "
             "busy share during the scenario.", "",
             *[f"- ({key}) {name}" for key, name in context["scenarios"].items() if key in chosen],
             "", HEADER, *[row(r) for r in results], "", *stall_lines(results), "",
             "Worst page p95 vs server per page:", ""]  # fmt: skip
    for result in results:
        if result.available:
            pages = ", ".join(f"{name} {cell(v)}" for name, v in result.server_p95.items())
            lines.append(f"- ({result.scenario}) {result.label}: {pages}")
    path = out / f"sync-{when:%Y%m%d-%H%M}.md"
    path.write_text("\n".join(lines) + "\n")
    raw = [asdict(r) for r in results]
    path.with_suffix(".json").write_text(json.dumps(raw, indent=1))
    return path


def plot_skew(results: list[ScenarioResult], scenario: str, path: Path) -> None:
    """Skew over time since PLAY for one scenario, one line per code version."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    chosen = [r for r in results if r.scenario == scenario and r.available and r.series]
    if not chosen:
        return
    figure, axes = pyplot.subplots(figsize=(9, 4), dpi=110)
    for result in chosen:
        axes.plot([t for t, _ in result.series], [max(s, 1) for _, s in result.series], label=result.label,
                  linewidth=1)  # fmt: skip
    axes.set_yscale("log")
    axes.axhline(50, color="grey", linestyle="--", linewidth=0.8)
    axes.set_xlabel("seconds since PLAY took effect (SEEK to 5 s half way)")
    axes.set_ylabel("skew between players, ms (log)")
    axes.set_title(f"Scenario ({scenario}): skew between the host and 6 viewers")
    axes.legend()
    figure.tight_layout()
    figure.savefig(path)
    pyplot.close(figure)
