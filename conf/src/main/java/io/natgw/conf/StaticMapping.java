package io.natgw.conf;

import java.net.InetAddress;

/** A mapping the configuration keeps open for as long as it is listed: never expires. */
public record StaticMapping(Protocol protocol, int externalPort, InetAddress internalAddress, int internalPort,
                            String description, boolean enabled) {
    public StaticMapping {
        PortRange.checkPort(externalPort);
        PortRange.checkPort(internalPort);
        description = description == null ? "" : description;
    }
}
