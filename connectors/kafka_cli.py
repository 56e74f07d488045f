"""Argument wiring for `newsbeam kafka init` and `newsbeam kafka acls` (the CLI calls these)."""
from __future__ import annotations

import argparse
from typing import Any

from connectors import console
from connectors import kafka_admin as ka
from connectors.errors import UsageError

ACL_FORMATS = ("kafka-acls", "confluent", "msk-iam", "none")


def add_kafka_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="kafka_command", metavar="ACTION", required=True)
    init = sub.add_parser(
        "init", help="create the topics with the documented settings (idempotent) and print the ACLs",
        description="Creates kafka.topic (and the topics of Kafka alert sinks on the same cluster) with "
        f"{ka.ITEMS_PARTITIONS} partitions, replication min(3, brokers), retention "
        f"{ka.ITEMS_RETENTION_DAYS} days, cleanup.policy=delete and min.insync.replicas=min(2, replication). "
        "An existing topic keeps its data and partitions; settings that differ are set. Then prints the "
        "ACLs the poller, the pipeline and the Kafka alert sink need. Connects with kafka.bootstrap_servers "
        "and kafka.client_config: run it as an admin principal.",
        epilog="exit status: 0 done, 3 Kafka unreachable, refused or failed, 2 bad arguments")
    init.add_argument("--partitions", type=int, default=ka.ITEMS_PARTITIONS, metavar="N",
                      help=f"partitions of the items topic (default {ka.ITEMS_PARTITIONS})")
    init.add_argument("--replication-factor", type=int, default=None, metavar="N",
                      help="replicas per partition (default: 3, or the number of brokers if fewer)")
    init.add_argument("--retention-days", type=float, default=ka.ITEMS_RETENTION_DAYS, metavar="DAYS",
                      help=f"how long Kafka keeps items, i.e. how far back a backfill can reach "
                      f"(default {ka.ITEMS_RETENTION_DAYS})")
    init.add_argument("--dry-run", action="store_true", help="only say what would be created or changed")
    init.add_argument("--apply-acls", action="store_true",
                      help="also create the ACLs on the cluster (Kafka's StandardAuthorizer, Confluent "
                      "Cloud; not MSK IAM, which uses IAM policies)")
    _add_acl_arguments(init)
    init.set_defaults(acl_format="kafka-acls")

    acls = sub.add_parser("acls", help="print the ACLs (or MSK IAM policies) of each component, offline",
                          description="Prints what the poller, the pipeline and the Kafka alert sink may do "
                          "on the cluster, without connecting to it.")
    _add_acl_arguments(acls)
    acls.set_defaults(acl_format="kafka-acls")


def _add_acl_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", dest="acl_format", choices=ACL_FORMATS,
                   help="kafka-acls (kafka-acls.sh commands, default), confluent (confluent CLI), "
                   "msk-iam (IAM policy per component), none")
    for component in (ka.POLLER, ka.PIPELINE, ka.ALERTS):
        p.add_argument(f"--{component}-principal", metavar="PRINCIPAL",
                       help=f"Kafka principal of the {component} (default {ka.DEFAULT_PRINCIPALS[component]}; "
                       "Confluent Cloud: User:sa-xxxxx)")
    p.add_argument("--msk-cluster-arn", metavar="ARN", help="with --format msk-iam: the cluster's ARN")


def _principals(args: argparse.Namespace) -> dict[str, str]:
    return {c: getattr(args, f"{c}_principal") for c in (ka.POLLER, ka.PIPELINE, ka.ALERTS)
            if getattr(args, f"{c}_principal", None)}


def kafka_alert_sinks(config: Any) -> list:
    """The Kafka alert sinks of the configuration (validated with it, when it was loaded)."""
    from connectors.alerts.config import KafkaSink

    return [s for s in config.alerts.sinks if isinstance(s, KafkaSink)]


def _same_cluster(a: str | list[str], b: str | list[str]) -> bool:
    def norm(v):
        return {x.strip() for x in (v.split(",") if isinstance(v, str) else v)}
    return bool(norm(a) & norm(b))


def grants_for(config: Any, args: argparse.Namespace) -> list[ka.Grant]:
    kafka = config.kafka
    return ka.component_grants(kafka.topic, kafka.group_id, [s.topic for s in kafka_alert_sinks(config)],
                               _principals(args))


def run_kafka(args: argparse.Namespace, config: Any) -> int:
    if args.kafka_command == "acls":
        if args.acl_format != "none":
            console.result(ka.render(grants_for(config, args), args.acl_format,
                                     bootstrap=config.kafka.bootstrap_servers, msk_cluster_arn=args.msk_cluster_arn),
                           acl_format=args.acl_format)
        return 0
    return _init(args, config)


def _init(args: argparse.Namespace, config: Any) -> int:
    kafka = config.kafka
    if args.partitions < 1 or (args.replication_factor is not None and args.replication_factor < 1) \
            or args.retention_days <= 0:
        raise UsageError("--partitions and --replication-factor must be >= 1, --retention-days > 0")
    specs = [ka.items_topic(kafka.topic, args.partitions, args.retention_days, args.replication_factor)]
    elsewhere = []
    for sink in kafka_alert_sinks(config):
        if _same_cluster(sink.bootstrap_servers, kafka.bootstrap_servers):
            specs.append(ka.alerts_topic(sink.topic, args.replication_factor))
        else:
            elsewhere.append(sink)
    # KafkaAdminError (unreachable, refused, failed) goes up to the CLI: one line, exit 3
    admin = ka.admin_client(kafka.bootstrap_servers, dict(kafka.client_config), kafka.request_timeout_ms)
    try:
        for spec in specs:
            console.result(ka.ensure_topic(admin, spec, dry_run=args.dry_run).line(), topic=spec.name)
        grants = grants_for(config, args)
        if args.apply_acls and not args.dry_run:
            bindings = ka.apply_acls(admin, grants)
            console.result(f"acls: {bindings} ACL bindings created or already present", acl_bindings=bindings)
    finally:
        admin.close()
    for sink in elsewhere:
        console.result(f"alert sink {sink.name}: topic {sink.topic} is on another cluster "
                       f"({sink.bootstrap_servers}): create it there ({ka.ALERTS_PARTITIONS} partitions, "
                       f"retention {ka.ALERTS_RETENTION_DAYS} days)", topic=sink.topic)
    if args.acl_format != "none":
        console.result(f"# ACLs each component needs ({args.acl_format}):\n"
                       + ka.render(grants, args.acl_format, bootstrap=kafka.bootstrap_servers,
                                   msk_cluster_arn=args.msk_cluster_arn), acl_format=args.acl_format)
    return 0
