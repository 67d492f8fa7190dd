#!/usr/bin/env bash
# Runs one of the Java benchmarks in it/src/main/java/io/natgw/it/bench on a freshly built classpath:
#   bench/run.sh TableBenchmark | PcpBenchmark | IgdBenchmark  [args...]
# Each prints its figures (throughput, p50/p99 latency, memory) beside its target; none is a test.
# PcpBenchmark and IgdBenchmark measure a front-end and the table in-process, without the dataplane (each prints what
# it leaves out); the deployed daemon beside miniupnpd is measured by: sudo bench/control-plane.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
name="${1:?usage: bench/run.sh TableBenchmark|PcpBenchmark|IgdBenchmark [args]}"; shift
# Built in the reactor, never installed: the modules' own jars (target/*.jar) are on the classpath, and nothing
# is written into ~/.m2 but third-party downloads.
mvn -B -q -pl it -am package -DskipTests dependency:build-classpath -Dmdep.includeScope=runtime \
    -Dmdep.outputFile=target/bench.classpath >&2
exec java -XX:MaxDirectMemorySize=256m -Xmx2g -cp "it/target/classes:$(cat it/target/bench.classpath)" \
    "io.natgw.it.bench.$name" "$@"
