package io.natgw.pcp;

/**
 * A datagram that is not a well-formed request. Names the field and what was expected, and the result code
 * the server answers with ({@code null} when RFC 6887 §8.3 says to drop the datagram silently).
 */
public final class PcpFormatException extends Exception {
    private static final long serialVersionUID = 1L;

    private final transient PcpResultCode result;
    private final String field;

    public PcpFormatException(PcpResultCode result, String field, String problem) {
        super(field + ": " + problem);
        this.result = result;
        this.field = field;
    }

    /** For a datagram the server ignores without answering. */
    public static PcpFormatException silent(String field, String problem) {
        return new PcpFormatException(null, field, problem);
    }

    /** The result code to answer with; null means drop without answering. */
    public PcpResultCode result() {
        return result;
    }

    public boolean silent() {
        return result == null;
    }

    public String field() {
        return field;
    }
}
