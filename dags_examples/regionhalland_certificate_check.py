"""Daily: fail weeks before a Region Halland client certificate expires (docs/rotation.md).

The task fails while any ``regionhalland`` connection is inside its warning period
(``extra.expiry_warning_days``, default 30 days) without a next certificate AD FS accepts. Route
the failure to people with Airflow's own alerting: ``email_on_failure`` with an address, or an
``on_failure_callback`` notifier (Slack, Teams, ...).

Name your connections in ``conn_ids``: each is then read from wherever it is defined (UI/database,
``AIRFLOW_CONN_*`` variable, secrets backend). Without ``conn_ids`` the task checks the ones it can
list and FAILS saying which sources it could not list: under a scheduler, Airflow 3 tasks cannot
read Airflow's database (connections made in the UI), and no secrets backend can be listed.
"""

from __future__ import annotations

import datetime as dt

from airflow.sdk import DAG

from airflow_provider_rh.operators.certificates import RegionHallandCertificateCheckOperator

with DAG(
    dag_id="regionhalland_certificate_check",
    schedule="@daily",
    start_date=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc),
    catchup=False,
    tags=["regionhalland", "certificates"],
    default_args={"retries": 0},
) as dag:
    RegionHallandCertificateCheckOperator(
        task_id="certificates",
        # conn_ids=["hsainfo_prod", "hsainfo_test"],  # name them; default: every one this task can list
        # on_failure_callback=SlackNotifier(...),     # or email_on_failure=True, email=["team@..."]
    )
