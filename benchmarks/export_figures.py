"""Export rows/s: ``run_export`` end to end vs a bare writer loop over the same rows.

The loops and the export run are ``benchmarks/export_bench.py``'s, so both benchmarks mean the
same thing by "baseline":

* CSV baseline: the export's rows read through ``RowSource`` (SQL + path pivot, the shared
  floor) and written by a bare ``csv.writer`` loop, times formatted with the same lookup tables;
  no formula guard, no progress, no temporary file and rename.
* XLSX baseline: the same rows appended to a bare openpyxl write-only workbook and saved; no
  styles, widths, filter or formula guard.
* Export: ``flowdesk.core.export.run_export`` as the app runs it, on its own connection.

CSV covers the whole biggest flow ("Download results" on its summary). XLSX covers the scope of
that flow with the most rows up to ``xlsx_cap`` (the whole flow on small workspaces; a version
or a status filter on big ones): openpyxl writes a few thousand rows a second, so the whole
flow at 1M runs would take over a minute per repetition. Baseline and export alternate (which
goes first alternates too), and each figure is the median of the repetitions' wall-clock rates.
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path

from benchmarks.common import Figure


def _pick_xlsx_spec(db, flow_id: str, cap: int):  # noqa: ANN001, ANN202
    """The scope of ``flow_id`` with the most rows not above ``cap``."""
    from flowdesk.core import queries as q
    from flowdesk.core.export import ExportSpec
    from flowdesk.core.model import METRICS

    flow = next(f for f in q.list_flows(db) if f.id == flow_id)
    candidates = [(flow.counters.contacts, ExportSpec(flow_id, format="xlsx"))]
    for version in q.list_versions(db, flow_id):
        candidates.append(
            (version.counters.contacts, ExportSpec(flow_id, version.id, format="xlsx"))
        )
    for metric in METRICS:
        query = q.ContactQuery(q.Scope(flow_id), metric=metric)
        candidates.append((getattr(flow.counters, metric), ExportSpec.for_contacts(query, "xlsx")))
    fitting = [c for c in candidates if 0 < c[0] <= cap]
    if not fitting:
        return min(candidates, key=lambda c: c[0])[1]
    return max(fitting, key=lambda c: c[0])[1]


def _scope_text(spec) -> str:  # noqa: ANN001
    if spec.version_id:
        return "one version"
    if spec.metric:
        return f"status “{spec.metric}”"
    return "whole flow"


def measure(db_path: Path, scale: int, repeat: int = 3, xlsx_cap: int = 20_000) -> list[Figure]:
    from benchmarks.export_bench import (
        measure_csv_baseline,
        measure_export,
        measure_xlsx_baseline,
    )
    from flowdesk.core.db import connect
    from flowdesk.core.export import ExportSpec, RowSource
    from flowdesk.core.queries import list_flows

    db = connect(db_path)
    flow = max(list_flows(db), key=lambda f: f.counters.contacts)
    specs = {
        "csv_export": ExportSpec(flow.id, format="csv"),
        "xlsx_export": _pick_xlsx_spec(db, flow.id, xlsx_cap),
    }
    width = len(RowSource(db.conn, specs["csv_export"]).header)
    db.conn.close()
    figures = []
    with tempfile.TemporaryDirectory(prefix="flowdesk-bench-") as folder:
        out = Path(folder)
        for name, spec in specs.items():
            reps = repeat
            ours, theirs = [], []
            rows = 0

            def baseline(spec=spec):  # noqa: ANN001, ANN202
                if spec.format == "csv":
                    return measure_csv_baseline(db_path, spec, out / "base.csv", naive=False)
                return measure_xlsx_baseline(db_path, spec, out / "base.xlsx")

            for rep in range(reps):
                # Alternate which goes first, so warm-up and heap state favour neither.
                if rep % 2 == 0:
                    base = baseline()
                    export = measure_export(db_path, spec, out / f"export.{spec.format}")
                else:
                    export = measure_export(db_path, spec, out / f"export.{spec.format}")
                    base = baseline()
                assert export.rows == base.rows, (export.rows, base.rows)
                rows = export.rows
                theirs.append(base.rows / base.wall)
                ours.append(export.rows / export.wall)
            figures.append(
                Figure(
                    name,
                    scale,
                    statistics.median(ours),
                    "rows/s",
                    statistics.median(theirs),
                    note=f"{rows:,} rows × {width} columns ({_scope_text(spec)}); {reps} reps",
                    samples=ours,
                )
            )
    return figures
