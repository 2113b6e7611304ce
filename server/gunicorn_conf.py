"""gunicorn settings for serving the endpoint, shared by ``make run`` and ``exokg serve``.

The app is loaded once in the master (``preload_app``) and the workers are forked from it, so the
dataset is parsed once and its memory shared; each worker then forks its own query processes on
first use. Workers are threaded (gthread) so that one slow query does not hold up the others; the
worker timeout leaves room above the query timeout, which the query processes enforce themselves.
"""

import os

bind = os.environ.get("EXOKG_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("EXOKG_WORKERS", "2"))
worker_class = "gthread"
threads = int(os.environ.get("EXOKG_THREADS", "4"))
preload_app = True
timeout = int(float(os.environ.get("EXOKG_QUERY_TIMEOUT", "10"))) + 30
graceful_timeout = 10
keepalive = 5
limit_request_line = 8190  # gunicorn's maximum: long GET queries; longer ones must be POSTed
accesslog = None  # the app writes its own structured access log (exokg.access)
errorlog = "-"
wsgi_app = "exokg.server.app:create_app()"
control_socket_disable = True  # gunicorn >= 27: no control socket in ~/.gunicorn, so servers can run side by side
