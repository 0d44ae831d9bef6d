"""The WSGI entry point: ``flask --app app ...`` or any WSGI server pointed at ``app:app``."""

from vendor_risk import create_app
from vendor_risk.config import ConfigError

try:
    app = create_app()
except ConfigError as refused:
    # One line per setting the app cannot honour, and exit status 1: what `flask`, quickstart
    # and a WSGI server print instead of a traceback.
    raise SystemExit(str(refused)) from None
