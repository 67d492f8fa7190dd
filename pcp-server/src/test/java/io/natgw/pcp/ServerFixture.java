package io.natgw.pcp;

import io.natgw.core.TestClock;

import io.natgw.conf.Cidr;
import io.natgw.conf.NatgwConfig;
import io.natgw.core.Forwarder;
import io.natgw.core.InMemoryLeaseStore;
import io.natgw.core.Mapping;
import io.natgw.core.MappingTable;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** A real table (in-memory store) and a real server on loopback port 0, plus UDP clients on chosen addresses. */
final class ServerFixture implements AutoCloseable {

    static final InetAddress WAN = ip("127.0.1.1");
    static final InetAddress CLIENT = ip("127.0.0.1");
    static final InetAddress OTHER_CLIENT = ip("127.0.0.2");

    final TestClock clock = new TestClock(Instant.parse("2026-05-01T10:00:00Z"));
    /** The announcer's timers when announcing to a test socket ({@code announceTo}): they fire when the test says. */
    final HandDrivenScheduler announceSchedule = new HandDrivenScheduler();
    final MappingTable table;
    final PcpServer server;
    private final List<Client> clients = new ArrayList<>();

    /** What a test may vary. */
    record Options(List<InetAddress> lanAddresses, List<Cidr> lanClients, boolean strictNonce, List<Cidr> thirdParty,
                   int ratePerSecond, boolean announce, int quota, InetSocketAddress announceTo) {
        static Options defaults() {
            return new Options(List.of(CLIENT), List.of(Cidr.parse("127.0.0.0/8")), false, List.of(), 10_000, false, 64, null);
        }

        Options strictNonce(boolean s) {
            return new Options(lanAddresses, lanClients, s, thirdParty, ratePerSecond, announce, quota, announceTo);
        }

        Options thirdParty(List<Cidr> t) {
            return new Options(lanAddresses, lanClients, strictNonce, t, ratePerSecond, announce, quota, announceTo);
        }

        Options rate(int r) {
            return new Options(lanAddresses, lanClients, strictNonce, thirdParty, r, announce, quota, announceTo);
        }

        Options lan(List<InetAddress> addresses, List<Cidr> clients) {
            return new Options(addresses, clients, strictNonce, thirdParty, ratePerSecond, announce, quota, announceTo);
        }

        Options announceTo(InetSocketAddress to) {
            return new Options(lanAddresses, lanClients, strictNonce, thirdParty, ratePerSecond, true, quota, to);
        }

        /** Announcements on, to the real 224.0.0.1:5350. */
        Options announceMulticast() {
            return new Options(lanAddresses, lanClients, strictNonce, thirdParty, ratePerSecond, true, quota, null);
        }

        Options quota(int q) {
            return new Options(lanAddresses, lanClients, strictNonce, thirdParty, ratePerSecond, announce, q, announceTo);
        }
    }

    ServerFixture() throws IOException {
        this(Options.defaults());
    }

    ServerFixture(Options o) throws IOException {
        this(o, true, null);
    }

    /** With network.wan.allowPrivate and network.wan.reportedAddress (null: none) as given. */
    ServerFixture(Options o, boolean allowPrivate, InetAddress reportedAddress) throws IOException {
        NatgwConfig config = config(o, allowPrivate, reportedAddress);
        table = new MappingTable(config, new InMemoryLeaseStore(), Forwarder.NONE, clock);
        table.start();
        server = o.announceTo() == null ? new PcpServer(config, table)
                : new PcpServer(config, table, o.announceTo(), announceSchedule);
        server.start();
    }

    static NatgwConfig config(Options o) {
        return config(o, true, null);
    }

    static NatgwConfig config(Options o, boolean allowPrivate, InetAddress reportedAddress) {
        return new NatgwConfig(Path.of("pcp-test.yaml"),
                new NatgwConfig.Network(o.lanAddresses(), o.lanClients(), List.of(), WAN, false, "", allowPrivate,
                        reportedAddress),
                Path.of("data"),
                new NatgwConfig.Pcp(true, 0, new NatgwConfig.Lifetimes(Duration.ofSeconds(120), Duration.ofSeconds(86400)),
                        o.strictNonce(), o.thirdParty(), o.ratePerSecond(), o.announce()),
                new NatgwConfig.Upnp(false, 5000, false, Duration.ofSeconds(604800), Duration.ofSeconds(604800), "natgw"),
                new NatgwConfig.Admin(false, List.of(CLIENT), 8443, false),
                new NatgwConfig.Limits(true, o.quota(), 65536),
                List.of(), List.of(), List.of(),
                new NatgwConfig.Dataplane(false, NatgwConfig.DataplaneMode.USERSPACE, NatgwConfig.RelayMode.COPY,
                        Duration.ofSeconds(5), Duration.ofSeconds(120), 256, false));
    }

    /** The server socket on the first LAN address. */
    InetSocketAddress address() {
        return server.localAddresses().get(0);
    }

    Client client(InetAddress bindTo) throws IOException {
        Client c = new Client(bindTo, address());
        clients.add(c);
        return c;
    }

    List<Mapping> rows() {
        return table.view().mappings();
    }

    @Override
    public void close() throws IOException {
        for (Client c : clients) {
            c.close();
        }
        server.close();
        table.close();
    }

    /** A UDP client socket bound to one loopback address. */
    static final class Client implements AutoCloseable {
        final DatagramSocket socket;
        private InetSocketAddress server;

        Client(InetAddress bindTo, InetSocketAddress server) throws IOException {
            this.socket = new DatagramSocket(new InetSocketAddress(bindTo, 0));
            this.server = server;
            socket.setReceiveBufferSize(4 << 20);
        }

        Client to(InetSocketAddress s) {
            this.server = s;
            return this;
        }

        void send(byte[] datagram) throws IOException {
            socket.send(new DatagramPacket(datagram, datagram.length, server));
        }

        /** The next datagram within 5 s; fails the test when none comes. */
        Received receive() throws IOException {
            Received r = poll(Duration.ofSeconds(5));
            if (r == null) {
                throw new AssertionError("no reply from " + server + " within 5 s");
            }
            return r;
        }

        /** The next datagram within {@code timeout}, or null. */
        Received poll(Duration timeout) throws IOException {
            byte[] buf = new byte[2048];
            DatagramPacket p = new DatagramPacket(buf, buf.length);
            socket.setSoTimeout((int) Math.max(1, timeout.toMillis()));
            try {
                socket.receive(p);
            } catch (SocketTimeoutException e) {
                return null;
            }
            return new Received(java.util.Arrays.copyOf(buf, p.getLength()), (InetSocketAddress) p.getSocketAddress());
        }

        byte[] exchange(byte[] datagram) throws IOException {
            send(datagram);
            return receive().bytes();
        }

        InetAddress address() {
            return socket.getLocalAddress();
        }

        @Override
        public void close() {
            socket.close();
        }
    }

    record Received(byte[] bytes, InetSocketAddress from) {
    }

    static InetAddress ip(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }
}
