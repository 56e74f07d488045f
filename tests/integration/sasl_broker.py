"""A second, real Kafka broker for tests: one KRaft node whose only client listener is SASL_SSL
with SCRAM-SHA-512, as on MSK or a self-managed production cluster.

Everything is made here with the tools an operator has: a throw-away CA and the broker's
certificate with `keytool`, the SCRAM credentials with Kafka's own `StorageTool format
--add-scram` (and `kafka-configs` for a user added while it runs), ACLs enforced by the
StandardAuthorizer, topic auto-creation off (managed clusters need `newsbeam kafka init`).
The broker runs in its own process group and `stop()` ends exactly that group.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KAFKA_SH = ROOT / "deploy" / "local" / "kafka.sh"
ADMIN = "admin"


@dataclass(frozen=True)
class User:
    name: str
    password: str


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_bindable(port: int, timeout: float = 90) -> None:
    """A fixed port just used by an earlier broker stays in TIME_WAIT for a minute, and Kafka
    binds without SO_REUSEADDR: wait until a plain bind succeeds."""
    deadline = time.monotonic() + timeout
    while True:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"port {port} stays in use; set NEWSBEAM_KAFKA_SASL_PORT / "
                                       "NEWSBEAM_KAFKA_SASL_CONTROLLER_PORT to free ports") from None
        time.sleep(2)


def kafka_libs() -> Path:
    """The broker jars of the local stack (fetched once by deploy/local/kafka.sh)."""
    out = subprocess.run(["bash", str(KAFKA_SH), "libs"], capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise RuntimeError(f"kafka.sh libs failed: {out.stderr.strip()}")
    return Path(out.stdout.strip().splitlines()[-1])


class SaslSslBroker:
    def __init__(self, workdir: Path, users: list[User], port: int | None = None,
                 controller_port: int | None = None):
        self.dir = Path(workdir)
        self.port = port or int(os.environ.get("NEWSBEAM_KAFKA_SASL_PORT") or free_port())
        self.controller_port = controller_port or int(
            os.environ.get("NEWSBEAM_KAFKA_SASL_CONTROLLER_PORT") or free_port())
        self.admin = User(ADMIN, "admin-" + uuid.uuid4().hex[:12])
        self.users = {u.name: u for u in users}
        self.store_password = uuid.uuid4().hex
        self.libs = kafka_libs()
        self.ca_pem = self.dir / "ca.pem"
        self._proc: subprocess.Popen | None = None
        self.log = self.dir / "broker.log"

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    # -- what a client needs ------------------------------------------------------------------
    def client_config(self, user: User) -> dict:
        """kafka-python settings (`kafka.client_config`) for this broker as `user`."""
        return {"security_protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512",
                "sasl_plain_username": user.name, "sasl_plain_password": user.password,
                "ssl_cafile": str(self.ca_pem)}

    def _java_client_properties(self, user: User) -> Path:
        path = self.dir / f"{user.name}.properties"
        path.write_text(
            "security.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\n"
            f"sasl.jaas.config={_jaas(user)}\n"
            f"ssl.truststore.type=PEM\nssl.truststore.location={self.ca_pem}\n")
        return path

    # -- set-up -------------------------------------------------------------------------------
    def _keytool(self, *args: str) -> None:
        subprocess.run(["keytool", *args], check=True, capture_output=True, timeout=120)

    def make_certificates(self) -> None:
        """A CA and a broker certificate for 127.0.0.1/localhost, signed by it (keytool only)."""
        ca, broker, pw = self.dir / "ca.p12", self.dir / "broker.p12", self.store_password
        common = ["-storetype", "PKCS12", "-storepass", pw, "-keypass", pw]
        self._keytool("-genkeypair", "-alias", "ca", "-keyalg", "RSA", "-keysize", "2048", "-validity", "2",
                      "-dname", "CN=newsbeam test CA", "-ext", "bc:c", "-keystore", str(ca), *common)
        self._keytool("-exportcert", "-rfc", "-alias", "ca", "-keystore", str(ca), "-storepass", pw,
                      "-file", str(self.ca_pem))
        self._keytool("-genkeypair", "-alias", "broker", "-keyalg", "RSA", "-keysize", "2048", "-validity", "2",
                      "-dname", "CN=localhost", "-keystore", str(broker), *common)
        csr, signed = self.dir / "broker.csr", self.dir / "broker.pem"
        self._keytool("-certreq", "-alias", "broker", "-keystore", str(broker), "-storepass", pw,
                      "-file", str(csr))
        self._keytool("-gencert", "-alias", "ca", "-keystore", str(ca), "-storepass", pw, "-validity", "2",
                      "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-ext", "ku:c=digitalSignature,keyEncipherment",
                      "-ext", "eku=serverAuth", "-rfc", "-infile", str(csr), "-outfile", str(signed))
        # The broker's keystore needs the whole chain: the CA first, then the signed reply.
        self._keytool("-importcert", "-noprompt", "-alias", "ca", "-file", str(self.ca_pem),
                      "-keystore", str(broker), "-storepass", pw)
        self._keytool("-importcert", "-alias", "broker", "-file", str(signed), "-keystore", str(broker),
                      "-storepass", pw)

    def write_config(self) -> Path:
        pw = self.store_password
        props = self.dir / "server.properties"
        props.write_text(f"""process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:{self.controller_port}
listeners=SASL_SSL://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}
advertised.listeners=SASL_SSL://127.0.0.1:{self.port}
controller.listener.names=CONTROLLER
inter.broker.listener.name=SASL_SSL
listener.security.protocol.map=CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config={_jaas(self.admin)}
ssl.keystore.type=PKCS12
ssl.keystore.location={self.dir / 'broker.p12'}
ssl.keystore.password={pw}
ssl.key.password={pw}
# Inter-broker traffic is SASL_SSL too, so the broker trusts the same CA as its clients.
ssl.truststore.type=PEM
ssl.truststore.location={self.ca_pem}
ssl.client.auth=none
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
# The controller listener is plaintext on loopback; its connections are ANONYMOUS.
super.users=User:{ADMIN};User:ANONYMOUS
allow.everyone.if.no.acl.found=false
auto.create.topics.enable=false
log.dirs={self.dir / 'data'}
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
""")
        (self.dir / "log4j2.yaml").write_text(
            "Configuration:\n  Appenders:\n    Console: {name: STDOUT, PatternLayout: {Pattern: \"[%d] %p %m (%c)%n\"}}\n"
            "  Loggers:\n    Root: {level: WARN, AppenderRef: [{ref: STDOUT}]}\n")
        return props

    def _java(self, *args: str) -> list[str]:
        return ["java", "-Xms128m", "-Xmx384m", "-XX:+UseSerialGC", "-Djava.awt.headless=true",
                f"-Dlog4j2.configurationFile={self.dir / 'log4j2.yaml'}", "-cp", f"{self.libs}/*", *args]

    def format_storage(self, props: Path) -> None:
        """KRaft storage with every SCRAM user created up front by Kafka's StorageTool."""
        scram = []
        for user in [self.admin, *self.users.values()]:
            scram += ["--add-scram", f"SCRAM-SHA-512=[name={user.name},password={user.password}]"]
        out = subprocess.run(self._java("kafka.tools.StorageTool", "format", "-t", _cluster_id(),
                                        "-c", str(props), *scram),
                             capture_output=True, text=True, timeout=180)
        if out.returncode != 0:
            raise RuntimeError(f"StorageTool format failed: {out.stdout}{out.stderr}")

    def start(self, timeout: float = 180) -> "SaslSslBroker":
        if shutil.which("keytool") is None or shutil.which("java") is None:
            raise RuntimeError("java and keytool (JDK 17+) are needed for the SASL_SSL broker")
        self.dir.mkdir(parents=True, exist_ok=True)
        self.make_certificates()
        props = self.write_config()
        self.format_storage(props)
        wait_bindable(self.port)
        wait_bindable(self.controller_port)
        with open(self.log, "ab") as log:
            self._proc = subprocess.Popen(self._java("kafka.Kafka", str(props)), stdout=log,
                                          stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                          start_new_session=True)
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self, timeout: float) -> None:
        """Ready when the admin authenticates and the broker answers a metadata request."""
        from kafka.admin import KafkaAdminClient

        deadline, last = time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"SASL_SSL broker exited ({self._proc.returncode}): {self.log_tail()}")
            try:
                admin = KafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=5000,
                                         **self.client_config(self.admin))
                try:
                    if admin.describe_cluster().get("brokers"):
                        return
                finally:
                    admin.close()
            except Exception as exc:  # not up yet
                last = exc
            time.sleep(1)
        raise RuntimeError(f"SASL_SSL broker not ready on {self.bootstrap} after {timeout:.0f}s: "
                           f"{last!r}; {self.log_tail()}")

    def add_user(self, user: User) -> None:
        """A SCRAM user added to the running cluster with Kafka's own kafka-configs tool."""
        out = subprocess.run(self._java(
            "kafka.admin.ConfigCommand", "--bootstrap-server", self.bootstrap,
            "--command-config", str(self._java_client_properties(self.admin)),
            "--alter", "--add-config", f"SCRAM-SHA-512=[iterations=8192,password={user.password}]",
            "--entity-type", "users", "--entity-name", user.name), capture_output=True, text=True, timeout=180)
        if out.returncode != 0:
            raise RuntimeError(f"kafka-configs failed: {out.stdout}{out.stderr}")
        self.users[user.name] = user

    def log_tail(self, lines: int = 15) -> str:
        try:
            return " | ".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)


def _jaas(user: User) -> str:
    return (f'org.apache.kafka.common.security.scram.ScramLoginModule required '
            f'username="{user.name}" password="{user.password}";')


def _cluster_id() -> str:
    import base64

    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
