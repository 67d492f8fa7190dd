package io.natgw.dataplane.kernel;

import com.sun.jna.Native;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Set element changes sent to nf_tables as one netlink batch (one transaction), without libnftables: no parser and,
 * above all, no cache. libnftables refetches its ruleset cache (7 netlink round trips) before every transaction once
 * the ruleset's generation has changed, which natgw's own previous transaction always did; a batch of element
 * changes to sets it already knows needs none of it.
 * <p>
 * Only what the writer's element batches need: {@code NFT_MSG_NEWSETELEM} / {@code NFT_MSG_DELSETELEM} with plain
 * (non-interval) keys and, for maps, a value; the keys and values are already in the kernel's register layout
 * ({@link KernelRuleset.Element}). Every message asks for an acknowledgement, so a batch's outcome is known exactly:
 * either every message acknowledged with 0 (committed) or at least one error (the whole batch aborted by the kernel).
 * One socket, used under this object's lock; the reply is read synchronously (the kernel has processed the batch
 * when {@code send} returns).
 */
public final class NftNetlink implements AutoCloseable {

    /**
     * The libc calls used, direct-mapped: JNA binds each native method once, so a call is a JNI call with no proxy,
     * no reflection and no argument conversion, and the buffers are direct (passed by address, not copied in and out
     * as a {@code byte[]} is on every call). A failure returns -1 and leaves errno in {@link Native#getLastError()}:
     * no exception is made for the expected {@code EAGAIN} that ends every batch's drain. {@code size_t} and
     * {@code ssize_t} are Java primitives of their width ({@link Lp64} or {@link Ilp32}): JNA's {@code NativeLong}
     * would be converted by reflection on every call (a constructor call per argument and result).
     */
    static final class LibC {
        static {
            Native.register(LibC.class, "c");
        }

        private LibC() {
        }

        static native int socket(int domain, int type, int protocol);

        static native int setsockopt(int fd, int level, int name, byte[] value, int length);

        static native int close(int fd);

        /** {@code send(2)}: the bytes sent, or -1. */
        static long send(int fd, ByteBuffer buf, int length, int flags) {
            return Native.SIZE_T_SIZE == 8 ? Lp64.send(fd, buf, length, flags) : Ilp32.send(fd, buf, length, flags);
        }

        /** {@code recv(2)}: the bytes received, or -1. */
        static long recv(int fd, ByteBuffer buf, int length, int flags) {
            return Native.SIZE_T_SIZE == 8 ? Lp64.recv(fd, buf, length, flags) : Ilp32.recv(fd, buf, length, flags);
        }
    }

    /** The calls whose sizes are 64-bit {@code size_t} and {@code ssize_t} (x86-64, arm64). */
    static final class Lp64 {
        static {
            Native.register(Lp64.class, "c");
        }

        private Lp64() {
        }

        static native long send(int fd, ByteBuffer buf, long length, int flags);

        static native long recv(int fd, ByteBuffer buf, long length, int flags);
    }

    /** The same where they are 32-bit (armhf, i386). */
    static final class Ilp32 {
        static {
            Native.register(Ilp32.class, "c");
        }

        private Ilp32() {
        }

        static native int send(int fd, ByteBuffer buf, int length, int flags);

        static native int recv(int fd, ByteBuffer buf, int length, int flags);
    }

    /** One set's element changes: one netlink message. {@code data} is null for a set or a deletion. */
    public record SetChange(boolean add, String set, List<byte[]> keys, List<byte[]> data) {
        public SetChange {
            if (data != null && data.size() != keys.size()) {
                throw new IllegalArgumentException(keys.size() + " keys and " + data.size() + " values");
            }
        }
    }

    /**
     * nf_tables refused a batch (nothing of it applied), or the socket failed; {@link #outcomeUnknown} says whether the
     * kernel may have applied it (no answer read), in which case the caller must not trust what it believes installed.
     */
    public static final class NetlinkException extends Exception {
        private static final long serialVersionUID = 1L;
        private final boolean outcomeUnknown;

        NetlinkException(String message, boolean outcomeUnknown) {
            super(message);
            this.outcomeUnknown = outcomeUnknown;
        }

        public boolean outcomeUnknown() {
            return outcomeUnknown;
        }
    }

    // linux/socket.h, linux/netlink.h, linux/netfilter/nfnetlink.h, linux/netfilter/nf_tables.h
    private static final int AF_NETLINK = 16;
    private static final int SOCK_RAW = 3;
    private static final int SOCK_CLOEXEC = 0x80000;
    private static final int NETLINK_NETFILTER = 12;
    private static final int SOL_SOCKET = 1;
    private static final int SO_RCVTIMEO = 20;
    private static final int SO_RCVBUF = 8;
    private static final int SOL_NETLINK = 270;
    private static final int NETLINK_CAP_ACK = 10;
    private static final int NETLINK_EXT_ACK = 11;
    private static final int NLMSG_ERROR = 2;
    private static final int NLM_F_REQUEST = 0x1;
    private static final int NLM_F_ACK = 0x4;
    private static final int NLM_F_CREATE = 0x400;
    private static final int NLA_F_NESTED = 0x8000;
    private static final int NLMSGERR_ATTR_MSG = 1;
    private static final int NFNL_MSG_BATCH_BEGIN = 0x10;
    private static final int NFNL_MSG_BATCH_END = 0x11;
    private static final int NFNL_SUBSYS_NFTABLES = 10;
    private static final int NFT_MSG_NEWSETELEM = 12;
    private static final int NFT_MSG_GETSETELEM = 13;
    private static final int NFT_MSG_DELSETELEM = 14;
    private static final int NFTA_SET_ELEM_EXPR = 7;
    private static final int NFTA_SET_ELEM_EXPRESSIONS = 11;
    private static final int NFTA_EXPR_NAME = 1;
    private static final int NFTA_EXPR_DATA = 2;
    private static final int NFTA_COUNTER_BYTES = 1;
    private static final int NFTA_COUNTER_PACKETS = 2;
    private static final int NFPROTO_INET = 1;
    private static final int NFTA_SET_ELEM_LIST_TABLE = 1;
    private static final int NFTA_SET_ELEM_LIST_SET = 2;
    private static final int NFTA_SET_ELEM_LIST_ELEMENTS = 3;
    private static final int NFTA_LIST_ELEM = 1;
    private static final int NFTA_SET_ELEM_KEY = 1;
    private static final int NFTA_SET_ELEM_DATA = 2;
    private static final int NFTA_DATA_VALUE = 1;
    private static final int MSG_DONTWAIT = 0x40;
    private static final int EAGAIN = 11;
    private static final int EINTR = 4;

    /**
     * The largest batch sent this way (bytes). An attribute's length is 16 bits, so one set's element list must stay
     * under 64 KiB; a larger change (a restore, a flood's retirement) goes through libnftables, which splits it.
     */
    public static final int MAX_BATCH = 60_000;
    private static final int REPLY_TIMEOUT_SECONDS = 5;

    private static final int BUFFER = 64 * 1024;

    private final ByteOrder order = ByteOrder.nativeOrder();
    /** What recv wrote (native), and its bytes copied out for parsing: only the bytes received are copied. */
    private final ByteBuffer received = ByteBuffer.allocateDirect(BUFFER);
    private final byte[] reply = new byte[BUFFER];
    /** A batch or request is encoded here and sent from here (native memory, allocated once). */
    private final ByteBuffer outgoing = ByteBuffer.allocateDirect(BUFFER).order(ByteOrder.nativeOrder());
    private int fd;
    private int seq = (int) (System.nanoTime() & 0x3fffffff);

    private NftNetlink(int fd) {
        this.fd = fd;
    }

    /**
     * A netfilter netlink socket in this process's network namespace.
     *
     * @throws IllegalStateException saying why it cannot be opened
     */
    public static NftNetlink open() {
        int fd;
        try {
            fd = LibC.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
        } catch (LinkageError e) {
            throw new IllegalStateException("cannot open a netfilter netlink socket: " + e, e);
        }
        if (fd < 0) {
            throw new IllegalStateException("cannot open a netfilter netlink socket: " + strerror(Native.getLastError()));
        }
        NftNetlink n = new NftNetlink(fd);
        try {
            ByteOrder order = ByteOrder.nativeOrder();
            byte[] one = ByteBuffer.allocate(4).order(order).putInt(1).array();
            setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, one); // acks without a copy of the request
            setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, one); // errors with the kernel's reason
            byte[] timeout = ByteBuffer.allocate(2 * Native.LONG_SIZE).order(order).array();
            if (Native.LONG_SIZE == 8) {
                ByteBuffer.wrap(timeout).order(order).putLong(REPLY_TIMEOUT_SECONDS).putLong(0);
            } else {
                ByteBuffer.wrap(timeout).order(order).putInt(REPLY_TIMEOUT_SECONDS).putInt(0);
            }
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, timeout); // a ceiling that catches a hang
            byte[] rcvbuf = ByteBuffer.allocate(4).order(order).putInt(1 << 20).array();
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, rcvbuf); // room for a get's answers (capped by rmem_max)
        } catch (IllegalStateException e) {
            n.close();
            throw e;
        }
        return n;
    }

    private static void setsockopt(int fd, int level, int name, byte[] value) {
        if (LibC.setsockopt(fd, level, name, value, value.length) != 0) {
            throw new IllegalStateException("cannot set up the netfilter netlink socket: setsockopt " + level + "/" + name
                    + ": " + strerror(Native.getLastError()));
        }
    }

    /** {@link #outgoing}, empty, for the next message to be encoded in. */
    private ByteBuffer outgoing() {
        return outgoing.clear();
    }

    /**
     * Sends what was encoded in {@link #outgoing} as one datagram; the bytes sent, or -1 with errno in {@code error}.
     */
    private long send(int[] error) {
        int length = outgoing.position();
        outgoing.flip(); // JNA passes the address at the buffer's position
        long sent = LibC.send(fd, outgoing, length, 0);
        if (sent < 0) {
            error[0] = Native.getLastError();
        }
        return sent;
    }

    /** One datagram into {@link #reply}: its length, or -1 with errno in {@code error}. */
    private int receive(int flags, int[] error) {
        received.clear();
        int n = (int) LibC.recv(fd, received, BUFFER, flags);
        if (n < 0) {
            error[0] = Native.getLastError();
            return -1;
        }
        received.get(reply, 0, n); // recv copies at most the buffer's size
        return n;
    }

    /** The batch's size in bytes if sent ({@link #MAX_BATCH} bounds what {@link #apply} takes). */
    public static int size(String table, List<SetChange> changes) {
        int size = 2 * 20;
        for (SetChange c : changes) {
            size += message(table, c);
        }
        return size;
    }

    /**
     * Applies the changes as one transaction, in order.
     *
     * @throws NetlinkException if nf_tables refused it (nothing applied) or the socket failed
     */
    public synchronized void apply(String table, List<SetChange> changes) throws NetlinkException {
        if (changes.isEmpty()) {
            return;
        }
        if (fd < 0) {
            throw new NetlinkException("netfilter netlink socket closed", false);
        }
        int size = size(table, changes);
        if (size > MAX_BATCH) {
            throw new NetlinkException("batch of " + size + " bytes (at most " + MAX_BATCH + ")", false);
        }
        ByteBuffer b = outgoing();
        int first = seq;
        batchMarker(b, NFNL_MSG_BATCH_BEGIN, seq++);
        for (SetChange c : changes) {
            encode(b, table, c, seq++);
        }
        batchMarker(b, NFNL_MSG_BATCH_END, seq++);
        seq &= 0x3fffffff;
        int[] error = new int[1];
        int length = b.position();
        long sent = send(error);
        if (sent < 0) {
            // a send that failed was not taken by the kernel (netlink sends are all or nothing)
            throw new NetlinkException("netlink send: " + strerror(error[0]), false);
        }
        if (sent != length) {
            throw new NetlinkException("netlink send took " + sent + " of " + length + " bytes", true);
        }
        readAcks(first, changes);
    }

    /**
     * One acknowledgement per message (0, or an error: the batch aborted), then whatever else the kernel queued for
     * this batch (a failed commit is acknowledged on the batch's first message): the kernel has processed the whole
     * batch when {@code send} returns, so after the expected acks a non-blocking read drains the rest. Answers to
     * another batch's sequence numbers (one that timed out) are skipped.
     */
    private void readAcks(int first, List<SetChange> changes) throws NetlinkException {
        int last = first + changes.size() + 1;
        int expected = changes.size();
        int seen = 0;
        String error = null;
        boolean draining = false;
        int[] failure = new int[1];
        while (true) {
            if (seen >= expected) {
                draining = true;
            }
            int n = receive(draining ? MSG_DONTWAIT : 0, failure);
            if (n < 0) {
                if (failure[0] == EINTR) {
                    continue;
                }
                if (draining && failure[0] == EAGAIN) {
                    break;
                }
                throw new NetlinkException("no answer from nf_tables ("
                        + (failure[0] == EAGAIN ? "timed out" : strerror(failure[0])) + ")", true);
            }
            ByteBuffer r = ByteBuffer.wrap(reply, 0, n).order(order);
            while (r.remaining() >= 16) {
                int start = r.position();
                int len = r.getInt();
                int type = r.getShort() & 0xffff;
                r.getShort(); // flags
                int mseq = r.getInt();
                r.getInt(); // port id
                if (len < 16 || start + len > n) {
                    throw new NetlinkException("malformed netlink answer", true);
                }
                if (type == NLMSG_ERROR && len >= 20 && mseq >= first && mseq <= last) {
                    int errno = -r.getInt();
                    if (errno != 0 && error == null) {
                        int index = mseq - first - 1;
                        String what = index >= 0 && index < changes.size()
                                ? (changes.get(index).add() ? "add" : "delete") + " element " + changes.get(index).set()
                                : "batch";
                        error = what + ": " + strerror(errno) + reason(r, start, len);
                    }
                    if (mseq == first) {
                        // the batch itself refused (no permission, out of memory, a failed commit): nothing applied
                        throw new NetlinkException(error == null ? "batch refused" : error, false);
                    }
                    seen++;
                }
                if (start + align(len) > n) {
                    break;
                }
                r.position(start + align(len));
            }
        }
        if (error != null) {
            throw new NetlinkException(error, false);
        }
    }

    /**
     * The counters of these elements of a set declared with {@code counter} ({@code {packets, bytes}} per key, in the
     * order of {@code keys}): one {@code NFT_MSG_GETSETELEM} request per {@link #GET_CHUNK} keys, which the kernel
     * answers element by element, so the cost is the keys', not the set's (libnftables' {@code get element} fetches
     * the whole set; a listing is the whole set).
     *
     * @throws NetlinkException if a key is not in the set (the kernel stops there) or the socket failed
     */
    public synchronized List<long[]> counters(String table, String set, List<byte[]> keys) throws NetlinkException {
        List<long[]> out = new java.util.ArrayList<>(keys.size());
        for (int from = 0; from < keys.size(); from += GET_CHUNK) {
            List<byte[]> chunk = keys.subList(from, Math.min(keys.size(), from + GET_CHUNK));
            java.util.Map<java.nio.ByteBuffer, long[]> got = get(table, set, chunk);
            for (byte[] k : chunk) {
                long[] c = got.get(java.nio.ByteBuffer.wrap(k));
                if (c == null) {
                    throw new NetlinkException("get element " + set + ": a key was not answered", false);
                }
                out.add(c);
            }
        }
        return out;
    }

    /**
     * Keys per {@code NFT_MSG_GETSETELEM} request: the kernel queues one answer per key during the request's
     * {@code send}, and the socket's receive buffer must hold them all (each takes about 1 KiB of it).
     */
    static final int GET_CHUNK = 100;

    private java.util.Map<java.nio.ByteBuffer, long[]> get(String table, String set, List<byte[]> keys)
            throws NetlinkException {
        if (fd < 0) {
            throw new NetlinkException("netfilter netlink socket closed", false);
        }
        SetChange request = new SetChange(false, set, keys, null);
        ByteBuffer b = outgoing();
        int s = seq++;
        seq &= 0x3fffffff;
        encode(b, table, request, s, NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_GETSETELEM, NLM_F_REQUEST | NLM_F_ACK);
        int[] failure = new int[1];
        if (send(failure) < 0) {
            throw new NetlinkException("netlink send: " + strerror(failure[0]), false);
        }
        java.util.Map<java.nio.ByteBuffer, long[]> out = new java.util.HashMap<>();
        while (true) {
            int n = receive(0, failure);
            if (n < 0) {
                if (failure[0] == EINTR) {
                    continue;
                }
                throw new NetlinkException("no answer from nf_tables ("
                        + (failure[0] == EAGAIN ? "timed out" : strerror(failure[0])) + ")", false);
            }
            ByteBuffer r = ByteBuffer.wrap(reply, 0, n).order(order);
            int at = 0;
            while (at + 16 <= n) {
                int len = r.getInt(at);
                int type = r.getShort(at + 4) & 0xffff;
                int mseq = r.getInt(at + 8);
                if (len < 16 || at + len > n) {
                    throw new NetlinkException("malformed netlink answer", false);
                }
                if (mseq == s) {
                    if (type == NLMSG_ERROR) {
                        int errno = -r.getInt(at + 16);
                        if (errno != 0) {
                            throw new NetlinkException("get element " + set + ": " + strerror(errno) + reason(r, at, len),
                                    false);
                        }
                        return out;
                    }
                    if (type == (NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWSETELEM)) {
                        element(r, at + 20, at + len, out);
                    }
                }
                at += align(len);
            }
        }
    }

    /** The elements of one NEWSETELEM answer: each key with its counter expression's packets and bytes. */
    private static void element(ByteBuffer r, int from, int to, java.util.Map<java.nio.ByteBuffer, long[]> out) {
        for (int[] list : attributes(r, from, to)) {
            if (list[0] != NFTA_SET_ELEM_LIST_ELEMENTS) {
                continue;
            }
            for (int[] elem : attributes(r, list[1], list[2])) {
                byte[] key = null;
                long[] counter = null;
                for (int[] a : attributes(r, elem[1], elem[2])) {
                    if (a[0] == NFTA_SET_ELEM_KEY) {
                        for (int[] v : attributes(r, a[1], a[2])) {
                            if (v[0] == NFTA_DATA_VALUE) {
                                key = new byte[v[2] - v[1]];
                                r.get(v[1], key);
                            }
                        }
                    } else if (a[0] == NFTA_SET_ELEM_EXPR) {
                        counter = counter(r, a[1], a[2], counter);
                    } else if (a[0] == NFTA_SET_ELEM_EXPRESSIONS) {
                        for (int[] e : attributes(r, a[1], a[2])) {
                            counter = counter(r, e[1], e[2], counter);
                        }
                    }
                }
                if (key != null) {
                    out.put(ByteBuffer.wrap(key), counter == null ? new long[2] : counter);
                }
            }
        }
    }

    /** A {@code counter} expression's {packets, bytes} (both big-endian 64-bit); {@code other} if it is not one. */
    private static long[] counter(ByteBuffer r, int from, int to, long[] other) {
        boolean isCounter = false;
        long[] c = new long[2];
        for (int[] a : attributes(r, from, to)) {
            if (a[0] == NFTA_EXPR_NAME) {
                isCounter = new String(r.array(), a[1], Math.max(0, a[2] - a[1] - 1), StandardCharsets.US_ASCII)
                        .equals("counter");
            } else if (a[0] == NFTA_EXPR_DATA) {
                for (int[] d : attributes(r, a[1], a[2])) {
                    if (d[0] == NFTA_COUNTER_BYTES || d[0] == NFTA_COUNTER_PACKETS) {
                        long v = r.duplicate().order(ByteOrder.BIG_ENDIAN).getLong(d[1]);
                        c[d[0] == NFTA_COUNTER_PACKETS ? 0 : 1] = v;
                    }
                }
            }
        }
        return isCounter ? c : other;
    }

    /** The attributes between {@code from} and {@code to}: {type (flags cleared), payload start, payload end}. */
    private static List<int[]> attributes(ByteBuffer r, int from, int to) {
        List<int[]> out = new java.util.ArrayList<>();
        int at = from;
        while (at + 4 <= to) {
            int len = r.getShort(at) & 0xffff;
            if (len < 4 || at + len > to) {
                break;
            }
            out.add(new int[] {r.getShort(at + 2) & 0x3fff, at + 4, at + len});
            at += align(len);
        }
        return out;
    }

    /** The extended ack's message (NLMSGERR_ATTR_MSG), if the kernel gave one. */
    private String reason(ByteBuffer r, int start, int len) {
        // after the error code: the request's header (16 bytes, capped ack), then the attributes
        int at = start + 20 + 16;
        while (at + 4 <= start + len) {
            int alen = r.getShort(at) & 0xffff;
            int atype = r.getShort(at + 2) & 0x7fff;
            if (alen < 4 || at + alen > start + len) {
                break;
            }
            if (atype == NLMSGERR_ATTR_MSG) {
                String s = new String(reply, at + 4, alen - 4, StandardCharsets.US_ASCII);
                int nul = s.indexOf('\0');
                return " (" + (nul >= 0 ? s.substring(0, nul) : s) + ")";
            }
            at += align(alen);
        }
        return "";
    }

    private static String strerror(int errno) {
        return switch (errno) {
            case 1 -> "Operation not permitted (EPERM)";
            case 2 -> "No such file or directory (ENOENT)";
            case 4 -> "Interrupted system call (EINTR)";
            case 9 -> "Bad file descriptor (EBADF)";
            case 11 -> "Resource temporarily unavailable (EAGAIN)";
            case 13 -> "Permission denied (EACCES)";
            case 12 -> "Out of memory (ENOMEM)";
            case 16 -> "Device or resource busy (EBUSY)";
            case 17 -> "File exists (EEXIST)";
            case 22 -> "Invalid argument (EINVAL)";
            case 28 -> "No space left on device (ENOSPC)";
            case 34 -> "Numerical result out of range (ERANGE)";
            case 93 -> "Protocol not supported (EPROTONOSUPPORT)";
            case 95 -> "Operation not supported (EOPNOTSUPP)";
            case 105 -> "No buffer space available (ENOBUFS)";
            default -> "errno " + errno;
        };
    }

    private void batchMarker(ByteBuffer b, int type, int s) {
        b.putInt(20).putShort((short) type).putShort((short) NLM_F_REQUEST).putInt(s).putInt(0);
        b.put((byte) 0).put((byte) 0).order(ByteOrder.BIG_ENDIAN).putShort((short) NFNL_SUBSYS_NFTABLES).order(order);
    }

    private static int message(String table, SetChange c) {
        int elems = 0;
        for (int i = 0; i < c.keys().size(); i++) {
            elems += element(c.keys().get(i), c.data() == null ? null : c.data().get(i));
        }
        return 16 + 4 + string(table) + string(c.set()) + 4 + elems;
    }

    private static int element(byte[] key, byte[] data) {
        int size = 4 + 4 + 4 + align(key.length);
        if (data != null) {
            size += 4 + 4 + align(data.length);
        }
        return size;
    }

    private static int string(String s) {
        return 4 + align(s.length() + 1);
    }

    private void encode(ByteBuffer b, String table, SetChange c, int s) {
        encode(b, table, c, s, NFNL_SUBSYS_NFTABLES << 8 | (c.add() ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM),
                NLM_F_REQUEST | NLM_F_ACK | (c.add() ? NLM_F_CREATE : 0));
    }

    private void encode(ByteBuffer b, String table, SetChange c, int s, int type, int flags) {
        int start = b.position();
        b.putInt(0).putShort((short) type).putShort((short) flags).putInt(s).putInt(0);
        b.put((byte) NFPROTO_INET).put((byte) 0).putShort((short) 0);
        putString(b, NFTA_SET_ELEM_LIST_TABLE, table);
        putString(b, NFTA_SET_ELEM_LIST_SET, c.set());
        int list = begin(b, NFTA_SET_ELEM_LIST_ELEMENTS);
        for (int i = 0; i < c.keys().size(); i++) {
            int elem = begin(b, NFTA_LIST_ELEM);
            value(b, NFTA_SET_ELEM_KEY, c.keys().get(i));
            if (c.data() != null) {
                value(b, NFTA_SET_ELEM_DATA, c.data().get(i));
            }
            end(b, elem);
        }
        end(b, list);
        b.putInt(start, b.position() - start);
    }

    private static void value(ByteBuffer b, int type, byte[] bytes) {
        int nest = begin(b, type);
        b.putShort((short) (4 + bytes.length)).putShort((short) NFTA_DATA_VALUE).put(bytes);
        pad(b);
        end(b, nest);
    }

    private static int begin(ByteBuffer b, int type) {
        int at = b.position();
        b.putShort((short) 0).putShort((short) (type | NLA_F_NESTED));
        return at;
    }

    private static void end(ByteBuffer b, int at) {
        int len = b.position() - at;
        if (len > 0xffff) {
            throw new IllegalArgumentException("netlink attribute of " + len + " bytes");
        }
        b.putShort(at, (short) len);
    }

    private static void putString(ByteBuffer b, int type, String s) {
        byte[] bytes = s.getBytes(StandardCharsets.US_ASCII);
        b.putShort((short) (4 + bytes.length + 1)).putShort((short) type).put(bytes).put((byte) 0);
        pad(b);
    }

    private static void pad(ByteBuffer b) {
        while ((b.position() & 3) != 0) {
            b.put((byte) 0);
        }
    }

    private static int align(int len) {
        return (len + 3) & ~3;
    }

    @Override
    public synchronized void close() {
        if (fd >= 0) {
            LibC.close(fd);
            fd = -1;
        }
    }
}
