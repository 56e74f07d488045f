"""Example Airflow DAG: poll the feeds once, then run the pipeline, every 15 minutes.

Copy into the DAGs folder of an Airflow whose workers have newsbeam installed (`newsbeam` on
PATH) and the configuration at /etc/newsbeam/newsbeam.yaml. Secrets belong in the workers'
environment (or an Airflow connection exported to it), not here.

`max_active_runs=1` keeps runs from overlapping, like the CronJob's `concurrencyPolicy: Forbid`;
`pipeline.lock_path` additionally guards one worker host. A failed `newsbeam run` commits no
offsets, so the next interval retries the same records: no Airflow retries needed for it.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from airflow import DAG

try:  # Airflow 3: operators moved to the standard provider
    from airflow.providers.standard.operators.bash import BashOperator
except ImportError:  # Airflow 2
    from airflow.operators.bash import BashOperator

ENV = {"NEWSBEAM_CONFIG": "/etc/newsbeam/newsbeam.yaml"}

with DAG(
    dag_id="newsbeam",
    description="feeds -> Kafka -> Beam -> Parquet on S3",
    schedule="*/15 * * * *",
    start_date=datetime(2025, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"owner": "newsbeam", "execution_timeout": timedelta(hours=2)},
    tags=["newsbeam"],
) as dag:
    # Polls only the feeds that are due; a feed that fails is backed off, not retried here.
    poll = BashOperator(
        task_id="poll",
        bash_command="newsbeam poll --once",
        env=ENV,
        append_env=True,
        execution_timeout=timedelta(minutes=10),
    )
    run = BashOperator(
        task_id="run",
        bash_command="newsbeam run",
        env=ENV,
        append_env=True,
        # Run even when the poll failed: records already in Kafka should still be processed.
        trigger_rule="all_done",
    )
    poll >> run
