"""The emulator's invoice PDF (``Accept: application/pdf``): one A4 page, no libraries.

Enough for the stamp step to stamp: a valid PDF 1.4 with the invoice's lines in Helvetica.
"""

from __future__ import annotations

from collections.abc import Iterable


def _literal(text: str) -> bytes:
    raw = text.encode("cp1252", "replace")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def invoice_pdf(title: str, lines: Iterable[str]) -> bytes:
    content = [b"BT", b"/F1 18 Tf", b"56 790 Td", _literal(title) + b" Tj", b"/F1 11 Tf",
               b"16 TL", b"0 -28 Td"]
    content += [_literal(line) + b" Tj T*" for line in lines]
    content.append(b"ET")
    stream = b"\n".join(content)
    bodies = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream
        + b"\nendstream",
    ]
    pdf = bytearray(b"%PDF-1.4\n")
    starts = []
    for number, body in enumerate(bodies, start=1):
        starts.append(len(pdf))
        pdf += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    table = len(pdf)
    pdf += f"xref\n0 {len(bodies) + 1}\n0000000000 65535 f \n".encode()
    pdf += b"".join(f"{start:010d} 00000 n \n".encode() for start in starts)
    pdf += (f"trailer\n<< /Size {len(bodies) + 1} /Root 1 0 R >>\nstartxref\n{table}\n"
            "%%EOF\n").encode()
    return bytes(pdf)
