package io.natgw.pcp;

import java.net.InetAddress;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A decoded PCP request (RFC 6887 §7.1): the common header, the opcode's data and the options this server
 * understands, in their order.
 *
 * @param lifetime      requested lifetime in seconds (unsigned 32 bits)
 * @param clientAddress the PCP client's IP address field (an IPv4-mapped address decodes to an IPv4 address)
 */
public record PcpRequest(PcpOpcode opcode, long lifetime, InetAddress clientAddress, PcpOpcodeData data,
                         List<PcpOption> options) {

    public PcpRequest {
        Objects.requireNonNull(opcode, "opcode");
        Objects.requireNonNull(clientAddress, "clientAddress");
        Objects.requireNonNull(data, "data");
        options = List.copyOf(options);
    }

    public <T extends PcpOption> Optional<T> option(Class<T> type) {
        return options.stream().filter(type::isInstance).map(type::cast).findFirst();
    }

    public <T extends PcpOption> List<T> all(Class<T> type) {
        return options.stream().filter(type::isInstance).map(type::cast).toList();
    }
}
