package io.natgw.core;

import io.natgw.conf.Cidr;
import io.natgw.conf.Protocol;

import java.net.Inet6Address;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import io.natgw.core.Change.Cause;
import io.natgw.core.MappingRequest.OnConflict;
import io.natgw.core.Outcome.Reason;
import io.natgw.core.Outcome.Refused;

/**
 * The one funnel every request passes: the table's rules, applied to the writer's working state. For each
 * request it validates, asks the dataplane to serve the change ({@link Forwarder#prepare}), applies it to
 * the state and records the change in the batch; the caller then makes the batch durable or reverts it.
 * A request that fails at any step leaves nothing behind. Writer thread only.
 */
final class Funnel {

    /** Ports the dataplane may fail to bind before an ALTERNATIVE request gives up. */
    private static final int MAX_BIND_ATTEMPTS = 16;

    private final TableState state;
    private final Policy policy;
    private final Forwarder forwarder;
    /** Whether the one log line saying why pinholes are refused was written. */
    private boolean pinholesRefusedLogged;

    Funnel(TableState state, Policy policy, Forwarder forwarder) {
        this.state = state;
        this.policy = policy;
        this.forwarder = forwarder;
    }

    Outcome apply(MappingRequest request, Instant now, List<Change> batch) {
        if (request instanceof MappingRequest.Map m) {
            return map(m, now, batch);
        } else if (request instanceof MappingRequest.Delete d) {
            return delete(d, batch);
        } else if (request instanceof MappingRequest.DeleteInternal d) {
            return deleteInternal(d, batch);
        } else if (request instanceof MappingRequest.DeleteRange d) {
            return deleteRange(d, batch);
        } else if (request instanceof MappingRequest.DeleteMatching d) {
            return deleteMatching(d, batch);
        }
        throw new IllegalArgumentException("not handled by the funnel: " + request);
    }

    /** Removes every lease that has run out, through the same path as a delete. */
    int expire(Instant now, List<Change> batch) {
        List<Mapping> due = state.expiredAt(now);
        for (Mapping m : due) {
            removeRow(m, Cause.EXPIRED, batch);
        }
        return due.size();
    }

    /** Re-opens a row restored from the journal; false when the dataplane cannot serve it any more. */
    boolean restore(Mapping m, List<Change> restored) {
        if (m.pinhole() && (!forwarder.forwardsPinholes() || state.pinhole(m.pinholeId()) != null)) {
            return false; // never a pinhole listed that forwards nothing; ids stay unique
        }
        Change c = Change.added(m, Cause.RESTORED);
        if (m.enabled() && !prepare(c)) {
            return false;
        }
        state.put(m);
        if (m.pinhole() && m.pinholeId() >= state.pinholeIdCursor()) {
            state.pinholeIdTaken(m.pinholeId()); // new ids continue after the restored ones
        }
        restored.add(c);
        return true;
    }

    // ---- create / refresh ----

    private Outcome map(MappingRequest.Map r, Instant now, List<Change> batch) {
        if (r.internal().address() instanceof Inet6Address) {
            return pinhole(r, now, batch);
        }
        Owner who = r.requester();
        if (r.internal().port() == 0) {
            return refuse(Reason.INVALID, "internal port 0 cannot be mapped");
        }
        if (r.kind() == Kind.STATIC && !who.privileged()) {
            return refuse(Reason.NOT_AUTHORIZED, "only admins and the configuration create static mappings");
        }
        if ((r.kind() == Kind.TRIGGERED) != (who.origin() == Origin.TRIGGER)) {
            return refuse(Reason.INVALID, "triggered mappings come from trigger rules only");
        }
        if (r.kind() != Kind.STATIC && r.lifetime().isNegative()) {
            return refuse(Reason.INVALID, "lifetime " + r.lifetime().getSeconds() + " s is negative (accepted: 0 or more)");
        }
        if (r.onConflict() == OnConflict.FAIL && r.externalPort() == 0) {
            return refuse(Reason.INVALID, "a specific external port is needed when alternatives are refused");
        }
        String denied = policy.checkInternalAddress(r);
        if (denied != null) {
            return refuse(Reason.NOT_AUTHORIZED, denied);
        }
        Instant expiry = r.kind() == Kind.STATIC ? null : now.plus(policy.clampLifetime(who.origin(), r.lifetime()));

        Mapping existing = who.origin().identifiesByInternal()
                ? state.byInternal(new TableState.InternalKey(who, r.protocol(), r.internal(), r.remote()))
                : ownRowAt(r);
        if (existing != null) {
            return refresh(existing, r, expiry, batch);
        }
        Refused full = checkBudgets(who, r.kind());
        if (full != null) {
            return full;
        }
        if (r.onConflict() == OnConflict.FAIL) {
            return mapExactly(r, now, expiry, batch);
        }
        PortAllocator ports = new PortAllocator(r.protocol(), r.externalPort(), r.internal().port(),
                state.occupied(r.protocol()), p -> !policy.isServicePort(p) && policy.permitted(who, p, r.internal()) && isFree(r, p));
        for (int attempt = 0; attempt < MAX_BIND_ATTEMPTS; attempt++) {
            int port = ports.next();
            if (port == 0) {
                break;
            }
            Change c = Change.added(newRow(r, port, now, expiry), Cause.REQUEST);
            if (!r.enabled() || prepare(c)) {
                return commitAdded(c, batch);
            }
        }
        return refuse(Reason.NO_RESOURCES, "no free external " + r.protocol().label() + " port for " + r.internal());
    }

    /** Quotas (per client, per client subnet) and the table's size; null when a new row fits. */
    private Refused checkBudgets(Owner who, Kind kind) {
        if (kind == Kind.DYNAMIC && !who.privileged() && state.dynamicCount(who.address()) >= policy.perClientQuota()) {
            return refuse(Reason.QUOTA_EXCEEDED, "client " + who.address().getHostAddress() + " holds its quota of "
                    + policy.perClientQuota() + " mappings");
        }
        if (kind == Kind.DYNAMIC && !who.privileged()) {
            Cidr subnet = policy.subnetOf(who.address());
            if (state.dynamicCountInSubnet(subnet) >= policy.perSubnetQuota()) {
                return refuse(Reason.QUOTA_EXCEEDED, "client subnet " + subnet + " holds its quota of "
                        + policy.perSubnetQuota() + " mappings (limits.perSubnetQuota)");
            }
        }
        if (state.size() >= policy.maxMappings()) {
            return refuse(Reason.NO_RESOURCES, "the table holds its limit of " + policy.maxMappings() + " mappings");
        }
        return null;
    }

    // ---- pinholes ----

    /**
     * An IPv6 pinhole: no translation, so the port is the internal port and the request's external port is ignored.
     * The same rules as a mapping (secure mode, LAN clients, permission rules, quotas, lifetimes, first client wins),
     * checked in the same order, plus: the dataplane must forward pinholes, the internal port is not a wildcard, the
     * internal address is a global or unique-local unicast host. Another owner's pinhole on the same host and port
     * with an overlapping filter is a CONFLICT, whatever {@link OnConflict} says (there is no alternative port).
     */
    private Outcome pinhole(MappingRequest.Map r, Instant now, List<Change> batch) {
        Owner who = r.requester();
        Inet6Address host = (Inet6Address) r.internal().address();
        if (!forwarder.forwardsPinholes()) {
            if (!pinholesRefusedLogged) {
                pinholesRefusedLogged = true;
                MappingTable.LOG.info("refusing IPv6 pinholes: only linux-gateway mode with kernel forwarding forwards"
                        + " them (dataplane.mode: linux-gateway, dataplane.forwarding: kernel); this dataplane does not");
            }
            return refuse(Reason.PINHOLES_DISABLED, "IPv6 pinholes need linux-gateway mode with kernel forwarding"
                    + " (dataplane.mode: linux-gateway, dataplane.forwarding: kernel)");
        }
        if (r.internal().port() == 0) {
            return refuse(Reason.INTERNAL_PORT_WILDCARD, "internal port 0 (all ports) cannot be opened by a pinhole");
        }
        String bad = unusablePinholeAddress(host);
        if (bad != null) {
            return refuse(Reason.BAD_INTERNAL_ADDRESS, "internal address " + host.getHostAddress() + " is " + bad
                    + " (accepted: a global or unique-local IPv6 unicast address)");
        }
        if (r.kind() == Kind.STATIC && !who.privileged()) {
            return refuse(Reason.NOT_AUTHORIZED, "only admins and the configuration create static pinholes");
        }
        if (r.kind() == Kind.TRIGGERED) {
            return refuse(Reason.INVALID, "trigger rules open ports on the WAN address, not pinholes");
        }
        if (r.kind() != Kind.STATIC && r.lifetime().isNegative()) {
            return refuse(Reason.INVALID, "lifetime " + r.lifetime().getSeconds() + " s is negative (accepted: 0 or more)");
        }
        String denied = policy.checkInternalAddress(r);
        if (denied != null) {
            return refuse(Reason.NOT_AUTHORIZED, denied);
        }
        if (policy.gatewayAddress(host)) {
            return refuse(Reason.NOT_AUTHORIZED, host.getHostAddress() + " is one of the gateway's own addresses; the"
                    + " gateway never opens a pinhole to itself");
        }
        Instant expiry = r.kind() == Kind.STATIC ? null : now.plus(policy.clampLifetime(who.origin(), r.lifetime()));
        int port = r.internal().port();
        Mapping existing = who.origin().identifiesByInternal()
                ? state.byInternal(new TableState.InternalKey(who, r.protocol(), r.internal(), r.remote()))
                : ownRow(state.get(MappingKey.pinhole(r.protocol(), host, port, r.remote())), who);
        if (existing != null) {
            return refresh(existing, r, expiry, batch);
        }
        Refused full = checkBudgets(who, r.kind());
        if (full != null) {
            return full;
        }
        for (Mapping m : state.pinholesOn(r.protocol(), host, port)) {
            // as isFree: another owner's overlapping filter, or the requester's own row with this very filter
            if (!m.owner().equals(who) && m.remote().overlaps(r.remote()) || m.remote().equals(r.remote())) {
                return refuse(Reason.CONFLICT, "pinhole " + m.pinholeId() + " to " + r.internal() + " is held by "
                        + (m.owner().equals(who) ? "this client's other request" : "another client"));
            }
        }
        if (!policy.permitted(who, port, r.internal())) {
            return refuse(Reason.NOT_AUTHORIZED, "permission rules deny port " + port + " to " + r.internal());
        }
        int id = state.freePinholeId();
        if (id == 0) {
            return refuse(Reason.NO_RESOURCES, "all " + Mapping.MAX_PINHOLE_ID + " pinhole ids are in use");
        }
        Mapping row = new Mapping(r.protocol(), port, r.remote(), r.internal(), who, r.nonce(), r.kind(),
                r.description(), now, expiry, r.enabled(), id);
        Change c = Change.added(row, Cause.REQUEST);
        if (r.enabled() && !prepare(c)) {
            return refuse(Reason.NO_RESOURCES, "the dataplane cannot open " + row);
        }
        state.pinholeIdTaken(id); // not handed out again until the search has gone round (a stale id reaches nothing)
        return commitAdded(c, batch);
    }

    private static Mapping ownRow(Mapping m, Owner who) {
        return m != null && m.owner().equals(who) ? m : null;
    }

    /**
     * Why no pinhole may open to {@code a}, or null: an IPv4-mapped address (::ffff:0:0/96; normally decoded as IPv4
     * already) would reach an IPv4 host, a link-local one is ambiguous without its link, multicast, loopback and
     * unspecified are no LAN host.
     */
    static String unusablePinholeAddress(Inet6Address a) {
        byte[] b = a.getAddress();
        boolean mapped = b[10] == (byte) 0xff && b[11] == (byte) 0xff;
        for (int i = 0; i < 10 && mapped; i++) {
            mapped = b[i] == 0;
        }
        if (mapped) {
            return "IPv4-mapped";
        }
        if (a.isLinkLocalAddress()) {
            return "link-local";
        }
        if (a.isMulticastAddress()) {
            return "multicast";
        }
        if (a.isLoopbackAddress()) {
            return "loopback";
        }
        if (a.isAnyLocalAddress()) {
            return "unspecified";
        }
        return null;
    }

    /** AddPortMapping and PREFER_FAILURE: the asked-for port or nothing. */
    private Outcome mapExactly(MappingRequest.Map r, Instant now, Instant expiry, List<Change> batch) {
        int port = r.externalPort();
        if (policy.isServicePort(port)) {
            return refuse(Reason.CONFLICT, r.protocol().label() + " port " + port + " is used by the gateway itself");
        }
        if (!policy.permitted(r.requester(), port, r.internal())) {
            return refuse(Reason.NOT_AUTHORIZED, "permission rules deny external port " + port + " to " + r.internal());
        }
        if (!isFree(r, port)) {
            return refuse(Reason.CONFLICT, r.protocol().label() + " port " + port + " is held by another client");
        }
        Change c = Change.added(newRow(r, port, now, expiry), Cause.REQUEST);
        if (r.enabled() && !prepare(c)) {
            return refuse(Reason.NO_RESOURCES, r.protocol().label() + " port " + port + " cannot be bound on the external address");
        }
        return commitAdded(c, batch);
    }

    /** The requester's own row on the wanted external port (UPnP, admin, config identify mappings so). */
    private Mapping ownRowAt(MappingRequest.Map r) {
        if (r.externalPort() == 0) {
            return null;
        }
        Mapping m = state.get(new MappingKey(r.protocol(), r.externalPort(), r.remote()));
        return m != null && m.owner().equals(r.requester()) ? m : null;
    }

    private Outcome refresh(Mapping existing, MappingRequest.Map r, Instant expiry, List<Change> batch) {
        // RFC 6887 §11.3: a MAP for an existing mapping with another nonce is refused in strict mode; real
        // clients (Tailscale, offbynull portmapper) send a new nonce with each refresh, so by default it is adopted.
        if (r.requester().origin() == Origin.PCP && !existing.nonce().equals(r.nonce()) && policy.strictNonce()) {
            return refuse(Reason.NOT_AUTHORIZED, "nonce does not match the mapping's (pcp.strictNonce)");
        }
        if (existing.kind() != r.kind()) {
            return refuse(Reason.CONFLICT, "port " + existing.externalPort() + " is held as a " + existing.kind().label() + " mapping");
        }
        if (!existing.internal().equals(r.internal()) && !policy.permitted(r.requester(), existing.externalPort(), r.internal())) {
            return refuse(Reason.NOT_AUTHORIZED, "permission rules deny external port " + existing.externalPort() + " to " + r.internal());
        }
        Mapping after = new Mapping(existing.protocol(), existing.externalPort(), existing.remote(), r.internal(),
                existing.owner(), r.nonce(), existing.kind(),
                // a client's refresh without a description keeps it; an admin's static mapping is what was given
                r.description().isEmpty() && r.kind() != Kind.STATIC ? existing.description() : r.description(),
                existing.createdAt(), expiry, r.enabled(), existing.pinholeId());
        Change c = Change.updated(existing, after, Cause.REQUEST);
        if (c.affectsForwarding() && after.enabled() && !prepare(c)) {
            return refuse(Reason.NO_RESOURCES, "port " + existing.externalPort() + " cannot be re-bound");
        }
        if (c.affectsForwarding() && !after.enabled()) {
            prepareRemoval(c); // disabling: in the batch's flush, like a delete
        }
        state.put(after);
        batch.add(c);
        return new Outcome.Granted(after, true);
    }

    /** Free for this request: no other owner's row on the port admits a peer this one would. */
    private boolean isFree(MappingRequest.Map r, int port) {
        for (Mapping m : state.onPort(r.protocol(), port)) {
            if (!m.owner().equals(r.requester()) && m.remote().overlaps(r.remote())) {
                return false;
            }
            if (m.remote().equals(r.remote())) {
                return false; // the requester's own row with another internal endpoint: not this one's to take
            }
        }
        return true;
    }

    private static Mapping newRow(MappingRequest.Map r, int port, Instant now, Instant expiry) {
        return new Mapping(r.protocol(), port, r.remote(), r.internal(), r.requester(), r.nonce(), r.kind(),
                r.description(), now, expiry, r.enabled());
    }

    private Outcome commitAdded(Change c, List<Change> batch) {
        state.put(c.after());
        batch.add(c);
        return new Outcome.Granted(c.after(), false);
    }

    // ---- delete ----

    private Outcome delete(MappingRequest.Delete d, List<Change> batch) {
        Mapping m = state.get(d.key());
        if (m == null) {
            return refuse(Reason.NOT_FOUND, "no mapping " + d.key());
        }
        if (!m.owner().equals(d.requester()) && !d.requester().privileged()) {
            return refuse(Reason.NOT_AUTHORIZED, d.key() + " belongs to " + m.owner());
        }
        removeRow(m, Cause.REQUEST, batch);
        return new Outcome.Deleted(List.of(m));
    }

    private Outcome deleteInternal(MappingRequest.DeleteInternal d, List<Change> batch) {
        List<Mapping> chosen = new ArrayList<>();
        for (Mapping m : state.ownedBy(d.requester())) { // the requester's rows only: no scan of the whole table
            if ((d.protocol() == null || m.protocol() == d.protocol())
                    && (d.internalAddress() == null || m.internal().address().equals(d.internalAddress()))
                    && (d.internalPort() == 0 || m.internal().port() == d.internalPort())) {
                chosen.add(m);
            }
        }
        if (d.requester().origin() == Origin.PCP) {
            for (Mapping m : chosen) {
                if (!m.nonce().equals(d.nonce())) { // RFC 6887 §15: only the mapping's nonce deletes it
                    return refuse(Reason.NOT_AUTHORIZED, "nonce does not match the mapping of " + m.internal());
                }
            }
        }
        return removeAll(chosen, batch);
    }

    private Outcome deleteRange(MappingRequest.DeleteRange d, List<Change> batch) {
        if (d.first() > d.last()) {
            return refuse(Reason.INVALID, "port range " + d.first() + "-" + d.last() + " ends before it starts");
        }
        List<Mapping> chosen = new ArrayList<>();
        for (Protocol p : d.protocol() == null ? Protocol.values() : new Protocol[] {d.protocol()}) {
            for (int port = d.first(); port <= d.last(); port++) {
                for (Mapping m : state.onPort(p, port)) {
                    if (m.owner().equals(d.requester())) {
                        chosen.add(m);
                    }
                }
            }
        }
        return removeAll(chosen, batch);
    }

    private Outcome deleteMatching(MappingRequest.DeleteMatching d, List<Change> batch) {
        if (!d.requester().privileged()) {
            return refuse(Reason.NOT_AUTHORIZED, "only admins delete by " + d.what());
        }
        List<Mapping> chosen = new ArrayList<>();
        for (Mapping m : state.all()) {
            if (d.selector().test(m)) {
                chosen.add(m);
            }
        }
        return removeAll(chosen, batch);
    }

    private Outcome removeAll(List<Mapping> chosen, List<Change> batch) {
        for (Mapping m : chosen) {
            removeRow(m, Cause.REQUEST, batch);
        }
        return new Outcome.Deleted(chosen);
    }

    private void removeRow(Mapping m, Cause cause, List<Change> batch) {
        Change c = Change.removed(m, cause);
        prepareRemoval(c);
        state.remove(m);
        batch.add(c);
    }

    /**
     * A removal (or disabling) goes to the dataplane in the batch, so its {@link Forwarder#flush} carries it with the
     * adds. It is never refused: a dataplane that fails on it is logged, and the removal still reaches it through the
     * committed changes.
     */
    private void prepareRemoval(Change c) {
        try {
            forwarder.prepare(c);
        } catch (Forwarder.ForwardingException | RuntimeException e) {
            MappingTable.LOG.warn("the dataplane did not take the removal of {} in its batch: {}", c.mapping(), e.toString());
        }
    }

    private boolean prepare(Change c) {
        try {
            forwarder.prepare(c);
            return true;
        } catch (Forwarder.ForwardingException e) {
            MappingTable.LOG.warn("cannot forward {}: {}", c.mapping(), e.getMessage());
            return false;
        } catch (RuntimeException e) {
            // Not the dataplane's contract, but seen (a bind out of descriptors): undo whatever it did half-way.
            MappingTable.LOG.warn("cannot forward {}: the dataplane failed: {}", c.mapping(), e.toString());
            try {
                forwarder.abort(c);
            } catch (RuntimeException again) {
                MappingTable.LOG.warn("the dataplane failed to undo {}: {}", c.mapping(), again.toString());
            }
            return false;
        }
    }

    /** Undoes the dataplane's part of a change that will not be committed. */
    void abort(Change c) {
        if (c.type() == Change.Type.REMOVED
                || c.affectsForwarding() && (c.after().enabled() || c.before() != null && c.before().enabled())) {
            forwarder.abort(c);
        }
    }

    private static Refused refuse(Reason reason, String detail) {
        return new Refused(reason, detail);
    }
}
