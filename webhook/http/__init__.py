"""The HTTP side: the Flask app, TLS, metrics and the gunicorn server."""
