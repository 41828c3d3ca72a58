"""Process wiring: the application, runner, polling, webhook, persistence and demo.

The only package that imports `handlers`.
"""
