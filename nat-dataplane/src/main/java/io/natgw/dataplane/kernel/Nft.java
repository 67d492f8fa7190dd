package io.natgw.dataplane.kernel;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;

/**
 * libnftables in-process through JNA: each {@link #run} is one nftables transaction (every command of the script
 * applied, or none), and its failure comes back with nft's own error text. One context, used under this object's
 * lock (libnftables contexts are not thread-safe). No process is forked.
 */
public final class Nft implements AutoCloseable {

    /** The part of libnftables' API natgw uses (nftables/libnftables.h). */
    interface LibNftables extends Library {
        Pointer nft_ctx_new(int flags);

        void nft_ctx_free(Pointer ctx);

        int nft_ctx_buffer_output(Pointer ctx);

        int nft_ctx_buffer_error(Pointer ctx);

        String nft_ctx_get_output_buffer(Pointer ctx);

        String nft_ctx_get_error_buffer(Pointer ctx);

        void nft_ctx_output_set_flags(Pointer ctx, int flags);

        int nft_run_cmd_from_buffer(Pointer ctx, String buf);

        void nft_ctx_set_dry_run(Pointer ctx, boolean dry);
    }

    /** nftables/libnftables.h: NFT_CTX_OUTPUT_JSON. */
    static final int OUTPUT_JSON = 1 << 4;
    /** nftables/libnftables.h: NFT_CTX_OUTPUT_TERSE (listings without set elements, {@code nft -t}). */
    static final int OUTPUT_TERSE = 1 << 11;

    /** An nftables command failed; the message is nft's error output. */
    public static final class NftException extends Exception {
        private static final long serialVersionUID = 1L;

        NftException(String message) {
            super(message);
        }
    }

    private final LibNftables lib;
    private Pointer ctx;
    private volatile java.util.function.Consumer<String> observer = script -> { };

    private Nft(LibNftables lib) {
        this.lib = lib;
        this.ctx = lib.nft_ctx_new(0);
        if (ctx == null) {
            throw new IllegalStateException("nft_ctx_new failed");
        }
        lib.nft_ctx_buffer_output(ctx);
        lib.nft_ctx_buffer_error(ctx);
    }

    /**
     * Loads libnftables ({@code libnftables.so.1}, Debian package libnftables1, a dependency of nftables).
     *
     * @throws IllegalStateException saying what is missing
     */
    public static Nft open() {
        LibNftables lib;
        try {
            lib = Native.load(System.getProperty("natgw.nftables.lib", "libnftables.so.1"), LibNftables.class);
        } catch (UnsatisfiedLinkError e) {
            throw new IllegalStateException("libnftables (libnftables.so.1, Debian package nftables) cannot be loaded: "
                    + e.getMessage(), e);
        }
        return new Nft(lib);
    }

    /** Runs a script as one transaction; returns its output (text). */
    public synchronized String run(String script) throws NftException {
        return run(script, 0);
    }

    /** Runs a listing with JSON output. */
    public synchronized String json(String command) throws NftException {
        return run(command, OUTPUT_JSON);
    }

    /** Runs a listing without set elements ({@code nft -t}): cheap however large the sets are. */
    public synchronized String terse(String command) throws NftException {
        return run(command, OUTPUT_TERSE);
    }

    /** Checks a script as the kernel would apply it, without applying it ({@code nft -c}). */
    public synchronized void check(String script) throws NftException {
        lib.nft_ctx_set_dry_run(ctx, true);
        try {
            run(script, 0);
        } finally {
            lib.nft_ctx_set_dry_run(ctx, false);
        }
    }

    private String run(String script, int flags) throws NftException {
        if (ctx == null) {
            throw new NftException("libnftables context closed");
        }
        observer.accept(script);
        lib.nft_ctx_output_set_flags(ctx, flags);
        int rc = lib.nft_run_cmd_from_buffer(ctx, script);
        String out = lib.nft_ctx_get_output_buffer(ctx);
        String err = lib.nft_ctx_get_error_buffer(ctx);
        if (rc != 0) {
            throw new NftException(err == null || err.isBlank() ? "nft failed (" + rc + ")" : err.strip());
        }
        return out == null ? "" : out;
    }

    /** Tells {@code observer} every command or script this context runs from now on (a seam: tests count them). */
    public void observe(java.util.function.Consumer<String> observer) {
        this.observer = java.util.Objects.requireNonNull(observer);
    }

    @Override
    public synchronized void close() {
        if (ctx != null) {
            lib.nft_ctx_free(ctx);
            ctx = null;
        }
    }
}
