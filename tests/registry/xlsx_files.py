"""Hand-made XLSX files for the import tests: the few parts a reader needs, written straight
into a zip, so that a crafted file (millions of cells or rows) is small on disk and quick to
make."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable

_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def xlsx(sheet_rows: Iterable[bytes], shared_strings: Iterable[bytes] | None = None) -> bytes:
    """A workbook whose first sheet's <sheetData> is ``sheet_rows`` (raw XML chunks) and whose
    shared strings are ``shared_strings`` (raw <si> chunks), both streamed into the zip."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats'
            '.org/package/2006/content-types"><Default Extension="xml" ContentType="application/'
            'xml"/></Types>',
        )
        archive.writestr(
            "xl/workbook.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><workbook {_NS} xmlns:r="{_REL}"><sheets>'
            '<sheet name="Sap" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        rels = f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
        if shared_strings is not None:
            rels += (
                f'<Relationship Id="rId2" Type="{_REL}/sharedStrings" Target="sharedStrings.xml"/>'
            )
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            f'openxmlformats.org/package/2006/relationships">{rels}</Relationships>',
        )
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as part:
            part.write(
                f'<?xml version="1.0" encoding="UTF-8"?><worksheet {_NS}><sheetData>'.encode()
            )
            _write_chunked(part, sheet_rows)
            part.write(b"</sheetData></worksheet>")
        if shared_strings is not None:
            with archive.open("xl/sharedStrings.xml", "w", force_zip64=True) as part:
                part.write(f'<?xml version="1.0" encoding="UTF-8"?><sst {_NS}>'.encode())
                _write_chunked(part, shared_strings)
                part.write(b"</sst>")
    return buffer.getvalue()


def _write_chunked(part, chunks: Iterable[bytes]) -> None:
    pending: list[bytes] = []
    size = 0
    for chunk in chunks:
        pending.append(chunk)
        size += len(chunk)
        if size > 1 << 20:
            part.write(b"".join(pending))
            pending, size = [], 0
    part.write(b"".join(pending))


def inline_row(line: int, values: list[object]) -> bytes:
    """A row of inline-string cells (str) and number cells (int, float)."""
    cells = []
    for index, value in enumerate(values):
        ref = f"{chr(65 + index)}{line}"
        if isinstance(value, int | float):
            cells.append(f'<c r="{ref}"><v>{value}</v></c>')
        elif value:
            text = str(value).replace("&", "&amp;").replace("<", "&lt;")
            cells.append(f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>')
    return f'<row r="{line}">{"".join(cells)}</row>'.encode()
