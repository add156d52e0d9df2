"""The desk's background jobs, wired: what each job does (``desk_jobs``) and which back end
runs them (``back_end``). `aftersales serve`, `aftersales worker` and `aftersales jobs` use
this package; the rules (periods, retries, the log) are in domain/jobs.py and services/jobs.py."""
