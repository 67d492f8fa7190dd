#!/usr/bin/env bash
# natgw forwarding benchmark: bare kernel DNAT (nftables) vs natgw's kernel forwarding (the daemon in linux-gateway
# mode), and socat and HAProxy (tcp mode) vs natgw's Netty relay (copy and splice on its default epoll transport, and
# copy on io_uring for comparison); then the daemon's control plane with kernel forwarding (NAT-PMP new mappings/s
# and p99: its first requests, then warm with 0, 10 000 and 100 000 mappings installed) and the restore of those
# leases to forwarding after kill -9. In a three-namespace topology built here and removed on exit:
#   lan  192.168.77.10            (iperf3 server, connection servers)
#   gw   192.168.77.1 | 203.0.113.1 (the NAT: DNAT rules, socat, natgw)
#   wan  203.0.113.2              (iperf3 client, connection clients)
# Measures iperf3 TCP with 1 and 4 streams, UDP at 100 and 500 Mbit/s (loss), new TCP connections per second,
# and natgw's resident memory with 10 000 idle relayed connections; prints a table and the ratios vs targets
# (natgw TCP >= 0.6x DNAT and >= 2x socat; conn/s >= 3x socat). For the 4-stream runs it also prints where the CPU
# went: how busy the machine was, the forwarding process's own share, and CPU-seconds per GB moved.
#
# usage: sudo bench/relay-bench.sh [SECONDS_PER_TEST (default 5)] [IDLE_CONNECTIONS (default 10000)] [ROUNDS (default 3)]
#                                  [MAPPINGS (default 100000: the largest table of the control-plane figures)]
# Each TCP figure is the median of ROUNDS iperf3 runs (single runs here vary by up to 25 %); kernel DNAT and natgw's
# kernel forwarding are measured twice each, alternately (DNAT, natgw, natgw, DNAT), and their figures are the means.
# Needs root, ip, nft, conntrack, iperf3, socat, haproxy, jq, java 17 and gateway/target/natgw.jar (built by
# ./natgw run or mvn -B verify; nothing is installed into the local Maven repository).
#
# RELAY_BENCH_PARTS=conn measures only new TCP connections/s: kernel DNAT once, then ROUNDS pairs of HAProxy and
# natgw's copy relay back to back (each pair's ratio is printed; for A/B on a busy machine). NATGW_BENCH_JAR names
# another natgw.jar to run (e.g. a copy of an older build), instead of gateway/target/natgw.jar;
# NATGW_BENCH_JAVA_OPTS adds JVM options to natgw's relay (e.g. -XX:StartFlightRecording=filename=/tmp/r.jfr).
# With RELAY_BENCH_PARTS=conn, NATGW_BENCH_JAR_B names a second natgw.jar (e.g. the new build, with NATGW_BENCH_JAR the
# old one): it runs beside the first on other external ports, and each round measures HAProxy, then A and B (B first
# in every other round), so an A/B on a busy machine compares the two in the same minute, under the same load.
set -euo pipefail

SECS=${1:-5}
IDLE=${2:-10000}
ROUNDS=${3:-3}
MAPPINGS=${4:-100000}
REPO=$(cd "$(dirname "$0")/.." && pwd)
RUN="nb$$"
LAN="$RUN-lan"; GW="$RUN-gw"; WAN="$RUN-wan"
PIDS=()
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

[ "$(id -u)" = 0 ] || { echo "relay-bench: needs root (network namespaces, nftables)" >&2; exit 2; }
for t in ip nft conntrack iperf3 socat haproxy java javac jq; do
    command -v "$t" >/dev/null || { echo "relay-bench: '$t' is not installed" >&2; exit 2; }
done

WORK=$(mktemp -d /tmp/natgw-bench.XXXXXX)
cleanup() {
    set +e
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
    for ns in "$LAN" "$GW" "$WAN"; do ip netns del "$ns" 2>/dev/null; done
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

# The relay holds two descriptors per relayed connection: raise the limit, or measure fewer if it is capped.
HARD=$(ulimit -Hn)
if [ "$HARD" != unlimited ] && [ "$HARD" -lt 100000 ]; then ulimit -n "$HARD"; else ulimit -n 100000; fi
MAX_IDLE=$(( ($(ulimit -n) - 400) / 2 ))
if [ "$IDLE" -gt "$MAX_IDLE" ]; then
    echo "relay-bench: open files are capped at $(ulimit -n): measuring $MAX_IDLE idle connections instead of $IDLE" >&2
    IDLE=$MAX_IDLE
fi

# ---- topology ----
for ns in "$LAN" "$GW" "$WAN"; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
ip -n "$LAN" link add lan0 type veth peer name gwlan netns "$GW"
ip -n "$WAN" link add wan0 type veth peer name gwwan netns "$GW"
ip -n "$LAN" addr add 192.168.77.10/24 dev lan0; ip -n "$LAN" link set lan0 up
ip -n "$GW" addr add 192.168.77.1/24 dev gwlan; ip -n "$GW" link set gwlan up
ip -n "$GW" addr add 203.0.113.1/24 dev gwwan; ip -n "$GW" link set gwwan up
ip -n "$WAN" addr add 203.0.113.2/24 dev wan0; ip -n "$WAN" link set wan0 up
ip -n "$LAN" route add default via 192.168.77.1
ip netns exec "$GW" sysctl -qw net.ipv4.ip_forward=1
for ns in "$LAN" "$GW" "$WAN"; do
    ip netns exec "$ns" sysctl -qw net.ipv4.ip_local_port_range="10000 65000"
    ip netns exec "$ns" sysctl -qw net.ipv4.tcp_tw_reuse=1
    ip netns exec "$ns" sysctl -qw net.core.somaxconn=8192
done

# Kernel DNAT: 15201 (tcp+udp) -> iperf3, 17000 -> greeter. The table is there only while DNAT is measured, and
# natgw's table only while natgw runs: neither's rules are on the other's path.
dnat_on() {
    ip netns exec "$GW" nft -f - <<NFT
table ip benchdnat {
  chain pre {
    type nat hook prerouting priority dstnat; policy accept;
    iifname "gwwan" tcp dport 15201 dnat to 192.168.77.10:5201
    iifname "gwwan" udp dport 15201 dnat to 192.168.77.10:5201
    iifname "gwwan" tcp dport 17000 dnat to 192.168.77.10:7000
  }
}
NFT
}
dnat_off() { ip netns exec "$GW" nft delete table ip benchdnat; }
dnat_on

# ---- programs ----
echo "building the benchmark programs ..." >&2
JAR="${NATGW_BENCH_JAR:-$REPO/gateway/target/natgw.jar}"
[ -f "$JAR" ] || { echo "relay-bench: $JAR is missing: run ./natgw --help (builds it) or mvn -B verify first" >&2; exit 2; }
# The daemon's jar holds every class the programs use (dataplane, table, config, logging): no Maven here.
CP="$JAR"
javac -nowarn -d "$WORK/classes" -cp "$CP" "$REPO"/it/src/main/java/io/natgw/it/bench/Relay*.java \
    "$REPO"/it/src/main/java/io/natgw/it/bench/KernelRestoreBenchmark.java
CP="$WORK/classes:$CP"
# INFO, not logback's default DEBUG: a log line per relayed connection would be what gets measured.
cat >"$WORK/logback.xml" <<'XML'
<configuration>
  <appender name="OUT" class="ch.qos.logback.core.ConsoleAppender">
    <encoder><pattern>%d{HH:mm:ss.SSS} %-5level %logger{0} - %msg%n</pattern></encoder>
  </appender>
  <root level="INFO"><appender-ref ref="OUT"/></root>
</configuration>
XML
JAVA_LAN=(java -XX:+UseSerialGC -Xmx256m -cp "$CP")

start() { # NS LOGNAME CMD... : runs in the background; its PID is in LAST_PID (and killed on exit)
    local ns=$1 name=$2; shift 2
    ip netns exec "$ns" "$@" >"$WORK/$name.log" 2>&1 &
    LAST_PID=$!
    PIDS+=("$LAST_PID")
}
wait_log() { # FILE TEXT
    for _ in $(seq 1 300); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
    echo "relay-bench: timed out waiting for '$2' in $1:" >&2; cat "$1" >&2; exit 1
}
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

start "$LAN" iperf3 iperf3 -s -B 192.168.77.10 -p 5201
start "$LAN" greet "${JAVA_LAN[@]}" io.natgw.it.bench.RelayGreeter 192.168.77.10 7000 greet
start "$LAN" hold "${JAVA_LAN[@]}" io.natgw.it.bench.RelayGreeter 192.168.77.10 7001 hold
wait_log "$WORK/greet.log" "greeter ready"; wait_log "$WORK/hold.log" "greeter ready"

start "$GW" socat-tcp socat TCP4-LISTEN:25201,bind=203.0.113.1,fork,reuseaddr,backlog=4096 TCP4:192.168.77.10:5201
SOCAT_TCP=$LAST_PID
start "$GW" socat-udp socat -T 15 UDP4-LISTEN:25201,bind=203.0.113.1,fork,reuseaddr UDP4:192.168.77.10:5201
SOCAT_UDP=$LAST_PID
start "$GW" socat-conn socat TCP4-LISTEN:27000,bind=203.0.113.1,fork,reuseaddr,backlog=4096 TCP4:192.168.77.10:7000
SOCAT_CONN=$LAST_PID

cat >"$WORK/haproxy.cfg" <<'CFG'
global
  maxconn 8000
defaults
  mode tcp
  timeout connect 5s
  timeout client 60s
  timeout server 60s
frontend iperf
  bind 203.0.113.1:26201
  default_backend iperf
backend iperf
  server lan 192.168.77.10:5201
frontend conn
  bind 203.0.113.1:27001 backlog 4096
  default_backend conn
backend conn
  server lan 192.168.77.10:7000
CFG

natgw_config() { # RELAY [PORT_OFFSET (added to the external ports: a second relay beside the first)]
    local o=${2:-0}
    cat <<YAML
network:
  lan: { addresses: [192.168.77.1], clients: [192.168.77.0/24] }
  wan: { address: 203.0.113.1 }
permissions: []
staticMappings:
  - { protocol: tcp, externalPort: $((35201 + o)), internalAddress: 192.168.77.10, internalPort: 5201 }
  - { protocol: udp, externalPort: $((35201 + o)), internalAddress: 192.168.77.10, internalPort: 5201 }
  - { protocol: tcp, externalPort: $((37000 + o)), internalAddress: 192.168.77.10, internalPort: 7000 }
  - { protocol: tcp, externalPort: $((37001 + o)), internalAddress: 192.168.77.10, internalPort: 7001 }
dataplane: { relay: $1 }
YAML
}
# The relay runs on the JVM options the daemon runs on (./natgw and packaging/deb/natgw, less the class-data
# sharing archive): C1 only (-XX:TieredStopAtLevel=1, compiling at a tenth of the usual call counts), Serial GC,
# a 16 MiB initial heap, 64 MiB of direct memory.
# With C2 (the JVM's default) the relay measured up to 1.7x faster per connection after its warm-up, so a figure
# taken on other options would not be the deployed daemon's.
DAEMON_JVM=(-XX:+UseSerialGC -Xms16m -Xmx256m -XX:MinHeapFreeRatio=30 -XX:MaxHeapFreeRatio=50 -XX:TieredStopAtLevel=1
    -XX:CompileThresholdScaling=0.1
    -XX:ReservedCodeCacheSize=32m -XX:MaxMetaspaceSize=64m -XX:MaxDirectMemorySize=64m -XX:TrimNativeHeapInterval=5000)
for o in "${DAEMON_JVM[@]}"; do
    [ "$o" = -XX:MaxDirectMemorySize=64m ] && o='-XX:MaxDirectMemorySize="${NATGW_DIRECT_MEMORY:-64m}"'
    grep -qF -- "$o" "$REPO/natgw" || echo "relay-bench: the launcher has no $o any more: update DAEMON_JVM here" >&2
done
start_natgw() { # RELAY [NAME [-Dnatgw.dataplane.*=... (RelayTuning)]] : its PID is in NATGW
    local relay=$1 name=${2:-$1}; shift; shift || true
    natgw_config "$relay" "${PORT_OFFSET:-0}" >"$WORK/natgw-$name.yaml"
    start "$GW" "natgw-$name" java "${DAEMON_JVM[@]}" \
        -Dlogback.configurationFile="$WORK/logback.xml" ${NATGW_BENCH_JAVA_OPTS:-} "$@" \
        -cp "${RELAY_CP:-$CP}" io.natgw.it.bench.RelayServer "$WORK/natgw-$name.yaml"
    NATGW=$LAST_PID
    wait_log "$WORK/natgw-$name.log" "relay ready"
}

tcp_runs() { # PORT STREAMS -> "median mean" Gbit/s of ROUNDS iperf3 runs
    for _ in $(seq 1 "$ROUNDS"); do
        ip netns exec "$WAN" iperf3 -c 203.0.113.1 -p "$1" -P "$2" -t "$SECS" -J 2>/dev/null \
            | jq -r '(.end.sum_received.bits_per_second // 0) / 1e9 | . * 100 | round / 100'
    done | sort -n | awk '{ v[NR] = $1; s += $1 } END { printf "%s %.2f\n", v[int((NR + 1) / 2)], s / NR }'
}
tcp_gbps() { tcp_runs "$1" "$2" | cut -d' ' -f1; } # PORT STREAMS -> median Gbit/s
machine_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8}' /proc/stat; } # busy total
proc_ticks() { # PID (with its reaped children: socat forks one per connection)
    if [ -z "$1" ]; then echo 0; else awk '{print $14 + $15 + $16 + $17}' "/proc/$1/stat"; fi
}
tcp_cpu() { # KEY PORT STREAMS [FORWARDER_PID] : sets R[KEY,tcpN] and R[KEY,cpu] ("busy% forwarderCores coreSecondsPerGB")
    local m0 p0 m1 p1 med g
    read -r -a m0 < <(machine_ticks); p0=$(proc_ticks "${4:-}")
    read -r med g < <(tcp_runs "$2" "$3") # median for the table, mean for the CPU per GB
    read -r -a m1 < <(machine_ticks); p1=$(proc_ticks "${4:-}")
    R[$1,tcp$3]=$med
    R[$1,cpu]=$(awk -v b="$(( m1[0] - m0[0] ))" -v t="$(( m1[1] - m0[1] ))" -v p="$(( p1 - p0 ))" -v g="$g" \
        -v n="$(nproc)" -v hz="$(getconf CLK_TCK)" -v fw="${4:-}" 'BEGIN {
            secs = t / n / hz; cores = b / hz / secs
            printf "%d%% %s %.2f", 100 * b / t, (fw == "" ? "-" : sprintf("%.2f", p / hz / secs)), (g > 0 ? cores * 8 / g : 0) }')
}
udp_loss() { # PORT MBITS -> "loss% rcvMbit"
    ip netns exec "$WAN" iperf3 -c 203.0.113.1 -p "$1" -u -b "${2}M" -l 1400 -t "$SECS" -J 2>/dev/null \
        | jq -r '"\(.end.sum.lost_percent // 100 | . * 100 | round / 100)% \((.end.sum.bits_per_second // 0) / 1e6 | round)"'
}
conn_rate() { # PORT : a 2 s warm-up run (JIT, caches, conntrack) first, the same for every path, then the figure
    ip netns exec "$WAN" java -XX:+UseSerialGC -cp "$CP" io.natgw.it.bench.RelayConnRate 203.0.113.1 "$1" 2 16 >/dev/null
    ip netns exec "$WAN" java -XX:+UseSerialGC -cp "$CP" io.natgw.it.bench.RelayConnRate 203.0.113.1 "$1" "$SECS" 16 \
        | awk '{print $2 " (" $4 " failed)"}'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "n/a"; else printf "%.2f", a / b }'; }
num() { echo "$1" | awk '{print $1}'; }
conn_cpu() { # PID PORT -> "conn/s (F failed), U us CPU per connection" (the forwarder's own CPU, after the warm-up)
    local p0 p1 line
    ip netns exec "$WAN" java -XX:+UseSerialGC -cp "$CP" io.natgw.it.bench.RelayConnRate 203.0.113.1 "$2" 2 16 >/dev/null
    p0=$(proc_ticks "$1")
    line=$(ip netns exec "$WAN" java -XX:+UseSerialGC -cp "$CP" io.natgw.it.bench.RelayConnRate 203.0.113.1 "$2" "$SECS" 16)
    p1=$(proc_ticks "$1")
    echo "$line" | awk -v t="$(( p1 - p0 ))" -v hz="$(getconf CLK_TCK)" -v s="$SECS" \
        '{ printf "%s conn/s (%s failed), %.0f us CPU per connection", $2, $4, ($2 > 0 ? t / hz * 1e6 / ($2 * s) : 0) }'
}
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

# The daemon in linux-gateway mode with kernel forwarding: its static mappings are nftables elements.
kernel_config() {
    cat <<YAML
dataDir: $WORK/natgw-kernel-data
network:
  lan: { addresses: [192.168.77.1], clients: [192.168.77.0/24], interfaces: [gwlan] }
  wan: { address: 203.0.113.1, interface: gwwan }
upnp: { enabled: false }
admin: { enabled: false }
pcp: { announce: false, maxLifetime: 86400, rateLimitPerSecond: 1000000 }
limits: { perClientQuota: 250000, perSubnetQuota: 250000, maxMappings: 250000 }
permissions: []
triggers: []
staticMappings:
  - { protocol: tcp, externalPort: 45201, internalAddress: 192.168.77.10, internalPort: 5201 }
  - { protocol: udp, externalPort: 45201, internalAddress: 192.168.77.10, internalPort: 5201 }
  - { protocol: tcp, externalPort: 47000, internalAddress: 192.168.77.10, internalPort: 7000 }
dataplane: { mode: linux-gateway, forwarding: kernel }
YAML
}
start_kernel() { # NAME : the daemon; its PID is in NATGW, the seconds from launch to "natgw started" in STARTED_S
    local t0
    t0=$(date +%s.%N)
    # the launcher's JVM options (C1 only, as deployed; with the JVM's default C2 the control-plane rows rose pass by pass
    # as it compiled), with a 1 GiB heap ceiling for the 100 000-mapping table (limits.maxMappings' default: 65 536)
    start "$GW" "natgw-$1" java "${DAEMON_JVM[@]}" -Xmx1g -Dlogback.configurationFile="$WORK/logback.xml" \
        -jar "$JAR" run -c "$WORK/natgw-kernel.yaml"
    NATGW=$LAST_PID
    for _ in $(seq 1 1200); do grep -q "natgw started" "$WORK/natgw-$1.log" 2>/dev/null && break; sleep 0.05; done
    grep -q "natgw started" "$WORK/natgw-$1.log" || { echo "relay-bench: natgw did not start:" >&2; cat "$WORK/natgw-$1.log" >&2; exit 1; }
    STARTED_S=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
}
natpmp_rate() { # PROTO FIRST_PORT COUNT [LIFETIME: 0 deletes] -> "rate p99us failed" (a client JVM of its own)
    ip netns exec "$LAN" java -XX:+UseSerialGC -cp "$CP" io.natgw.it.bench.RelayNatPmpRate 192.168.77.1 "$1" "$2" "$3" "${4:-7200}" \
        | awk '{print $6 " " $10 " " $12}'
}
# One long-lived client for the warm rows (RelayNatPmpRate GATEWAY -): a pass per line on fd 8, its line back on fd 9.
# A fresh client JVM per row measured its own compiler warming up too (the same daemon answered a warm client about
# 1.5x as fast as a new one).
natpmp_client() {
    mkfifo "$WORK/cp.in" "$WORK/cp.out"
    ip netns exec "$LAN" java -XX:+UseSerialGC -cp "$CP" io.natgw.it.bench.RelayNatPmpRate 192.168.77.1 - \
        <"$WORK/cp.in" >"$WORK/cp.out" 2>"$WORK/cp.err" &
    PIDS+=("$!")
    exec 8>"$WORK/cp.in" 9<"$WORK/cp.out"
}
natpmp_pass() { # PROTO FIRST_PORT COUNT [LIFETIME] | warm COUNT -> "rate p99us failed" (nothing for warm)
    local line
    echo "$*" >&8
    if ! read -r -t 900 line <&9; then
        echo "relay-bench: the NAT-PMP client gave no result for '$*':" >&2; cat "$WORK/cp.err" >&2; exit 1
    fi
    [ "$1" = warm ] || echo "$line" | awk '{print $6 " " $10 " " $12}'
}

declare -A R
if [ "${RELAY_BENCH_PARTS:-all}" = conn ]; then
    echo "measuring: new TCP connections/s only (RELAY_BENCH_PARTS=conn), $ROUNDS rounds of HAProxy and natgw copy ..." >&2
    DNAT_CONN=$(conn_rate 17000)
    start_natgw copy
    grep -q "epoll transport" "$WORK/natgw-copy.log" || echo "relay-bench: epoll did not load (the default fell back)" >&2
    echo "kernel DNAT: $DNAT_CONN conn/s; $(grep -o 'dataplane started.*' "$WORK/natgw-copy.log" | head -1)"
    NATGW_B=
    if [ -n "${NATGW_BENCH_JAR_B:-}" ]; then
        [ -f "$NATGW_BENCH_JAR_B" ] || { echo "relay-bench: $NATGW_BENCH_JAR_B is missing" >&2; exit 2; }
        NATGW_A=$NATGW
        PORT_OFFSET=1000 RELAY_CP="$WORK/classes:$NATGW_BENCH_JAR_B" start_natgw copy copy-b
        NATGW_B=$NATGW NATGW=$NATGW_A
        echo "A: $JAR (port 37000), B: $NATGW_BENCH_JAR_B (port 38000)"
    fi
    for i in $(seq 1 "$ROUNDS"); do
        start "$GW" haproxy haproxy -db -f "$WORK/haproxy.cfg"
        HAPROXY=$LAST_PID
        sleep 1
        H=$(conn_cpu "$HAPROXY" 27001)
        stop "$HAPROXY"
        if [ -n "$NATGW_B" ] && [ $((i % 2)) = 0 ]; then # B first in every other round: neither always goes first
            B=$(conn_cpu "$NATGW_B" 38000)
            N=$(conn_cpu "$NATGW" 37000)
        else
            N=$(conn_cpu "$NATGW" 37000)
            [ -z "$NATGW_B" ] || B=$(conn_cpu "$NATGW_B" 38000)
        fi
        echo "round $i: HAProxy $H, natgw copy $N: $(ratio "$(num "$N")" "$(num "$H")") x HAProxy" \
             "(load $(cut -d' ' -f1-3 /proc/loadavg))"
        if [ -n "$NATGW_B" ]; then
            echo "round $i: B natgw copy $B: $(ratio "$(num "$B")" "$(num "$H")") x HAProxy," \
                 "$(ratio "$(num "$B")" "$(num "$N")") x A"
        fi
    done
    stop "$NATGW"
    [ -z "$NATGW_B" ] || stop "$NATGW_B"
    exit 0
fi
# Kernel DNAT and natgw's kernel forwarding are measured in alternation, in four blocks (DNAT, natgw, natgw, DNAT),
# each on an empty conntrack table; each figure is the mean of a path's two blocks. Measured one after the other,
# the later path ran on a conntrack table the earlier connection tests had filled (tens of thousands of entries in
# TIME_WAIT) and took any drift of this shared machine over the minutes between them as its own.
forwarding_block() { # KEY TCP_PORT CONN_PORT : R[KEY,tcp1|tcp4|cpu|udp100|udp500|conn]
    ip netns exec "$GW" conntrack -F >/dev/null 2>&1 || true
    R[$1,tcp1]=$(tcp_gbps "$2" 1); tcp_cpu "$1" "$2" 4
    R[$1,udp100]=$(udp_loss "$2" 100); R[$1,udp500]=$(udp_loss "$2" 500)
    R[$1,conn]=$(conn_rate "$3")
}
mean_of_blocks() { # KEY : R[KEY,*], each field the mean of R[KEY1,*] and R[KEY2,*] ("(N failed)": the sum)
    local s
    for s in tcp1 tcp4 cpu udp100 udp500 conn; do
        R[$1,$s]=$(awk -v a="${R[${1}1,$s]}" -v b="${R[${1}2,$s]}" 'BEGIN {
            n = split(a, x, " "); split(b, y, " ")
            for (i = 1; i <= n; i++) {
                v = x[i]; w = y[i]; pct = sub(/%$/, "", v); sub(/%$/, "", w); sum = sub(/^[(]/, "", v); sub(/^[(]/, "", w)
                if (v ~ /^[0-9]+([.][0-9]+)?$/) v = sum ? v + w : sprintf((v w) ~ /[.]/ ? "%.2f" : "%.0f", (v + w) / 2)
                printf "%s%s%s%s", (i > 1 ? " " : ""), (sum ? "(" : ""), v, (pct ? "%" : "")
            } }')
    done
}
echo "measuring: kernel DNAT and natgw kernel forwarding (the daemon, linux-gateway mode), DNAT-natgw-natgw-DNAT ..." >&2
kernel_config >"$WORK/natgw-kernel.yaml"
forwarding_block dnat1 15201 17000
dnat_off
for b in 1 2; do
    start_kernel "kernel$b"
    grep -q "kernel forwarding (nftables)" "$WORK/natgw-kernel$b.log" \
        || { echo "relay-bench: the daemon did not forward in the kernel" >&2; exit 1; }
    forwarding_block "kernel$b" 45201 47000
    stop "$NATGW"
done
dnat_on
forwarding_block dnat2 15201 17000
mean_of_blocks dnat; mean_of_blocks kernel

echo "measuring: socat ..." >&2
R[socat,tcp1]=$(tcp_gbps 25201 1); tcp_cpu socat 25201 4 "$SOCAT_TCP"
R[socat,udp100]=$(udp_loss 25201 100); R[socat,udp500]=$(udp_loss 25201 500)
R[socat,conn]=$(conn_rate 27000)
stop "$SOCAT_TCP"; stop "$SOCAT_UDP"; stop "$SOCAT_CONN"

echo "measuring: HAProxy (tcp mode) ..." >&2
start "$GW" haproxy haproxy -db -f "$WORK/haproxy.cfg"
HAPROXY=$LAST_PID
sleep 1
R[haproxy,tcp1]=$(tcp_gbps 26201 1); tcp_cpu haproxy 26201 4 "$HAPROXY"
R[haproxy,conn]=$(conn_rate 27001)
stop "$HAPROXY"

echo "measuring: control plane with kernel forwarding (NAT-PMP, sequential) ..." >&2
start_kernel kernel
# Fresh ports for each measurement; the table is filled to MAPPINGS/10 (10 000 by default) and then MAPPINGS with
# other ports of the same client.
CP_OPS=$(( MAPPINGS < 20000 ? MAPPINGS / 10 : 2000 ))
MID=$(( MAPPINGS / 10 ))
# First the control plane's first requests after the daemon's start (cold), then, once a warm-up of as
# many adds and deletes has left the table empty again, the same with 0 installed (warm, like the two after it).
# The forwarding tests before this left tens of thousands of conntrack entries (the new-connections test alone makes
# about 80 000, in TIME_WAIT for 2 minutes): flushed, so the kernel's expiry of them is not measured here.
ip netns exec "$GW" conntrack -F >/dev/null 2>&1 || true
# The deleted mappings' counters wait for the daemon's retirement pass (each second: read, then deleted in one
# transaction); the warm figure is taken once it has run, i.e. once rx holds no element that mark4 does not.
# The cold row's client is a new JVM as well; the warm rows' client is one long-lived JVM, itself warmed up with
# CP_CLIENT_WARM external-address requests (they change nothing in the table) on top of the adds and deletes.
R[cp,cold]=$(natpmp_rate udp 38000 "$CP_OPS")
natpmp_client
natpmp_pass udp 38000 "$CP_OPS" 0 >/dev/null
natpmp_pass warm "${CP_CLIENT_WARM:-20000}"
elements() { ip netns exec "$GW" nft list "$1" inet natgw "$2" | grep -oE '0x[0-9a-f]+' | wc -l; }
for _ in $(seq 1 100); do [ "$(elements set rx)" -le "$(elements map mark4)" ] && break; sleep 0.1; done
R[cp,0]=$(natpmp_pass udp 40000 "$CP_OPS")
natpmp_pass tcp 1024 "$MID" >/dev/null
R[cp,10k]=$(natpmp_pass udp 42000 "$CP_OPS")
FILL=$(( MAPPINGS - MID - 2 * CP_OPS ))
if [ "$FILL" -gt 0 ]; then
    T=$(( FILL < 65535 - 1024 - MID ? FILL : 65535 - 1024 - MID ))
    natpmp_pass tcp $(( 1024 + MID )) "$T" >/dev/null
    [ $(( FILL - T )) -gt 0 ] && natpmp_pass udp 1024 $(( FILL - T )) >/dev/null
fi
R[cp,full]=$(natpmp_pass udp 44000 "$CP_OPS")
exec 8>&- 9<&-
INSTALLED_FULL=$(ip netns exec "$GW" nft list map inet natgw dnat4 | grep -o ' : 192\.168\.77\.10 \. ' | wc -l)

echo "measuring: restore of $INSTALLED_FULL leases to forwarding after kill -9 ..." >&2
kill -9 "$NATGW"; wait "$NATGW" 2>/dev/null || true
start_kernel restore
RESTORE_NFT_MS=$(grep -oE "(installed with [0-9]+ mappings|reconciled with the [0-9]+ restored mappings) in [0-9]+ ms.*" \
    "$WORK/natgw-restore.log" | tail -1 || true)
RESTORE_S=$STARTED_S
stop "$NATGW" # a clean stop removes the table: the next start builds it whole from the journal
ip netns exec "$GW" nft list table inet natgw >/dev/null 2>&1 && { echo "relay-bench: a clean stop left the table" >&2; exit 1; }
start_kernel rebuild
REBUILD_NFT_MS=$(grep -oE "installed with [0-9]+ mappings in [0-9]+ ms" "$WORK/natgw-rebuild.log" | tail -1 || true)
REBUILD_S=$STARTED_S
stop "$NATGW"
# The nftables side alone, for the 100 000-lease target (natgw is stopped: the table is the program's).
RESTORE_NFT=$(ip netns exec "$GW" java -XX:+UseSerialGC -cp "$CP" io.natgw.it.bench.KernelRestoreBenchmark 100000 3)

echo "measuring: natgw (copy relay, default transport) ..." >&2
start_natgw copy
grep -q "epoll transport" "$WORK/natgw-copy.log" || echo "relay-bench: epoll did not load (the default fell back)" >&2
R[copy,tcp1]=$(tcp_gbps 35201 1); tcp_cpu copy 35201 4 "$NATGW"
R[copy,udp100]=$(udp_loss 35201 100); R[copy,udp500]=$(udp_loss 35201 500)
R[copy,conn]=$(conn_rate 37000)
echo "measuring: natgw RSS with $IDLE idle relayed connections ..." >&2
RSS0=$(rss_kb "$NATGW")
mkfifo "$WORK/idle.in"
ip netns exec "$WAN" java -XX:+UseSerialGC -cp "$CP" io.natgw.it.bench.RelayIdleConns 203.0.113.1 37001 "$IDLE" \
    <"$WORK/idle.in" >"$WORK/idle.log" 2>&1 &
IDLE_PID=$!; PIDS+=("$IDLE_PID")
exec 9>"$WORK/idle.in"
wait_log "$WORK/idle.log" "^open"
RSS1=$(rss_kb "$NATGW")
IDLE_OPEN=$(awk '/^open/ {print $2 " open, " $4 " failed"}' "$WORK/idle.log")
exec 9>&-
wait "$IDLE_PID" 2>/dev/null || true
stop "$NATGW"

echo "measuring: natgw (splice relay) ..." >&2
start_natgw splice
R[splice,tcp1]=$(tcp_gbps 35201 1); tcp_cpu splice 35201 4 "$NATGW"
stop "$NATGW"

echo "measuring: natgw (copy relay on the io_uring transport) ..." >&2
start_natgw copy uring -Dnatgw.dataplane.transport=io_uring
grep -q "io_uring transport" "$WORK/natgw-uring.log" || echo "relay-bench: io_uring did not load (that column is epoll)" >&2
R[uring,tcp1]=$(tcp_gbps 35201 1); tcp_cpu uring 35201 4 "$NATGW"
stop "$NATGW"

verdict() { awk -v r="$1" -v t="$2" 'BEGIN { print (r != "n/a" && r + 0 >= t) ? "ok" : "MISSED" }'; }

echo
echo "natgw forwarding benchmark: ${SECS}s per test (TCP: median of $ROUNDS), $(nproc) cores, $(uname -r), load average before the run $LOAD_BEFORE"
COLS=(dnat kernel socat haproxy copy splice uring)
row() { printf '%-26s' "$1"; shift; for v in "$@"; do printf ' %13s' "$v"; done; echo; }
row "" "kernel DNAT" "natgw kernel" "socat" "HAProxy" "natgw copy" "natgw splice" "natgw io_uring"
row "TCP 1 stream (Gbit/s)" $(for k in "${COLS[@]}"; do echo "${R[$k,tcp1]:--}"; done)
row "TCP 4 streams (Gbit/s)" $(for k in "${COLS[@]}"; do echo "${R[$k,tcp4]:--}"; done)
for i in 1 2 3; do
    label=$(echo "4 streams: machine busy|  forwarder (cores)|  CPU-s per GB moved" | cut -d'|' -f$i)
    row "$label" $(for k in "${COLS[@]}"; do echo "${R[$k,cpu]:--}" | awk -v i=$i '{print ($i == "" ? "-" : $i)}'; done)
done
row "UDP 100M (loss)" $(for k in "${COLS[@]}"; do echo "${R[$k,udp100]:--}" | awk '{print $1}'; done)
row "UDP 500M (loss)" $(for k in "${COLS[@]}"; do echo "${R[$k,udp500]:--}" | awk '{print $1}'; done)
row "new TCP conn/s" $(for k in "${COLS[@]}"; do num "${R[$k,conn]:--}"; done)
echo "kernel DNAT and natgw kernel forwarding block by block, in the order measured (the table above has their means):"
row "" "TCP 1 (Gbit/s)" "TCP 4 (Gbit/s)" "UDP 100M loss" "UDP 500M loss" "new conn/s"
for k in dnat1 kernel1 kernel2 dnat2; do
    label="kernel DNAT"; [ "${k%?}" = kernel ] && label="natgw kernel"
    row "  $label (${k: -1})" "${R[$k,tcp1]}" "${R[$k,tcp4]}" "$(num "${R[$k,udp100]}")" "$(num "${R[$k,udp500]}")" "$(num "${R[$k,conn]}")"
done
echo
echo "control plane with kernel forwarding (the daemon, journal fsync per batch; NAT-PMP new mappings, sequential, $CP_OPS each):"
printf '  %-28s %10s %10s %8s\n' "mappings installed" "maps/s" "p99 (ms)" "failed"
for k in cold 0 10k full; do
    label=$k; [ "$k" = full ] && label="$INSTALLED_FULL (target $MAPPINGS)"; [ "$k" = 10k ] && label=$MID
    [ "$k" = cold ] && label="0, cold (first requests)"; [ "$k" = 0 ] && label="0 (after $CP_OPS adds+deletes)"
    read -r rate p99 failed <<<"${R[cp,$k]}"
    printf '  %-28s %10s %10s %8s\n' "$label" "$rate" "$(awk -v u="$p99" 'BEGIN { printf "%.2f", u / 1000 }')" "$failed"
done
echo "restore after kill -9: table ${RESTORE_NFT_MS:-not logged} (one nftables transaction, after reading the stale table);" \
     "launch to \"natgw started\" ${RESTORE_S} s"
echo "restore after a clean stop: table ${REBUILD_NFT_MS:-not logged} (one nftables transaction);" \
     "launch to \"natgw started\" ${REBUILD_S} s"
echo "$RESTORE_NFT"
echo "natgw RSS: ${RSS0} KiB idle -> ${RSS1} KiB with ${IDLE_OPEN} idle relayed connections" \
     "($(awk -v a="$RSS0" -v b="$RSS1" -v n="$IDLE" 'BEGIN { printf "%.1f", (b - a) / n }') KiB/connection)"
echo
echo "ratios vs targets:"
for s in tcp1 tcp4 conn; do
    a=$(num "${R[kernel,$s]}"); b=$(num "${R[dnat,$s]}")
    r=$(ratio "$a" "$b")
    printf '  natgw kernel %-5s: %5s x DNAT (target 0.95: %s)\n' "$s" "$r" "$(verdict "$r" 0.95)"
done
for s in tcp1 tcp4 conn; do
    r=$(ratio "$(num "${R[copy,$s]}")" "$(num "${R[haproxy,$s]}")")
    printf '  natgw copy   %-5s: %5s x HAProxy (target 1.0: %s)\n' "$s" "$r" "$(verdict "$r" 1.0)"
done
for mode in copy splice uring; do
    for s in tcp1 tcp4; do
        r1=$(ratio "${R[$mode,$s]}" "${R[dnat,$s]}"); r2=$(ratio "${R[$mode,$s]}" "${R[socat,$s]}")
        label=$mode; [ "$mode" = uring ] && label=io_uring
        printf '  natgw %-8s %-4s: %5s x DNAT (target 0.6: %s)   %5s x socat (target 2: %s)\n' "$label" "$s" \
            "$r1" "$(verdict "$r1" 0.6)" "$r2" "$(verdict "$r2" 2)"
    done
done
rc=$(ratio "$(num "${R[copy,conn]}")" "$(num "${R[socat,conn]}")")
printf '  natgw conn/s     : %5s x socat (target 3: %s)\n' "$rc" "$(verdict "$rc" 3)"
for k in 0 10k full; do
    read -r rate p99 _ <<<"${R[cp,$k]}"
    ok=ok; awk -v r="$rate" -v p="$p99" 'BEGIN { exit !(r >= 3000 && p < 2000) }' || ok=MISSED
    label=$k; [ "$k" = full ] && label=$INSTALLED_FULL; [ "$k" = 10k ] && label=$MID
    printf '  control plane, %s installed: %s maps/s, p99 %s ms (target 3000/s and p99 < 2 ms: %s)\n' "$label" "$rate" \
        "$(awk -v u="$p99" 'BEGIN { printf "%.2f", u / 1000 }')" "$ok"
done
