"""Benchmarks of rawS3 against the S3 clients a user would otherwise pick, on one local server.

Run from the repository root::

    python -m bench            # full run: starts a throw-away Ceph RGW (memstore)
    python -m bench --smoke    # every workload at tiny sizes, once: checks the harness works

With ``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID`` and ``AWS_SECRET_ACCESS_KEY`` set, the given
server is used instead. The peers are installed from the ``bench`` extra into ``.venv-bench``
(created on first use), since their pins differ from the test environment's. Results go to
``bench/results/latest.md`` and ``bench/results/chart.png``; ``python -m bench --help`` lists
the options.
"""
