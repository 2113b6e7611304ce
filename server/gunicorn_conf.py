"""gunicorn settings for serving the endpoint, shared by ``make run`` and ``exokg serve``.

The app is loaded once in the master (``preload_app``) and the workers are forked from it, so the
dataset is parsed once and its memory shared; each worker then forks its own query processes on
first use. Workers are threaded (gthread) so that one slow query does not hold up the others; the
worker timeout leaves room above the query timeout, which the query processes enforce themselves.
"""

import contextlib
import os
import signal

bind = os.environ.get("EXOKG_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("EXOKG_WORKERS", "2"))
worker_class = "gthread"
threads = int(os.environ.get("EXOKG_THREADS", "4"))
# One query process per thread: otherwise two heavy queries hold a worker's processes and its light
# queries get 503 "every query process stayed busy" (seen in the soak, bench/soak.py).
os.environ.setdefault("EXOKG_QUERY_PROCESSES", str(threads))
preload_app = True
timeout = int(float(os.environ.get("EXOKG_QUERY_TIMEOUT", "10"))) + 30
graceful_timeout = 10
keepalive = 5
limit_request_line = 8190  # gunicorn's maximum: long GET queries; longer ones must be POSTed
accesslog = None  # the app writes its own structured access log (exokg.access)
errorlog = "-"
wsgi_app = "exokg.server.app:create_app()"
control_socket_disable = True  # gunicorn >= 27: no control socket in ~/.gunicorn, so servers can run side by side


def post_fork(server, worker):
    """Each worker leads its own process group, which the query processes it forks inherit."""
    os.setpgid(0, 0)


def child_exit(server, worker):
    """A worker ended (killed, crashed, restarted): end the queries it left running, orphaned.

    A query process only notices its worker is gone when its query ends, and a runaway query never
    does; killed with SIGKILL, the worker could not stop them itself.
    """
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(worker.pid, signal.SIGKILL)
