"""Use cases. Flask-free: the API, the CLI and scheduled jobs all call these.

Each write runs in `write_transaction()`; callers' mistakes raise `app.errors.ApiError`.
"""
