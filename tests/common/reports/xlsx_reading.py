"""Reads back what the XLSX export wrote, with the standard library only (XlsxWriter cannot read):
an .xlsx is a ZIP of XML parts; cells in constant-memory mode are numbers or inline strings."""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
}
_OOXML_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")  # how XML-unsafe characters (e.g. CR) are kept
_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"


@dataclass(frozen=True)
class XlsxCell:
    value: str | float
    number_format: str  # "General" when the cell has no format


@dataclass(frozen=True)
class XlsxSheet:
    name: str
    cells: dict[str, XlsxCell]  # "B2" -> cell
    frozen_rows: int
    autofilter: str | None  # "A1:C4"

    def row(self, number: int) -> list[str | float]:
        found = {re.sub(r"\d", "", ref): c.value for ref, c in self.cells.items()
                 if int(re.sub(r"\D", "", ref)) == number}  # fmt: skip
        return [found[col] for col in sorted(found, key=lambda c: (len(c), c))]


def _number_formats(archive: zipfile.ZipFile) -> list[str]:
    styles = ElementTree.fromstring(archive.read("xl/styles.xml"))
    custom = {f.get("numFmtId"): f.get("formatCode") for f in styles.iterfind(".//m:numFmt", NS)}
    builtin = {"0": "General", "3": "#,##0", "10": "0.00%", "14": "yyyy-mm-dd"}
    return [
        custom.get(xf.get("numFmtId"), builtin.get(xf.get("numFmtId"), xf.get("numFmtId")))
        for xf in styles.find("m:cellXfs", NS)
    ]


def _cell_value(cell: ElementTree.Element) -> str | float:
    if cell.get("t") == "inlineStr":
        text = "".join(t.text or "" for t in cell.iterfind(".//m:t", NS))
        return _OOXML_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    return float(cell.find("m:v", NS).text)


def read_workbook(path: Path) -> list[XlsxSheet]:
    with zipfile.ZipFile(path) as archive:
        formats = _number_formats(archive)
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
        targets = {rel.get("Id"): rel.get("Target") for rel in rels.iter(_REL)}
        workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        sheets = []
        for entry in workbook.iterfind(".//m:sheet", NS):
            target = targets[entry.get(f"{{{NS['r']}}}id")]
            xml = ElementTree.fromstring(archive.read(f"xl/{target}"))
            cells = {
                c.get("r"): XlsxCell(_cell_value(c), formats[int(c.get("s", "0"))])
                for c in xml.iterfind(".//m:sheetData/m:row/m:c", NS)
            }
            pane = xml.find(".//m:pane", NS)
            autofilter = xml.find("m:autoFilter", NS)
            sheets.append(
                XlsxSheet(
                    entry.get("name"),
                    cells,
                    int(float(pane.get("ySplit", "0"))) if pane is not None else 0,
                    autofilter.get("ref") if autofilter is not None else None,
                )
            )
        return sheets
