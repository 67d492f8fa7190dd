#!/usr/bin/env bash
# natgw relay benchmark: kernel DNAT (nftables) vs socat vs natgw's Netty relay (copy and splice on its default epoll
# transport, and copy on io_uring for comparison), in a
# three-namespace topology built here and removed on exit:
#   lan  192.168.77.10            (iperf3 server, connection servers)
#   gw   192.168.77.1 | 203.0.113.1 (the NAT: DNAT rules, socat, natgw)
#   wan  203.0.113.2              (iperf3 client, connection clients)
# Measures iperf3 TCP with 1 and 4 streams, UDP at 100 and 500 Mbit/s (loss), new TCP connections per second,
# and natgw's resident memory with 10 000 idle relayed connections; prints a table and the ratios vs targets
# (natgw TCP >= 0.6x DNAT and >= 2x socat; conn/s >= 3x socat). For the 4-stream runs it also prints where the CPU
# went: how busy the machine was, the forwarding process's own share, and CPU-seconds per GB moved.
#
# usage: sudo bench/relay-bench.sh [SECONDS_PER_TEST (default 5)] [IDLE_CONNECTIONS (default 10000)] [ROUNDS (default 3)]
# Each TCP figure is the median of ROUNDS iperf3 runs (single runs here vary by up to 25 %).
# Needs root, ip, nft, iperf3, socat, java 17, mvn (offline build of nat-dataplane done before).
set -euo pipefail

SECS=${1:-5}
IDLE=${2:-10000}
ROUNDS=${3:-3}
REPO=$(cd "$(dirname "$0")/.." && pwd)
RUN="nb$$"
LAN="$RUN-lan"; GW="$RUN-gw"; WAN="$RUN-wan"
WORK=$(mktemp -d /tmp/natgw-bench.XXXXXX)
PIDS=()
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

[ "$(id -u)" = 0 ] || { echo "relay-bench: needs root (network namespaces, nftables)" >&2; exit 2; }
for t in ip nft iperf3 socat java javac mvn jq; do
    command -v "$t" >/dev/null || { echo "relay-bench: '$t' is not installed" >&2; exit 2; }
done

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

# Kernel DNAT: 15201 (tcp+udp) -> iperf3, 17000 -> greeter.
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

# ---- programs ----
echo "building the benchmark programs ..." >&2
(cd "$REPO" && mvn -B -q -o -pl nat-dataplane dependency:build-classpath -Dmdep.outputFile="$WORK/cp.txt" \
    -Dmdep.includeScope=runtime >/dev/null)
CP="$REPO/nat-dataplane/target/classes:$(cat "$WORK/cp.txt")"
javac -nowarn -d "$WORK/classes" -cp "$CP" "$REPO"/it/src/main/java/io/natgw/it/bench/Relay*.java
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

natgw_config() { # RELAY
    cat <<YAML
network:
  lan: { addresses: [192.168.77.1], clients: [192.168.77.0/24] }
  wan: { address: 203.0.113.1 }
permissions: []
staticMappings:
  - { protocol: tcp, externalPort: 35201, internalAddress: 192.168.77.10, internalPort: 5201 }
  - { protocol: udp, externalPort: 35201, internalAddress: 192.168.77.10, internalPort: 5201 }
  - { protocol: tcp, externalPort: 37000, internalAddress: 192.168.77.10, internalPort: 7000 }
  - { protocol: tcp, externalPort: 37001, internalAddress: 192.168.77.10, internalPort: 7001 }
dataplane: { relay: $1 }
YAML
}
start_natgw() { # RELAY [NAME [-Dnatgw.dataplane.*=... (RelayTuning)]] : its PID is in NATGW
    local relay=$1 name=${2:-$1}; shift; shift || true
    natgw_config "$relay" >"$WORK/natgw-$name.yaml"
    start "$GW" "natgw-$name" java -XX:+UseSerialGC -Xms32m -Xmx256m -XX:MaxDirectMemorySize=256m \
        -Dlogback.configurationFile="$WORK/logback.xml" "$@" \
        -cp "$CP" io.natgw.it.bench.RelayServer "$WORK/natgw-$name.yaml"
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
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

declare -A R
echo "measuring: kernel DNAT ..." >&2
R[dnat,tcp1]=$(tcp_gbps 15201 1); tcp_cpu dnat 15201 4
R[dnat,udp100]=$(udp_loss 15201 100); R[dnat,udp500]=$(udp_loss 15201 500)
R[dnat,conn]=$(conn_rate 17000)

echo "measuring: socat ..." >&2
R[socat,tcp1]=$(tcp_gbps 25201 1); tcp_cpu socat 25201 4 "$SOCAT_TCP"
R[socat,udp100]=$(udp_loss 25201 100); R[socat,udp500]=$(udp_loss 25201 500)
R[socat,conn]=$(conn_rate 27000)
stop "$SOCAT_TCP"; stop "$SOCAT_UDP"; stop "$SOCAT_CONN"

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

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "n/a"; else printf "%.2f", a / b }'; }
num() { echo "$1" | awk '{print $1}'; }
verdict() { awk -v r="$1" -v t="$2" 'BEGIN { print (r != "n/a" && r + 0 >= t) ? "ok" : "MISSED" }'; }

echo
echo "natgw relay benchmark: ${SECS}s per test (TCP: median of $ROUNDS), $(nproc) cores, $(uname -r), load average before the run $LOAD_BEFORE"
printf '%-26s %14s %14s %14s %14s %14s\n' "" "kernel DNAT" "socat" "natgw copy" "natgw splice" "natgw io_uring"
printf '%-26s %14s %14s %14s %14s %14s\n' "TCP 1 stream (Gbit/s)" "${R[dnat,tcp1]}" "${R[socat,tcp1]}" "${R[copy,tcp1]}" "${R[splice,tcp1]}" "${R[uring,tcp1]}"
printf '%-26s %14s %14s %14s %14s %14s\n' "TCP 4 streams (Gbit/s)" "${R[dnat,tcp4]}" "${R[socat,tcp4]}" "${R[copy,tcp4]}" "${R[splice,tcp4]}" "${R[uring,tcp4]}"
for i in 1 2 3; do
    label=$(echo "4 streams: machine busy|  forwarder (cores)|  CPU-s per GB moved" | cut -d'|' -f$i)
    printf '%-26s %14s %14s %14s %14s %14s\n' "$label" $(for k in dnat socat copy splice uring; do echo "${R[$k,cpu]}" | awk -v i=$i '{print $i}'; done)
done
printf '%-26s %14s %14s %14s %14s %14s\n' "UDP 100M (loss, Mbit/s)" "${R[dnat,udp100]}" "${R[socat,udp100]}" "${R[copy,udp100]}" "-" "-"
printf '%-26s %14s %14s %14s %14s %14s\n' "UDP 500M (loss, Mbit/s)" "${R[dnat,udp500]}" "${R[socat,udp500]}" "${R[copy,udp500]}" "-" "-"
printf '%-26s %14s %14s %14s %14s %14s\n' "new TCP conn/s" "$(num "${R[dnat,conn]}")" "$(num "${R[socat,conn]}")" "$(num "${R[copy,conn]}")" "-" "-"
echo "natgw RSS: ${RSS0} KiB idle -> ${RSS1} KiB with ${IDLE_OPEN} idle relayed connections" \
     "($(awk -v a="$RSS0" -v b="$RSS1" -v n="$IDLE" 'BEGIN { printf "%.1f", (b - a) / n }') KiB/connection)"
echo
echo "ratios vs targets:"
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
