package io.natgw.pcp;

import java.util.List;
import java.util.Objects;

/**
 * A PCP response (RFC 6887 §7.2).
 *
 * @param opcode   the request's opcode wire value (without the R bit)
 * @param lifetime granted lifetime on success; on error how long the client should expect the same error
 * @param epoch    the server's epoch time in seconds
 * @param data     the opcode-specific data; {@code null} when there is none to send (unknown opcode)
 */
public record PcpResponse(int opcode, PcpResultCode result, long lifetime, long epoch, PcpOpcodeData data,
                          List<PcpOption> options) {

    public PcpResponse {
        Objects.requireNonNull(result, "result");
        options = List.copyOf(options);
    }
}
