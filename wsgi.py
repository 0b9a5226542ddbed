"""WSGI entry point: ``gunicorn wsgi:app``.

gunicorn does not read ``.env``; this module does. Each worker may start the scheduler
(``GATEWAY_SCHEDULER=1``): the job-run table keeps every firing to one worker.
"""

from __future__ import annotations

from dotenv import load_dotenv

load_dotenv()

from gateway import create_app  # noqa: E402

app = create_app()

if app.extensions["gateway"].settings.scheduler and app.extensions["gateway"].settings.mode == "full":
    from gateway import jobs

    jobs.start(app.extensions["gateway"])
