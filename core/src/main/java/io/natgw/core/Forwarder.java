package io.natgw.core;

/**
 * The dataplane's part of the funnel: before a change is made durable, the table asks the forwarder to
 * serve it (bind the external port). A failure refuses the request (or makes the table try another port),
 * so the table never shows a mapping that does not forward. Called on the table's writer thread.
 */
public interface Forwarder {

    /**
     * Makes forwarding ready for the change (bind for ADDED, rebind for UPDATED that {@link Change#affectsForwarding()}).
     * Removals (REMOVED, and UPDATED that disables) are prepared too, in the same batch as the adds, so a forwarder that
     * batches its work (the kernel's nftables table) applies adds and removals in one {@link #flush}; a removal is
     * never refused, so a forwarder must not throw for one (the table logs and ignores it if it does). A forwarder that
     * applies removals once committed (relays close on {@code TableListener.committed}) ignores them here.
     */
    void prepare(Change change) throws ForwardingException;

    /** Undoes {@link #prepare} when the change could not be committed after all (also after {@link #flush}). */
    void abort(Change change);

    /**
     * Called once per writer batch, after every request of the batch was prepared, before the batch is
     * made durable or (when {@link #flushesBatches}) while the journal commits it. A forwarder that batches its work (the kernel's nftables table) applies what
     * {@link #prepare} queued here, in one transaction. If it throws, the batch's changes are reverted
     * ({@link #abort} for each) and its requests refused, so nothing is half-applied.
     */
    default void flush() throws ForwardingException {
    }

    /**
     * Whether {@link #flush} is real work (the kernel forwarder's nftables transaction): the table then commits the
     * batch to its journal on a thread of its own while the writer flushes, and answers once both are done. A flush
     * failure after the journal recorded the batch is taken back there by a compensating batch, so the failure
     * contract is the same. Every forwarder call stays on the writer thread.
     */
    default boolean flushesBatches() {
        return false;
    }

    /**
     * Whether this forwarder forwards IPv6 pinholes (rows whose internal address is IPv6, {@link Mapping#pinhole()}).
     * When it does not, the table refuses every pinhole request with {@link Outcome.Reason#PINHOLES_DISABLED} and
     * no side effect, and drops restored pinholes: it never says yes to a pinhole that forwards nothing. Only the
     * kernel forwarder (linux-gateway mode, {@code dataplane.forwarding: kernel}) does.
     */
    default boolean forwardsPinholes() {
        return false;
    }

    /** Forwarding does nothing: a table without a dataplane. */
    Forwarder NONE = new Forwarder() {
        @Override
        public void prepare(Change change) {
        }

        @Override
        public void abort(Change change) {
        }
    };

    /** The change cannot be forwarded, e.g. the external port is held by another process. */
    final class ForwardingException extends Exception {
        private static final long serialVersionUID = 1L;

        public ForwardingException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
