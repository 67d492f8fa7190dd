#!/usr/bin/env bash
# Proves the Debian package built by `mvn -B package` (gateway/target/natgw_<version>_all.deb), as root on a
# machine where natgw is not installed (.ci/run calls it after `mvn -B verify`):
#   1. its metadata (dpkg-deb -f) and exact file list (dpkg-deb -c);
#   2. it installs (apt-get, which pulls the Java runtime and the recommended nftables and conntrack if
#      missing), creates the natgw user and /var/lib/natgw; the installed CLI and config work, and
#      systemd-analyze verifies the unit; its security exposure is printed and must stay <= MAX_EXPOSURE;
#   3. the daemon starts as the unit's ExecStart does (`/usr/bin/natgw run`, so on the installed
#      /etc/natgw/natgw.yaml, unchanged): as the unit's User/Group with only the unit's capabilities
#      (setpriv), under its system-call filter (seccomp-exec.py), with its working directory, umask and
#      open-files limit, and a journal stream on stdout as systemd gives it; inside a router network
#      namespace that has the example's interfaces and addresses (eth1 192.168.77.1 to a LAN-host
#      namespace, eth0 203.0.113.1 to a WAN namespace), so the example runs in its linux-gateway mode;
#      the process's uid, capability sets and seccomp mode are read back;
#   4. natpmpc on the LAN host maps a port, `natgw leases` reads it back and a WAN connection reaches the
#      LAN host through it; a static mapping below 1024 is accepted; the unit's ExecReload (SIGHUP)
#      re-reads the configuration and keeps both mappings; log lines carry journal priorities;
#      SIGTERM stops it with status 0;
#   5. `dpkg -r` keeps /etc/natgw and /var/lib/natgw; `dpkg --purge` removes both.
# Everything it starts is stopped by PID, the namespaces deleted, the package purged (and the natgw user
# deleted if this run created it) on any exit. Any failure exits 1 with "ci-check: FAIL: ...".
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MAX_EXPOSURE=2.0
WAN=203.0.113.1      # the router example's external address (network.wan.address)
GW_LAN=192.168.77.1  # its LAN address (network.lan.addresses)
HOST=192.168.77.10   # a LAN host, in its own namespace
gw_ns="natgw-ci-gw-$$"
lan_ns="natgw-ci-lan-$$"
wan_ns="natgw-ci-wan-$$"
UNIT=/lib/systemd/system/natgw.service

fail() { echo "ci-check: FAIL: $*" >&2; exit 1; }
step() { echo "ci-check [${SECONDS}s]: $*"; }

tmp=""
daemon_pid=""
listener_pid=""
namespaces=0
installed_by_us=0
user_created_by_us=0
cleanup() {
    status=$?
    set +e
    if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
        kill -TERM "$daemon_pid"
        for _ in $(seq 1 100); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$daemon_pid" 2>/dev/null && kill -KILL "$daemon_pid"
    fi
    if [ -n "$listener_pid" ] && kill -0 "$listener_pid" 2>/dev/null; then
        kill "$listener_pid"; wait "$listener_pid"
    fi
    if [ "$namespaces" = 1 ]; then
        ip netns del "$gw_ns" 2>/dev/null
        ip netns del "$lan_ns" 2>/dev/null
        ip netns del "$wan_ns" 2>/dev/null
    fi
    if [ "$installed_by_us" = 1 ] && dpkg -s natgw >/dev/null 2>&1; then
        dpkg --purge natgw >/dev/null
    fi
    if [ "$user_created_by_us" = 1 ] && getent passwd natgw >/dev/null; then
        userdel natgw 2>/dev/null; getent group natgw >/dev/null && groupdel natgw 2>/dev/null
    fi
    if [ "$status" != 0 ] && [ -n "$tmp" ] && [ -f "$tmp/daemon.log" ]; then
        echo "ci-check: daemon output:" >&2
        sed 's/^/    /' "$tmp/daemon.log" >&2
    fi
    [ -n "$tmp" ] && rm -rf "$tmp"
    exit "$status"
}
trap cleanup EXIT
trap 'echo "ci-check: FAIL: line $LINENO: $BASH_COMMAND" >&2' ERR

[ "$(id -u)" = 0 ] || fail "run as root (it installs and purges the package)"
for tool in dpkg dpkg-deb apt-get setpriv natpmpc systemd-analyze ip nft socat ss timeout; do
    command -v "$tool" >/dev/null || fail "missing tool: $tool (.ci/run installs it)"
done
/usr/bin/python3 -c "import seccomp" 2>/dev/null || fail "missing python3-seccomp (.ci/run installs it)"
debs=("$repo"/gateway/target/natgw_*_all.deb)
[ "${#debs[@]}" = 1 ] && [ -f "${debs[0]}" ] || fail "expected exactly one gateway/target/natgw_*_all.deb (run mvn -B package): ${debs[*]}"
deb="${debs[0]}"
if dpkg -s natgw >/dev/null 2>&1 || [ -e /etc/natgw ] || [ -e /var/lib/natgw ]; then
    fail "natgw is installed here already (or /etc/natgw or /var/lib/natgw exist): this check installs and purges it"
fi
getent passwd natgw >/dev/null || user_created_by_us=1
tmp="$(mktemp -d)"
chmod 755 "$tmp"   # the natgw user reads the adapted configuration in it

# --- 1. metadata and file list -------------------------------------------------------------------------------------
step "metadata of $(basename "$deb")"
field() { dpkg-deb -f "$deb" "$1"; }
maven_version="$(sed -n 's:^  <version>\(.*\)</version>:\1:p' "$repo/pom.xml" | head -1)"
debian_version="${maven_version/-SNAPSHOT/~SNAPSHOT}"
[ "$(field Package)" = natgw ] || fail "Package: $(field Package)"
[ "$(field Version)" = "$debian_version" ] || fail "Version: '$(field Version)', expected '$debian_version' (from Maven $maven_version)"
[ "$(basename "$deb")" = "natgw_${debian_version}_all.deb" ] || fail "file name $(basename "$deb")"
[ "$(field Architecture)" = all ] || fail "Architecture: $(field Architecture)"
case "$(field Depends)" in
    *"default-jre-headless (>= 2:1.17) | java17-runtime-headless"*) ;;
    *) fail "Depends lacks the Java 17 headless runtime: $(field Depends)" ;;
esac
case "$(field Recommends)" in *nftables*) ;; *) fail "Recommends lacks nftables: $(field Recommends)" ;; esac
conffiles="$(dpkg-deb --ctrl-tarfile "$deb" | tar -xOf - ./conffiles)"
[ "$conffiles" = /etc/natgw/natgw.yaml ] || fail "conffiles: '$conffiles'"

step "file list"
files="$(dpkg-deb -c "$deb" | awk '$1 !~ /^d/ { print $1, $2, $6 }' | sort)"
expected="$(sort <<'EOF'
-rw-r--r-- root/root ./etc/natgw/natgw.yaml
-rw-r--r-- root/root ./lib/systemd/system/natgw.service
-rw-r--r-- root/root ./usr/lib/sysusers.d/natgw.conf
-rw-r--r-- root/root ./usr/share/man/man8/natgw.8
-rw-r--r-- root/root ./usr/share/natgw/natgw.jar
-rwxr-xr-x root/root ./usr/bin/natgw
EOF
)"
[ "$files" = "$expected" ] || fail "file list differs:$(diff <(echo "$expected") <(echo "$files") | sed 's/^/\n    /' | tr -d '\n')"

# --- 2. install ----------------------------------------------------------------------------------------------------
step "install"
installed_by_us=1
apt-get install -y "$deb" >"$tmp/apt.log" 2>&1 || { cat "$tmp/apt.log" >&2; fail "apt-get install $deb"; }
[ "$(dpkg-query -W -f '${Status} ${Version}' natgw)" = "install ok installed $debian_version" ] || fail "dpkg status: $(dpkg-query -W -f '${Status} ${Version}' natgw)"
uid="$(id -u natgw)" || fail "no natgw user after install"
[ "$uid" -lt 1000 ] && [ "$uid" -gt 0 ] || fail "natgw is not a system user (uid $uid)"
[ "$(stat -c '%U:%G %a' /var/lib/natgw)" = "natgw:natgw 750" ] || fail "/var/lib/natgw is $(stat -c '%U:%G %a' /var/lib/natgw)"
command -v natgw >/dev/null && [ "$(command -v natgw)" = /usr/bin/natgw ] || fail "natgw is not /usr/bin/natgw on PATH"
natgw --help | grep -q check-config || fail "natgw --help lists no commands"
natgw run --help | tr -s ' \n' ' ' | grep -q "default: /etc/natgw/natgw. \?yaml" || fail "natgw run --help does not name /etc/natgw/natgw.yaml as the default"
natgw check-config /etc/natgw/natgw.yaml || fail "the installed /etc/natgw/natgw.yaml is invalid"
grep -q "^dataDir: /var/lib/natgw$" /etc/natgw/natgw.yaml || fail "installed config's dataDir is not /var/lib/natgw"

step "systemd-analyze verify $UNIT"
man_opt=()
command -v man >/dev/null || man_opt=(--man=no)   # without man-db it cannot check Documentation=man:natgw(8)
systemd-analyze verify "${man_opt[@]}" "$UNIT" >"$tmp/verify.log" 2>&1 || { cat "$tmp/verify.log" >&2; fail "systemd-analyze verify"; }
[ ! -s "$tmp/verify.log" ] || { cat "$tmp/verify.log" >&2; fail "systemd-analyze verify warned"; }
exposure="$(systemd-analyze security --offline=true "$UNIT" 2>/dev/null | sed -n 's/.*Overall exposure level for natgw.service: \([0-9.]*\).*/\1/p')"
[ -n "$exposure" ] || fail "systemd-analyze security printed no exposure level"
step "systemd-analyze security: exposure $exposure (at most $MAX_EXPOSURE)"
awk -v e="$exposure" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(e <= m) }' || fail "exposure $exposure > $MAX_EXPOSURE"

# --- 3. start the daemon as the unit does --------------------------------------------------------------------------
unit_value() { sed -n "s/^$1=//p" "$UNIT" | tail -1; }
exec_start="$(unit_value ExecStart)"
user="$(unit_value User)"
group="$(unit_value Group)"
ambient="$(unit_value AmbientCapabilities)"
bounding="$(unit_value CapabilityBoundingSet)"
workdir="$(unit_value WorkingDirectory)"
umask_value="$(unit_value UMask)"
nofile="$(unit_value LimitNOFILE)"
[ "$(unit_value NoNewPrivileges)" = yes ] || fail "the unit does not set NoNewPrivileges=yes"
[ "$ambient" = "$bounding" ] || fail "AmbientCapabilities ($ambient) differs from CapabilityBoundingSet ($bounding)"
[ -n "$exec_start" ] && [ -n "$user" ] && [ "$user" != root ] || fail "unit ExecStart='$exec_start' User='$user'"
# "CAP_NET_BIND_SERVICE CAP_NET_ADMIN" -> setpriv's "+net_bind_service,+net_admin"
caps="$(for c in $ambient; do printf '+%s,' "$(echo "${c#CAP_}" | tr 'A-Z' 'a-z')"; done)"
caps="${caps%,}"

step "router namespace $gw_ns: eth1 192.168.77.1/24 to the LAN host ($lan_ns, 192.168.77.10), eth0 203.0.113.1/24 to the WAN ($wan_ns)"
# The installed router example runs as it is: the namespace has its interfaces and addresses.
ip netns add "$gw_ns"
ip netns add "$lan_ns"
ip netns add "$wan_ns"
namespaces=1
ip -n "$gw_ns" link set lo up
ip -n "$lan_ns" link set lo up
ip -n "$wan_ns" link set lo up
ip -n "$gw_ns" link add eth1 type veth peer name lan0 netns "$lan_ns"
ip -n "$gw_ns" addr add 192.168.77.1/24 dev eth1
ip -n "$gw_ns" link set eth1 up
ip -n "$lan_ns" addr add 192.168.77.10/24 dev lan0
ip -n "$lan_ns" link set lan0 up
ip -n "$lan_ns" route add default via 192.168.77.1
ip -n "$gw_ns" link add eth0 type veth peer name wan0 netns "$wan_ns"
ip -n "$gw_ns" addr add 203.0.113.1/24 dev eth0
ip -n "$gw_ns" link set eth0 up
ip -n "$wan_ns" addr add 203.0.113.2/24 dev wan0
ip -n "$wan_ns" link set wan0 up
ip netns exec "$gw_ns" sysctl -qw net.ipv4.ip_forward=1   # a router forwards

step "start in $gw_ns: $exec_start (reads /etc/natgw/natgw.yaml) as $user with $ambient"
log="$tmp/daemon.log"
: >"$log"
journal_stream="$(stat -c '%d:%i' "$log")"   # what systemd sets when stdout is the journal
(
    cd "$workdir"
    umask "$umask_value"
    # LimitNOFILE=, or the hard limit when this machine's is lower (a container may cap it below the unit's)
    hard="$(ulimit -Hn)"
    if [ "$hard" != unlimited ] && [ "$hard" -lt "$nofile" ]; then ulimit -n "$hard"; else ulimit -n "$nofile"; fi
    export JOURNAL_STREAM="$journal_stream"
    # shellcheck disable=SC2086 # ExecStart is a command line
    exec ip netns exec "$gw_ns" setpriv --reuid="$user" --regid="$group" --init-groups \
        --inh-caps="-all,$caps" --ambient-caps="-all,$caps" --bounding-set="-all,$caps" --no-new-privs \
        -- /usr/bin/python3 "$repo/packaging/seccomp-exec.py" "$UNIT" $exec_start
) >>"$log" 2>&1 &
daemon_pid=$!

in_gw() { ip netns exec "$gw_ns" "$@"; }
ready=0
for _ in $(seq 1 600); do   # 60 s ceiling for a JVM start on a busy machine
    kill -0 "$daemon_pid" 2>/dev/null || fail "the daemon exited during start"
    if grep -q "restored .* mapping" "$log" && in_gw natgw status >/dev/null 2>&1; then ready=1; break; fi
    sleep 0.1
done
[ "$ready" = 1 ] || fail "the daemon did not become ready within 60 s"

step "natgw's nftables table, made as $user with the ambient CAP_NET_ADMIN"
in_gw nft list table inet natgw >/dev/null || fail "no nftables table inet natgw in $gw_ns"

step "process identity and capabilities"
status_of() { sed -n "s/^$1:[[:space:]]*//p" "/proc/$daemon_pid/status"; }
[ "$(tr '\0' ' ' <"/proc/$daemon_pid/cmdline")" != "" ] || fail "no cmdline"
grep -q "natgw.jar" "/proc/$daemon_pid/cmdline" || fail "PID $daemon_pid is not the daemon: $(tr '\0' ' ' <"/proc/$daemon_pid/cmdline")"
read -r ruid euid _ _ <<<"$(status_of Uid)"
[ "$ruid" = "$uid" ] && [ "$euid" = "$uid" ] || fail "daemon uid $ruid/$euid, expected $uid ($user)"
cap_mask=0
for c in $ambient; do
    case "$c" in
        CAP_NET_BIND_SERVICE) cap_mask=$((cap_mask | 1 << 10)) ;;
        CAP_NET_ADMIN) cap_mask=$((cap_mask | 1 << 12)) ;;
        CAP_NET_RAW) cap_mask=$((cap_mask | 1 << 13)) ;;
        *) fail "this check does not know the bit of $c" ;;
    esac
done
expected_caps="$(printf '%016x' "$cap_mask")"
for set in CapEff CapPrm CapAmb CapBnd; do
    [ "$(status_of "$set")" = "$expected_caps" ] || fail "$set is $(status_of "$set"), expected $expected_caps ($ambient)"
done
[ "$(status_of NoNewPrivs)" = 1 ] || fail "NoNewPrivs is not set"
[ "$(status_of Seccomp)" = 2 ] || fail "no system-call filter on the daemon (Seccomp: $(status_of Seccomp))"

# --- 4. map a port with natpmpc, read it back -------------------------------------------------------------------
step "natpmpc -g $GW_LAN -a 40000 40000 tcp 3600 from the LAN host $HOST"
ip netns exec "$lan_ns" natpmpc -g "$GW_LAN" -a 40000 40000 tcp 3600 >"$tmp/natpmpc.log" 2>&1 \
    || { cat "$tmp/natpmpc.log" >&2; fail "natpmpc exited $?"; }
grep -q "Mapped public port 40000 protocol TCP to local port 40000" "$tmp/natpmpc.log" \
    || { cat "$tmp/natpmpc.log" >&2; fail "natpmpc got no mapping"; }
in_gw natgw leases >"$tmp/leases.log" || fail "natgw leases exited $?"
grep -Eq "^(ipv4 +)?tcp +$WAN:40000 +$HOST:40000 .*(natpmp|nat-pmp)" "$tmp/leases.log" \
    || { cat "$tmp/leases.log" >&2; fail "natgw leases does not show the NAT-PMP mapping"; }

step "natgw's helper processes run under the unit's filter (ip monitor for the WAN address, conntrack -E for triggers)"
if grep -Eq "WAN address watcher .* exited|conntrack -E ended" "$log"; then
    fail "a helper process of natgw does not run as the packaged service: $(grep -E "WAN address watcher|conntrack -E" "$log" | head -3)"
fi
grep -q "following the WAN address on interface eth0" "$log" || fail "the WAN address watcher did not start"

step "traffic: WAN 203.0.113.2 -> $WAN:40000 reaches the LAN host's $HOST:40000"
ip netns exec "$lan_ns" timeout 30 socat -u TCP-LISTEN:40000,bind="$HOST",reuseaddr OPEN:"$tmp/received",creat,trunc &
listener_pid=$!
for _ in $(seq 1 100); do ip netns exec "$lan_ns" ss -Hltn "sport = :40000" | grep -q . && break; sleep 0.1; done
echo "through natgw" | ip netns exec "$wan_ns" timeout 10 socat -u - TCP:"$WAN":40000 || fail "WAN connect to $WAN:40000"
wait "$listener_pid" || fail "the LAN host's listener exited $?"
listener_pid=""
[ "$(cat "$tmp/received")" = "through natgw" ] || fail "the LAN host received '$(cat "$tmp/received")'"

step "static mapping on port 113 (< 1024: needs the ambient CAP_NET_BIND_SERVICE)"
in_gw natgw map add tcp 113 "$HOST:11300" --description ci-check >/dev/null || fail "natgw map add tcp 113 exited $?"
in_gw natgw leases | grep -Eq "^(ipv4 +)?tcp +$WAN:113 +$HOST:11300 .*ci-check" || fail "natgw leases lacks the static mapping"

step "natgw ui: the web UI's sign-in link with the token from /var/lib/natgw/admin.token"
token="$(cat /var/lib/natgw/admin.token)"
[ -n "$token" ] && [ "$(stat -c '%U %a' /var/lib/natgw/admin.token)" = "natgw 600" ] \
    || fail "admin.token is $(stat -c '%U %a' /var/lib/natgw/admin.token)"
ui="$(in_gw natgw ui)" || fail "natgw ui exited $?"
case "$ui" in https://127.0.0.1:8443/*"#token=$token") ;; *) fail "natgw ui printed '$ui'" ;; esac

step "reload as the unit's ExecReload does: /etc/natgw/natgw.yaml re-read, the daemon and its leases stay"
exec_reload="$(unit_value ExecReload)"
[ -n "$exec_reload" ] || fail "the unit has no ExecReload"
# shellcheck disable=SC2086 # ExecReload is a command line; systemd substitutes $MAINPID
${exec_reload//\$MAINPID/$daemon_pid} || fail "ExecReload '$exec_reload' exited $?"
for _ in $(seq 1 300); do grep -q "configuration reloaded from /etc/natgw/natgw.yaml" "$log" && break; sleep 0.1; done
grep -q "^<6>INFO .*configuration reloaded from /etc/natgw/natgw.yaml" "$log" || fail "no 'configuration reloaded' line after ExecReload"
kill -0 "$daemon_pid" 2>/dev/null || fail "the daemon exited on ExecReload (SIGHUP)"
reloaded="$(in_gw natgw leases)" || fail "natgw leases exited $? after the reload"
echo "$reloaded" | grep -Eq "^(ipv4 +)?tcp +$WAN:40000 " || fail "the natpmpc lease is gone after the reload: $reloaded"
echo "$reloaded" | grep -Eq "^(ipv4 +)?tcp +$WAN:113 " || fail "the admin's static mapping is gone after the reload: $reloaded"

step "log lines carry journal priorities and no timestamp"
grep -q "^<6>INFO .*mapped tcp $WAN:40000" "$log" || fail "no '<6>INFO ... mapped tcp $WAN:40000' line"
! grep -vE '^<[0-7]>' "$log" | grep -E '^[0-9]{4}-[0-9]{2}-[0-9]{2}T' || fail "timestamped lines under a journal stream (above)"

step "SIGTERM"
kill -TERM "$daemon_pid"
for _ in $(seq 1 300); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$daemon_pid" 2>/dev/null && fail "the daemon did not stop within 30 s of SIGTERM"
wait "$daemon_pid" && rc=0 || rc=$?
daemon_pid=""
[ "$rc" = 0 ] || fail "the daemon exited $rc on SIGTERM"
[ -n "$(find /var/lib/natgw -user natgw -type f)" ] || fail "no file written by natgw in /var/lib/natgw"
[ -z "$(find /var/lib/natgw -type f -perm /077)" ] || fail "files in /var/lib/natgw readable by others (UMask): $(find /var/lib/natgw -type f -perm /077)"

# --- 5. remove keeps configuration and state, purge removes them --------------------------------------------------
step "dpkg -r natgw"
dpkg -r natgw >/dev/null
[ "$(dpkg-query -W -f '${Status}' natgw)" = "deinstall ok config-files" ] || fail "status after -r: $(dpkg-query -W -f '${Status}' natgw)"
[ ! -e /usr/bin/natgw ] || fail "/usr/bin/natgw left after dpkg -r"
[ -f /etc/natgw/natgw.yaml ] || fail "dpkg -r removed /etc/natgw/natgw.yaml"
[ -n "$(ls -A /var/lib/natgw)" ] || fail "dpkg -r emptied /var/lib/natgw"

step "dpkg --purge natgw"
dpkg --purge natgw >/dev/null
installed_by_us=0
! dpkg -s natgw >/dev/null 2>&1 || fail "natgw still known to dpkg after --purge"
[ ! -e /etc/natgw ] || fail "/etc/natgw left after purge"
[ ! -e /var/lib/natgw ] || fail "/var/lib/natgw left after purge"

step "ok: package $debian_version built, installed, run as $user with $ambient, removed and purged"
