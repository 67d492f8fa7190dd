package io.natgw.gateway.admin;

/**
 * One socket the gateway listens on, as the status panel shows it.
 *
 * @param name      what serves there, e.g. {@code nat-pmp/pcp}, {@code upnp http}, {@code admin https}
 * @param transport {@code tcp} or {@code udp}
 * @param address   {@code 127.0.0.1:5351}
 */
public record Listener(String name, String transport, String address) {
}
