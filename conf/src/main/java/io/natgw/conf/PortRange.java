package io.natgw.conf;

/** An inclusive range of ports, {@code first <= last}, both within 0..65535. */
public record PortRange(int first, int last) {

    public PortRange {
        checkPort(first);
        checkPort(last);
        if (first > last) {
            throw new IllegalArgumentException("port range " + first + "-" + last + " ends before it starts");
        }
    }

    public static PortRange single(int port) {
        return new PortRange(port, port);
    }

    public boolean contains(int port) {
        return port >= first && port <= last;
    }

    public boolean overlaps(PortRange other) {
        return first <= other.last && other.first <= last;
    }

    public int size() {
        return last - first + 1;
    }

    static void checkPort(int port) {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " is out of range (accepted: 0-65535)");
        }
    }

    @Override
    public String toString() {
        return first == last ? Integer.toString(first) : first + "-" + last;
    }
}
