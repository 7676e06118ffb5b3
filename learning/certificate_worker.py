"""Turn a certificate's HTML into PDF bytes with xhtml2pdf, in a process of its own.

learning.certificate_pdf runs this file (`python -I certificate_worker.py`) with a JSON request
on stdin and reads the PDF from stdout; it kills the process past its time limit. Why a process:
xhtml2pdf and reportlab parse what the page holds (a learner's name, a course title), and a
parser bug that loops or crashes must cost one render, not a server thread.

The request names every file the page may read (`assets`: URI -> absolute path, resolved by
the server) besides the QR code's PNG data URI; any other URI is refused. xhtml2pdf's own
policy also denies the network and confines local reads to `base_dir`. Standard library and
xhtml2pdf only: `-I` runs it without the project on sys.path.

    {"html": "<html>...", "assets": {"/static/learning/fonts/DejaVuSans.ttf": "/srv/..."},
     "base_dir": "/srv/kolibri-like", "max_seconds": 60}
"""

from __future__ import annotations

import io
import json
import sys

QR_DATA_URI_PREFIX = "data:image/png;base64,"
# Exit status for "xhtml2pdf could not render this page"; stderr carries the reason.
EXIT_RENDER_FAILED = 3


class RefusedResourceError(Exception):
    pass


def render(request: dict[str, object]) -> bytes:
    from xhtml2pdf import pisa
    from xhtml2pdf.config.resources import ResourceAccessPolicy

    assets = dict(request.get("assets") or {})  # type: ignore[call-overload]

    def link_callback(uri: str, rel: str | None = None) -> str:
        if uri.startswith(QR_DATA_URI_PREFIX):
            return uri
        if uri in assets:
            return str(assets[uri])
        raise RefusedResourceError(f"the certificate template asked for {uri[:80]!r}; only "
                                   "our static files may be used")

    policy = ResourceAccessPolicy(allow_remote=False, base_dir=str(request["base_dir"]),
                                  max_render_seconds=int(request["max_seconds"]))  # type: ignore[call-overload]
    output = io.BytesIO()
    status = pisa.CreatePDF(str(request["html"]), dest=output, encoding="utf-8",
                            link_callback=link_callback, resource_policy=policy)
    if status.err:
        raise RuntimeError(f"xhtml2pdf reported {status.err} error(s) rendering the certificate")
    data = output.getvalue()
    if not data.startswith(b"%PDF-"):
        raise RuntimeError("xhtml2pdf produced no PDF")
    return data


def main() -> int:
    try:
        data = render(json.loads(sys.stdin.buffer.read()))
    except RefusedResourceError as error:
        sys.stderr.write(f"{error}\n")
        return EXIT_RENDER_FAILED
    except Exception as error:  # xhtml2pdf raises anything from its parsers and reportlab
        sys.stderr.write(f"xhtml2pdf failed: {error.__class__.__name__}: {error}\n")
        return EXIT_RENDER_FAILED
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
