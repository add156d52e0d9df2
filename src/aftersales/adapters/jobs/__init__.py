"""The job back ends (ports.py::JobQueue): ``in_process`` (threads of this process, for the
embedded SQLite desk) and ``procrastinate_queue`` (PostgreSQL, any number of workers)."""
