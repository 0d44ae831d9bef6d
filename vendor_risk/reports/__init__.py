"""PDF reports: plain data read once from the database (data), HTML from Jinja templates and
a PDF from WeasyPrint behind a URL fetcher that reads nothing but the app's own static files
and data: URIs (render), the download routes (views) and ``flask --app app report`` (cli)."""
