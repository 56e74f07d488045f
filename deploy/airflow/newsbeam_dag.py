"""Example Airflow DAG: poll the feeds once, then run the pipeline, every 15 minutes, each step in
its own pod from the newsbeam image (KubernetesPodOperator), never on the Airflow worker.

Why pods: the poll state and the alert ledger are SQLite files that must outlive a task, and the
run's Beam workers need CPU and memory sized for them. Celery or Kubernetes-executor workers come
and go, so the files would vanish or fork between runs; here they live on the PersistentVolumes
of deploy/k8s (pvc.yaml), mounted by one pod at a time, and newsbeam itself refuses a second
writer on them.

Set up (docs/operations.md, "Airflow"): apply namespace.yaml, serviceaccounts.yaml, configmap.yaml
and pvc.yaml of deploy/k8s (not the poller Deployment and the CronJob: this DAG replaces them),
create the newsbeam-secrets Secret, give Airflow's Kubernetes connection the right to create
pods in the namespace, install apache-airflow-providers-cncf-kubernetes, copy this file into the
DAGs folder and set IMAGE.

`max_active_runs=1` keeps runs from overlapping, like the CronJob's `concurrencyPolicy: Forbid`;
`pipeline.lock_path` on the run's volume additionally stops a second run. A failed `newsbeam run`
commits no offsets, so the next interval retries the same records: no Airflow retries for it.
"""
from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow import DAG
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from kubernetes.client import models as k8s

IMAGE = "registry.example.org/newsbeam:0.1.0"
NAMESPACE = "newsbeam"
# Sizing as deploy/k8s/pipeline-cronjob.yaml: Beam workers = the CPU request (rounded up),
# memory >= 512 MiB + workers x 1152 MiB (docs/operations.md, "Kubernetes").
RUN_CPUS = "2"
RUN_MEMORY = "3Gi"

# The `restricted` Pod Security Standard, as in deploy/k8s.
POD_SECURITY = k8s.V1PodSecurityContext(
    run_as_non_root=True, run_as_user=10001, run_as_group=10001, fs_group=10001,
    fs_group_change_policy="OnRootMismatch", seccomp_profile=k8s.V1SeccompProfile(type="RuntimeDefault"))
CONTAINER_SECURITY = k8s.V1SecurityContext(
    run_as_non_root=True, allow_privilege_escalation=False, read_only_root_filesystem=True,
    capabilities=k8s.V1Capabilities(drop=["ALL"]))

ENV = [
    k8s.V1EnvVar(name="NEWSBEAM_CONFIG", value="/etc/newsbeam/newsbeam.yaml"),
    # MSK IAM signs requests for this region (IRSA sets it too; EKS Pod Identity does not).
    k8s.V1EnvVar(name="AWS_DEFAULT_REGION", value="eu-west-1"),
    k8s.V1EnvVar(name="TMPDIR", value="/tmp"),
]
SECRETS = [k8s.V1EnvFromSource(secret_ref=k8s.V1SecretEnvSource(name="newsbeam-secrets", optional=True))]


def _volumes(state_claim: str, tmp_size: str) -> tuple[list, list]:
    """The ConfigMap (as a directory: updates reach the pod), the state volume, a writable /tmp."""
    volumes = [
        k8s.V1Volume(name="config", config_map=k8s.V1ConfigMapVolumeSource(name="newsbeam-config")),
        k8s.V1Volume(name="state",
                     persistent_volume_claim=k8s.V1PersistentVolumeClaimVolumeSource(claim_name=state_claim)),
        k8s.V1Volume(name="tmp", empty_dir=k8s.V1EmptyDirVolumeSource(size_limit=tmp_size)),
    ]
    mounts = [
        k8s.V1VolumeMount(name="config", mount_path="/etc/newsbeam", read_only=True),
        k8s.V1VolumeMount(name="state", mount_path="/var/lib/newsbeam"),
        k8s.V1VolumeMount(name="tmp", mount_path="/tmp"),
    ]
    return volumes, mounts


POLL_VOLUMES, POLL_MOUNTS = _volumes("newsbeam-poll-state", "256Mi")
RUN_VOLUMES, RUN_MOUNTS = _volumes("newsbeam-run-state", "1Gi")

with DAG(
    dag_id="newsbeam",
    description="feeds -> Kafka -> Beam -> Parquet on S3, each step in a newsbeam pod",
    schedule="*/15 * * * *",
    # Timezone-aware: the schedule is in UTC whatever the Airflow installation's default zone.
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args={"owner": "newsbeam", "execution_timeout": timedelta(hours=2)},
    tags=["newsbeam"],
) as dag:
    # Polls only the feeds that are due; a feed that fails is backed off, not retried here.
    poll = KubernetesPodOperator(
        task_id="poll",
        name="newsbeam-poll",
        namespace=NAMESPACE,
        image=IMAGE,
        cmds=["newsbeam"],
        arguments=["poll", "--once"],
        env_vars=ENV,
        env_from=SECRETS,
        service_account_name="newsbeam-poller",
        automount_service_account_token=False,
        security_context=POD_SECURITY,
        container_security_context=CONTAINER_SECURITY,
        container_resources=k8s.V1ResourceRequirements(requests={"cpu": "100m", "memory": "256Mi"},
                                                       limits={"memory": "1Gi"}),
        volumes=POLL_VOLUMES,
        volume_mounts=POLL_MOUNTS,
        get_logs=True,
        on_finish_action="delete_pod",
        execution_timeout=timedelta(minutes=10),
    )
    run = KubernetesPodOperator(
        task_id="run",
        name="newsbeam-run",
        namespace=NAMESPACE,
        image=IMAGE,
        cmds=["newsbeam"],
        # $(BEAM_WORKERS) is expanded by Kubernetes from the env below: the CPU request, not the
        # node's CPU count.
        arguments=["run", "--direct_num_workers=$(BEAM_WORKERS)", "--direct_running_mode=multi_processing"],
        env_vars=[*ENV, k8s.V1EnvVar(name="BEAM_WORKERS", value_from=k8s.V1EnvVarSource(
            resource_field_ref=k8s.V1ResourceFieldSelector(container_name="base", resource="requests.cpu",
                                                           divisor="1")))],
        env_from=SECRETS,
        service_account_name="newsbeam-pipeline",
        automount_service_account_token=False,
        security_context=POD_SECURITY,
        container_security_context=CONTAINER_SECURITY,
        container_resources=k8s.V1ResourceRequirements(requests={"cpu": RUN_CPUS, "memory": RUN_MEMORY},
                                                       limits={"memory": RUN_MEMORY}),
        volumes=RUN_VOLUMES,
        volume_mounts=RUN_MOUNTS,
        get_logs=True,
        on_finish_action="delete_pod",
        # Run even when the poll failed: records already in Kafka should still be processed.
        trigger_rule="all_done",
    )
    poll >> run
