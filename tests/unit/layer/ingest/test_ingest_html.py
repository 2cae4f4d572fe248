"""HTML: visible text only, title from <title>, headings kept as Markdown markers."""

from __future__ import annotations

import pytest

from stratus.ingest import DocumentRejected, get_chunker, parse_document

PAGE = b"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="windows-1252">
  <title>  Stratus   user guide </title>
  <style>body { color: red }</style>
  <script>var secret = "do not index";</script>
</head>
<body>
  <nav><a href="/">Home</a> | <a href="/docs">Docs</a></nav>
  <main>
    <h1>Getting <em>started</em></h1>
    <p>Upload a document
       and ask   questions about it.</p>
    <div hidden>hidden banner</div>
    <p style="display: none">invisible</p>
    <h2>Limits</h2>
    <ul><li>50 MB per file</li><li>2000 pages</li></ul>
    <ol><li>upload</li><li>wait</li></ol>
    <table><tr><th>Type</th><th>Parser</th></tr><tr><td>PDF</td><td>pdfium</td></tr></table>
    <pre>def ask():
    return "# not a heading"</pre>
    <p>Caf\xe9 line<br>second line</p>
    <noscript>enable JavaScript</noscript>
  </main>
</body>
</html>
"""


def test_html_visible_text_with_markdown_headings() -> None:
    # When
    document = parse_document(PAGE, "text/html", "guide.html")
    # Then
    assert document.content_type == "text/html"
    assert document.title == "Stratus user guide"
    assert document.pages[0].text == (
        "# Getting started\n\n"
        "Upload a document and ask questions about it.\n\n"
        "## Limits\n\n"
        "- 50 MB per file\n- 2000 pages\n\n"
        "1. upload\n2. wait\n\n"
        "Type | Parser\nPDF | pdfium\n\n"
        '```\ndef ask():\n    return "# not a heading"\n```\n\n'
        "Caf\u00e9 line\nsecond line"
    )
    assert [(heading.level, heading.title) for heading in document.pages[0].headings] == [
        (1, "Getting started"),
        (2, "Limits"),
    ]


def test_html_headings_drive_the_heading_chunker() -> None:
    # Given
    document = parse_document(PAGE, None, "guide.html")
    # When
    chunks = get_chunker("markdown").chunk(document)
    # Then
    assert [chunk.heading_path for chunk in chunks] == [("Getting started",), ("Getting started", "Limits")]
    assert chunks[1].text.startswith("## Limits\n\n- 50 MB per file")


def test_html_without_visible_text_is_rejected() -> None:
    with pytest.raises(DocumentRejected) as rejected:
        parse_document(b"<html><head><title>t</title><script>x()</script></head><body> </body></html>", None, "a.html")
    assert rejected.value.code == "no-text"
    assert rejected.value.reason == "HTML page has no visible text"


def test_html_title_falls_back_to_first_h1_then_file_name() -> None:
    assert parse_document(b"<h1>Only heading</h1><p>x</p>", "text/html", "f.html").title == "Only heading"
    assert parse_document(b"<p>text</p>", "text/html", "dir/file-name.html").title == "file-name"
