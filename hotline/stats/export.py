"""A report as CSV or XLSX: the same tables the page shows, machine names in the headers.

CSV holds every table one after another: a line ``[section]``, the header, the rows, an
empty line (``[headline]`` first, as ``name,value`` rows). XLSX (xlsxwriter) holds one sheet
per table, the headline first. Numbers stay numbers (no formatting into text), so a
spreadsheet sums them and a test reads back exactly what was computed.
"""

from __future__ import annotations

import csv
import io
import math

import pandas as pd
import xlsxwriter

from hotline.stats.daily import StatsReport

FORMATS = ("csv", "xlsx")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _tables(report: StatsReport) -> list[tuple[str, pd.DataFrame]]:
    # object dtype: a count stays an int beside the rates (no 120 -> 120.0).
    headline = pd.DataFrame(
        {
            "name": list(report.headline),
            "value": pd.Series(list(report.headline.values()), dtype=object),
        }
    )
    return [("headline", headline), *report.sections.items()]


def _cell(value: object) -> object:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def to_csv(report: StatsReport) -> bytes:
    """Every table of the report in one CSV (UTF-8 with a BOM, so Excel reads Chinese)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["report", report.kind, "period", report.period.label])
    writer.writerow([])
    for name, table in _tables(report):
        writer.writerow([f"[{name}]"])
        writer.writerow(list(table.columns))
        for row in table.itertuples(index=False):
            writer.writerow(["" if (c := _cell(v)) is None else c for v in row])
        writer.writerow([])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(report: StatsReport) -> bytes:
    """One sheet per table, the headline first; sheet names are the section names."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "nan_inf_to_errors": True})
    bold = book.add_format({"bold": True})
    for name, table in _tables(report):
        sheet = book.add_worksheet(name[:31])
        for col, head in enumerate(table.columns):
            sheet.write(0, col, str(head), bold)
        for row_no, row in enumerate(table.itertuples(index=False), start=1):
            for col, value in enumerate(row):
                cell = _cell(value)
                if cell is not None:
                    sheet.write(row_no, col, cell)
        sheet.set_column(0, max(0, len(table.columns) - 1), 16)
    book.close()
    return buffer.getvalue()


def export(report: StatsReport, fmt: str) -> bytes:
    if fmt == "csv":
        return to_csv(report)
    if fmt == "xlsx":
        return to_xlsx(report)
    msg = f"unknown export format {fmt!r}; expected one of {FORMATS}"
    raise ValueError(msg)
