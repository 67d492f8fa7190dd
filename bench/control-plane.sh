#!/usr/bin/env bash
# natgw control-plane benchmark: the deployed daemon side by side with Debian's miniupnpd, in one run.
#
# Builds a three-namespace topology (unique names, removed on exit, even on failure):
#   lan  192.168.77.10 (+ .100-.115 for concurrent clients)   the clients (a Java program, ControlPlaneBench)
#   gw   192.168.77.1 (gwlan) | 203.0.113.1 (gwwan)            the gateway under test
#   wan  203.0.113.2                                            a STUN binding responder (StunResponder)
# and runs, one after the other in the gw namespace:
#   - miniupnpd   Debian miniupnpd-nftables, daemonized as its users run it (`miniupnpd -f CONF`), NAT-PMP/PCP and
#                 UPnP on; its external address is learned by STUN from the wan namespace (it refuses to map with a
#                 reserved external address such as 203.0.113.1 otherwise); its syslog-to-console output is masked.
#   - natgw userspace      `./natgw run -c CONF` with the launcher's default JVM options, dataplane userspace (relays)
#   - natgw linux-gateway  the same in dataplane mode linux-gateway, with kernel forwarding when this build has it
# Clients: NAT-PMP, PCP and UPnP (SSDP discovery, then a new HTTP connection per SOAP call, as upnpc does).
#   cold: for each protocol a fresh start: time from process start to the first answer, then the first 300 adds, from
#         one client JVM kept for all the cold starts and warmed up before the first against a gateway started for that
#         (CLIENT_WARMUP adds+deletes per protocol, 1 000); natgw starts as a router restarts: with the admin identity
#         (token, TLS key and certificate) an earlier start made in its data directory, and no leases;
#   warm: one more start: a warm-up pass of WARMUP adds+deletes per protocol (1 000: with 300, C1 was still compiling
#         the request path while the first protocol measured, NAT-PMP, ran: its p99 2.3-2.7 ms against PCP's 0.8-1.2
#         in the same run, and 0.88 ms after 1 000; bench/README.md, round 5) and then CWARMUP (50, at most PER_CLIENT)
#         adds+deletes from each of the 16 clients at once, then OPS sequential adds and deletes with one client, then
#         16 clients at once (PER_CLIENT each; their threads are started and waiting before the clock starts);
#         NAT-PMP/PCP requests are retransmitted on RFC 6886's schedule (counted); a pass with a request unanswered for 30 s is reported as failed, and the run goes on;
#   memory (natgw userspace): RSS after start, then a churn of CHURN NAT-PMP add+delete pairs from 8 clients,
#         bounded by CHURN_SECONDS, RSS sampled every tenth.
# Prints one table: req/s, p50, p99 per gateway and mode, and natgw's ratios to miniupnpd.
#
# usage: sudo bench/control-plane.sh [memory|pinholes]
#   memory: natgw userspace only, no cold or warm passes: RSS after start and through the churn (to choose JVM options)
#   pinholes: issue 14's benchmark: natgw alone in linux-gateway mode with kernel forwarding, the topology with IPv6 too
#         (lan fd00:77::10, gw fd00:77::1 | 2001:db8:113::1, wan 2001:db8:113::2): IPv6 pinhole adds/s over PCP and UPnP
#         (WANIPv6FirewallControl AddPinhole) beside the IPv4 mapping adds/s (PCP MAP, AddPortMapping) of the same run,
#         sequential, one client per family, in ROUNDS rounds of OPS adds and OPS deletes per family (the family going
#         first alternates) after WARMUP adds+deletes; p50/p99 and the ratio to the target (pinholes >= 0.8x IPv4).
#         Any refusal or missing answer ends the run with its reason (exit 1).
# environment (all optional): OPS (1000) WARMUP (1000) CWARMUP (50) COLD (300) CLIENT_WARMUP (1000) CLIENTS (16) PER_CLIENT (100) CHURN (100000) ROUNDS (4, pinholes)
#   CHURN_SECONDS (600) GATEWAYS ("miniupnpd userspace linux-gateway": a subset runs only those)
#   CLIENT_JIT (-XX:TieredStopAtLevel=1): the client JVM's compiler option. The client runs on the gateway's two cores;
#         with C2 (the JVM's default, CLIENT_JIT=" ") its compiler took 25-30 % of the machine through the 16-client
#         UPnP passes (perf, bench/README.md round 14), load the gateway does not make. C1 alone compiles the client's
#         small request loop at once and leaves the cores to the gateways.
#   NATGW_JAVA_OPTS: passed to the launcher like any user's (printed in the header; unset for the default figures)
#   MINIUPNPD_DEBUG=FILE: run miniupnpd in the foreground with debug logging into FILE (diagnosis only: halves its rate)
# Needs root, ip, nft, unshare, java 17 (javac), Debian miniupnpd-nftables, and mvn when natgw.jar is not built yet.
set -euo pipefail

WHAT=${1:-all}
case "$WHAT" in all|memory|pinholes) ;; *) echo "usage: sudo bench/control-plane.sh [memory|pinholes]" >&2; exit 2;; esac
[ "$WHAT" = memory ] && GATEWAYS=userspace
[ "$WHAT" = pinholes ] && GATEWAYS=linux-gateway
ROUNDS=${ROUNDS:-4}
OPS=${OPS:-1000}
WARMUP=${WARMUP:-1000}
COLD=${COLD:-300}
CLIENTS=${CLIENTS:-16}
PER_CLIENT=${PER_CLIENT:-100}
CHURN=${CHURN:-100000}
CHURN_SECONDS=${CHURN_SECONDS:-600}
GATEWAYS=${GATEWAYS:-miniupnpd userspace linux-gateway}
REPO=$(cd "$(dirname "$0")/.." && pwd)
RUN="cp$$"
LAN="$RUN-lan"; GW="$RUN-gw"; WAN="$RUN-wan"
PIDS=()
T_BEGIN=$(date +%s)

say() { echo "control-plane: $*" >&2; }
[ "$(id -u)" = 0 ] || { say "needs root (network namespaces, nftables)"; exit 2; }
missing=()
for t in ip nft unshare mount java javac; do command -v "$t" >/dev/null || missing+=("$t"); done
case " $GATEWAYS " in *" miniupnpd "*)
    command -v miniupnpd >/dev/null || missing+=("miniupnpd (apt-get install miniupnpd-nftables)");;
esac
[ -f "$REPO/gateway/target/natgw.jar" ] || command -v mvn >/dev/null || missing+=("mvn (natgw.jar is not built)")
if [ ${#missing[@]} -gt 0 ]; then say "missing: ${missing[*]}"; exit 2; fi
if command -v miniupnpd >/dev/null && miniupnpd --version 2>&1 | grep -q iptables; then say "miniupnpd is the iptables build: apt-get install miniupnpd-nftables"; exit 2; fi

WORK=$(mktemp -d /tmp/natgw-cp-bench.XXXXXX)
cleanup() {
    set +e
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
    [ -f "$WORK/miniupnpd.pid" ] && kill "$(cat "$WORK/miniupnpd.pid")" 2>/dev/null
    for ns in "$LAN" "$GW" "$WAN"; do ip netns del "$ns" 2>/dev/null; done
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

# ---- topology ----
for ns in "$LAN" "$GW" "$WAN"; do
    ip netns add "$ns"; ip -n "$ns" link set lo up
    if [ "$WHAT" = pinholes ]; then # IPv6 on, no duplicate address detection (addresses usable at once), before the links
        for c in all default; do ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$c.disable_ipv6=0" "net.ipv6.conf.$c.accept_dad=0"; done
    fi
done
ip -n "$LAN" link add lan0 type veth peer name gwlan netns "$GW"
ip -n "$WAN" link add wan0 type veth peer name gwwan netns "$GW"
ip -n "$LAN" addr add 192.168.77.10/24 dev lan0
for i in $(seq 0 $((CLIENTS > 8 ? CLIENTS - 1 : 7))); do ip -n "$LAN" addr add "192.168.77.$((100 + i))/24" dev lan0; done
ip -n "$LAN" link set lan0 up
ip -n "$GW" addr add 192.168.77.1/24 dev gwlan; ip -n "$GW" link set gwlan up
ip -n "$GW" addr add 203.0.113.1/24 dev gwwan; ip -n "$GW" link set gwwan up
ip -n "$WAN" addr add 203.0.113.2/24 dev wan0; ip -n "$WAN" link set wan0 up
ip -n "$LAN" route add default via 192.168.77.1
ip -n "$GW" route add default via 203.0.113.2
ip netns exec "$GW" sysctl -qw net.ipv4.ip_forward=1
if [ "$WHAT" = pinholes ]; then # IPv6 as in it/.../dataplane/Topology.java: no translation, the WAN routes the LAN prefix
    ip -n "$LAN" addr add fd00:77::10/64 dev lan0 nodad
    ip -n "$GW" addr add fd00:77::1/64 dev gwlan nodad
    ip -n "$GW" addr add 2001:db8:113::1/64 dev gwwan nodad
    ip -n "$WAN" addr add 2001:db8:113::2/64 dev wan0 nodad
    ip -n "$LAN" -6 route add default via fd00:77::1
    ip -n "$WAN" -6 route add fd00:77::/64 via 2001:db8:113::1
    ip netns exec "$GW" sysctl -qw net.ipv6.conf.all.forwarding=1
fi

# ---- programs ----
say "building natgw (if needed) and the client programs ..."
env -u NATGW_JAVA_OPTS "$REPO/natgw" --help >/dev/null # the launcher builds natgw.jar on first use
mkdir -p "$WORK/classes"
javac -nowarn -d "$WORK/classes" "$REPO"/it/src/main/java/io/natgw/it/bench/{ControlPlaneBench,StunResponder,BenchSupport,DiskSyncFloor}.java
CLIENT=(java -XX:+UseSerialGC -Xmx256m ${CLIENT_JIT:--XX:TieredStopAtLevel=1} -Dwarmup.concurrent="${CWARMUP:-50}" -cp "$WORK/classes" io.natgw.it.bench.ControlPlaneBench)
RESULTS="$WORK/results.tsv"

case " $GATEWAYS " in *" miniupnpd "*) # miniupnpd learns its external address from it (below)
    ip netns exec "$WAN" java -XX:+UseSerialGC -Xmx32m -cp "$WORK/classes" io.natgw.it.bench.StunResponder 203.0.113.2 3478 \
        >"$WORK/stun.log" 2>&1 &
    PIDS+=($!);;
esac

lan() { ip netns exec "$LAN" "${CLIENT[@]}" "$@"; }
alive() { [ -n "$1" ] && [ -r "/proc/$1/status" ] && ! grep -q '^State:.*Z' "/proc/$1/status"; } # PID: running, not a zombie

# ---- miniupnpd ----
cat >"$WORK/miniupnpd.conf" <<EOF
ext_ifname=gwwan
listening_ip=gwlan
port=5000
enable_natpmp=yes
enable_upnp=yes
secure_mode=yes
system_uptime=yes
ext_perform_stun=yes
ext_stun_host=203.0.113.2
ext_stun_port=3478
uuid=3b5c8d4e-1f6a-4b7c-9d2e-0a1b2c3d4e5f
allow 1024-65535 192.168.77.0/24 1024-65535
deny 0-65535 0.0.0.0/0 0-65535
EOF
MINI_PID=
# What Debian's service does before and after miniupnpd (ExecStartPre/ExecStopPost: nft_init.sh, nft_removeall.sh).
# Its nft_init.sh cannot run as packaged (2.3.1-1 ships the iptables miniupnpd_functions.sh beside it, which needs
# iptables and leaves the table and chain names unset), so this is that script's nftables structure with miniupnpd's
# default names (table inet filter; chains miniupnpd, prerouting_miniupnpd, postrouting_miniupnpd).
miniupnpd_nft_init() {
    ip netns exec "$GW" nft -f - <<NFT
table inet filter {
    chain forward { type filter hook forward priority 0; policy drop; jump miniupnpd; }
    chain miniupnpd { }
    chain prerouting { type nat hook prerouting priority -100; policy accept; jump prerouting_miniupnpd; }
    chain postrouting { type nat hook postrouting priority 100; policy accept; jump postrouting_miniupnpd; }
    chain prerouting_miniupnpd { }
    chain postrouting_miniupnpd { }
}
NFT
}
start_miniupnpd() { # START_MS is set to the launch time
    rm -f "$WORK/miniupnpd.pid"
    START_MS=$(date +%s%3N)
    miniupnpd_nft_init
    # No /dev/log here: miniupnpd's syslog would go to the console and slow it down; mask the console in a private
    # mount namespace. Without -d it daemonizes, as its init scripts start it.
    if [ -n "${MINIUPNPD_DEBUG:-}" ]; then # diagnosis only: in the foreground with debug logging (halves its rate)
        ip netns exec "$GW" miniupnpd -d -f "$WORK/miniupnpd.conf" -P "$WORK/miniupnpd.pid" >>"$MINIUPNPD_DEBUG" 2>&1 &
    else
        ip netns exec "$GW" unshare -m --propagation private sh -c \
            'mount --bind /dev/null /dev/console && exec miniupnpd -f "$1" -P "$2"' sh "$WORK/miniupnpd.conf" "$WORK/miniupnpd.pid" \
            >"$WORK/miniupnpd.out" 2>&1
    fi
    for _ in $(seq 100); do [ -s "$WORK/miniupnpd.pid" ] && break; sleep 0.1; done
    [ -s "$WORK/miniupnpd.pid" ] || { say "miniupnpd did not start: $(cat "$WORK/miniupnpd.out")"; exit 1; }
    MINI_PID=$(cat "$WORK/miniupnpd.pid")
}
stop_miniupnpd() {
    kill "$MINI_PID" 2>/dev/null || true
    for _ in $(seq 300); do alive "$MINI_PID" || break; sleep 0.1; done
    if alive "$MINI_PID"; then say "miniupnpd $MINI_PID did not stop within 30 s of SIGTERM"; exit 1; fi
    rm -f "$WORK/miniupnpd.pid"
    ip netns exec "$GW" nft delete table inet filter
}

# ---- natgw ----
natgw_config() { # MODE DATA_DIR [FORWARDING]   (pinholes: the IPv6 LAN address, prefix and rules too)
    local v6addr= v6net= v6rules=
    if [ "$WHAT" = pinholes ]; then
        v6addr=", fd00:77::1"; v6net=", fd00:77::/64"
        v6rules=', "allow 1024-65535 fd00:77::/64 1024-65535", "deny 0-65535 ::/0 0-65535"'
    fi
    cat <<EOF
network:
  lan: { addresses: [192.168.77.1$v6addr], clients: [192.168.77.0/24$v6net], interfaces: [gwlan] }
  wan: { address: 203.0.113.1, interface: gwwan }
dataDir: $2
pcp: { rateLimitPerSecond: 1000000 }
limits: { perClientQuota: 100000, perSubnetQuota: 100000, maxMappings: 65536 }
permissions: ["allow 1024-65535 192.168.77.0/24 1024-65535", "deny 0-65535 0.0.0.0/0 0-65535"$v6rules]
dataplane:
  mode: $1
EOF
    [ -n "${3:-}" ] && echo "  forwarding: $3"
    true
}
NATGW_PID=
IDENTITY_DIR= # once set: the data directory whose admin identity every later natgw start is given
start_natgw() { # MODE [FORWARDING]
    local data; data=$(mktemp -d "$WORK/data.XXXXXX")
    # A router restarts with the admin token, TLS key and certificate its first start made (issuing them is a
    # first start's work, about 0.15 s); its lease table here is empty all the same.
    if [ -n "$IDENTITY_DIR" ]; then cp -p "$IDENTITY_DIR"/admin.token "$IDENTITY_DIR"/admin-tls.key "$IDENTITY_DIR"/admin-tls.crt "$data"/; fi
    NATGW_DATA=$data
    natgw_config "$1" "$data" "${2:-}" >"$WORK/natgw.yaml"
    START_MS=$(date +%s%3N)
    (cd "$WORK" && exec ip netns exec "$GW" "$REPO/natgw" run -c "$WORK/natgw.yaml") >"$WORK/natgw-$1.log" 2>&1 &
    NATGW_PID=$!
    PIDS+=("$NATGW_PID")
}
stop_natgw() {
    kill "$NATGW_PID" 2>/dev/null || true
    wait "$NATGW_PID" 2>/dev/null || true
}

# linux-gateway mode: with kernel forwarding if this build has it, with its relays otherwise (said in the table).
LG_FORWARDING=
natgw_config linux-gateway "$WORK/check" kernel >"$WORK/check.yaml"
if env -u NATGW_JAVA_OPTS "$REPO/natgw" check-config "$WORK/check.yaml" >/dev/null 2>&1; then LG_FORWARDING=kernel; fi
if [ "$WHAT" = pinholes ] && [ -z "$LG_FORWARDING" ]; then
    say "pinholes need linux-gateway mode with kernel forwarding, which this build does not accept:"
    env -u NATGW_JAVA_OPTS "$REPO/natgw" check-config "$WORK/check.yaml" >&2 || true
    exit 1
fi

gateway_column() { # GATEWAY -> column name
    case "$1" in
        miniupnpd) echo miniupnpd ;;
        userspace) echo "natgw userspace" ;;
        linux-gateway) if [ -n "$LG_FORWARDING" ]; then echo "natgw lg-kernel"; else echo "natgw lg-relays"; fi ;;
    esac
}
start_gateway() { # GATEWAY
    case "$1" in
        miniupnpd) start_miniupnpd ;;
        userspace) start_natgw userspace ;;
        linux-gateway) start_natgw linux-gateway "$LG_FORWARDING" ;;
    esac
}
stop_gateway() { if [ "$1" = miniupnpd ]; then stop_miniupnpd; else stop_natgw; fi; }
gateway_pid() { if [ "$1" = miniupnpd ]; then echo "$MINI_PID"; else echo "$NATGW_PID"; fi; }

# The launcher's first `run` after a build writes its class-data archive when it exits: a router restarts with it in
# place, so it is written once here, before anything is measured. The archive holds the classes that run loaded: a
# router's first run served its clients' protocols, so this one serves a few NAT-PMP, PCP and UPnP requests (sequential
# and concurrent, results thrown away), not a single NAT-PMP add that would leave the SOAP and PCP paths out of it.
JAR="$REPO/gateway/target/natgw.jar"
if [ "$GATEWAYS" != miniupnpd ] && ! [ "${JAR%.jar}.jsa" -nt "$JAR" ]; then
    say "natgw: first run after the build (writes the launcher's class-data archive) ..."
    start_natgw userspace; lan ready "$RESULTS" 192.168.77.1
    lan warm "$WORK/training.tsv" training 192.168.77.1 20 20 2 5 >/dev/null 2>&1 || say "natgw: the training requests failed"
    stop_natgw
fi

if [ "$WHAT" = pinholes ]; then
    say "natgw lg-kernel: IPv6 pinholes vs IPv4 mappings, $ROUNDS rounds of $OPS per family and protocol ..."
    start_natgw linux-gateway kernel
    if ! lan ready "$RESULTS" 192.168.77.1 || ! lan pinholes "$RESULTS" 192.168.77.1 fd00:77::1 "$WARMUP" "$OPS" "$ROUNDS"; then
        say "the run failed$(alive "$NATGW_PID" || echo " (natgw had exited)"); natgw's log:"
        tail -20 "$WORK/natgw-linux-gateway.log" >&2
        exit 1
    fi
    stop_natgw
    # Pinholes are refused (no side effect) unless the forwarder forwards them, so their adds prove kernel forwarding;
    # the daemon's start-up line says it too.
    started=$(grep -m1 'dataplane started: mode linux-gateway, kernel forwarding' "$WORK/natgw-linux-gateway.log" || true)
    if [ -z "$started" ]; then say "natgw did not log that it ran with kernel forwarding; its log:"; head -30 "$WORK/natgw-linux-gateway.log" >&2; exit 1; fi
    echo
    echo "natgw IPv6 pinholes vs IPv4 mappings, sequential, one client per family (192.168.77.10 | fd00:77::10), lan/gw/wan" \
         "namespaces, $(nproc) cores, load before $(cut -d' ' -f1-3 /proc/loadavg), $(java -version 2>&1 | head -1)"
    echo "the daemon: ./natgw run -c CONF, dataplane.mode linux-gateway, dataplane.forwarding kernel (mappings and pinholes" \
         "are elements of its nftables table; it logged \"${started#*dataplane started: }\"); JVM options: the launcher's defaults${NATGW_JAVA_OPTS:+ plus NATGW_JAVA_OPTS=$NATGW_JAVA_OPTS}"
    echo "after $WARMUP adds+deletes per family and protocol: $ROUNDS rounds of $OPS adds then $OPS deletes per family, the family" \
         "going first alternating; rates over all rounds"
    echo
    ip netns exec "$LAN" "${CLIENT[@]}" report "$RESULTS" "IPv4 mappings"
    echo
    echo "ratio: IPv6 pinholes / IPv4 mappings. Target (issue 14): pinhole adds within 0.8x of the IPv4 mapping rate (ratio >= 0.8)."
    echo "run took $(( $(date +%s) - T_BEGIN )) s"
    exit 0
fi

# The cold starts' client: one JVM for all of them, warmed up against a gateway started for that before the first
# (natgw userspace if it is measured, else miniupnpd). A new client JVM per start measured its own start-up along with
# the gateway's: its requests ran in the interpreter while its compiler threads took the cores the gateway's start-up
# shares. Each command goes in on fd 8 and its "ok" or "failed: WHY" comes back on fd 9.
cold_client() { # COMMAND ARGS... : one command in the cold starts' client (its arguments tab-separated on one line)
    local answer IFS=$'\t'
    echo "$*" >&8
    read -r -t 900 answer <&9 || answer="failed: no answer within 900 s"
    [ "$answer" = ok ] || { say "cold client: $answer"; return 1; }
}
if [ "$WHAT" != memory ]; then
    mkfifo "$WORK/cold.in" "$WORK/cold.out"
    ip netns exec "$LAN" "${CLIENT[@]}" serve <"$WORK/cold.in" >"$WORK/cold.out" &
    PIDS+=($!)
    exec 8>"$WORK/cold.in" 9<"$WORK/cold.out"
    case " $GATEWAYS " in *" userspace "*|*" linux-gateway "*) g=userspace ;; *) g=miniupnpd ;; esac
    say "warming up the cold starts' client against $(gateway_column "$g") ..."
    start_gateway "$g"
    if ! lan ready "$RESULTS" 192.168.77.1 || ! cold_client warm "$WORK/client-warm-up.tsv" client-warm-up 192.168.77.1 \
            "${CLIENT_WARMUP:-1000}" 300 2 20 2>/dev/null; then
        say "the client's warm-up failed"; exit 1
    fi
    stop_gateway "$g"
    [ "$g" = miniupnpd ] || IDENTITY_DIR=$NATGW_DATA
fi

for g in $GATEWAYS; do
    col=$(gateway_column "$g")
    say "$col: cold starts (one per protocol) ..."
    for proto in natpmp pcp upnp; do
        [ "$WHAT" = memory ] && break
        start_gateway "$g"
        if ! cold_client cold "$RESULTS" "$col" 192.168.77.1 "$proto" "$START_MS" "$COLD"; then
            lan note "$RESULTS" "$col: the cold $proto run failed$(alive "$(gateway_pid "$g")" || echo " (the process had exited)")"
            say "$col: the cold run failed; its log:"; tail -20 "$WORK"/natgw-*.log "$WORK/miniupnpd.out" >&2 2>/dev/null || true
        fi
        stop_gateway "$g"
    done
    say "$col: warm ..."
    start_gateway "$g"
    if ! lan ready "$RESULTS" 192.168.77.1; then lan note "$RESULTS" "$col: did not answer after start"; stop_gateway "$g"; continue; fi
    if [ "$g" != miniupnpd ]; then sleep 2; lan rss "$RESULTS" "$col" "RSS after start (MiB)" "$(gateway_pid "$g")"; fi
    [ "$WHAT" = memory ] || lan warm "$RESULTS" "$col" 192.168.77.1 "$WARMUP" "$OPS" "$CLIENTS" "$PER_CLIENT"
    if ! alive "$(gateway_pid "$g")"; then lan note "$RESULTS" "$col: its process exited during the warm pass"; fi
    if [ "$g" = userspace ] && alive "$NATGW_PID"; then
        say "$col: churn of $CHURN NAT-PMP add+delete pairs (at most $CHURN_SECONDS s) ..."
        lan churn "$RESULTS" "$col" 192.168.77.1 "$NATGW_PID" "$CHURN" 8 "$CHURN_SECONDS"
    fi
    stop_gateway "$g"
done

# The disk's own share of an add: the journal's durable step alone (a small write and fdatasync), on the filesystem of
# natgw's dataDir, right after the gateways ran.
FLOOR=$(java -XX:+UseSerialGC -cp "$WORK/classes" io.natgw.it.bench.DiskSyncFloor "$WORK" 2000)

echo
echo "natgw control plane vs miniupnpd $(miniupnpd --version 2>&1 | head -1 | cut -d' ' -f2), lan/gw/wan namespaces, $(nproc) cores," \
     "load before $(cut -d' ' -f1-3 /proc/loadavg), $(java -version 2>&1 | head -1)"
echo "lg = dataplane mode linux-gateway (lg-kernel: with kernel forwarding; lg-relays: with its userspace relays)"
echo "natgw JVM options: the launcher's defaults${NATGW_JAVA_OPTS:+ plus NATGW_JAVA_OPTS=$NATGW_JAVA_OPTS}"
echo "warm: after $WARMUP adds+deletes per protocol (and ${CWARMUP:-50} per client from $CLIENTS clients at once), $OPS sequential; $CLIENTS clients x $PER_CLIENT; cold: the first $COLD adds after the first answer"
echo "every natgw start after the first is a restart: its data directory holds an earlier start's admin identity (token, TLS key and certificate), no leases;" \
     "the cold starts' client is one JVM, warmed up before the first start (${CLIENT_WARMUP:-1000} adds+deletes per protocol against another gateway)"
case " $GATEWAYS " in *" linux-gateway "*)
    [ -n "$LG_FORWARDING" ] || echo "linux-gateway kernel forwarding: not available in this build (the column ran linux-gateway mode with its userspace relays)";;
esac
echo
ip netns exec "$LAN" "${CLIENT[@]}" report "$RESULTS" miniupnpd
echo
echo "ratio: natgw / miniupnpd (for ms rows: miniupnpd / natgw, so > 1 is natgw faster). Targets: NAT-PMP and PCP adds >= 20x with"
echo "p99 < 1 ms; UPnP Add/DeletePortMapping >= 5x; 16 clients >= 4x sequential; first answer < 2000 ms; first $COLD >= 5x;"
echo "RSS <= 96 MiB after start and <= 128 MiB through the churn, no growth after warm-up."
echo "the disk under natgw's dataDir, $FLOOR (natgw acknowledges an add after one such"
echo "commit, per batch; miniupnpd keeps no lease file by default, so its figures include no disk write)"
echo "run took $(( $(date +%s) - T_BEGIN )) s"
