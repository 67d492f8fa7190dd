package io.natgw.igd;

import io.natgw.core.Mapping;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

/** The XML document GetListOfPortMappings returns in NewPortListing (WANIPConnection:2 §2.6.3, schema WANIPConnection-v2.xsd). */
final class PortListing {

    private PortListing() {
    }

    static String xml(List<Mapping> rows, Instant now) {
        StringBuilder sb = new StringBuilder(256 + rows.size() * 320);
        sb.append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
                .append("<p:PortMappingList xmlns:p=\"urn:schemas-upnp-org:gw:WANIPConnection\"")
                .append(" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"")
                .append(" xsi:schemaLocation=\"urn:schemas-upnp-org:gw:WANIPConnection")
                .append(" http://www.upnp.org/schemas/gw/WANIPConnection-v2.xsd\">\n");
        for (Mapping m : rows) {
            Duration left = m.remaining(now);
            sb.append("<p:PortMappingEntry>\n");
            element(sb, "NewRemoteHost", WanIpConnection.remoteHost(m.remote()));
            element(sb, "NewExternalPort", Integer.toString(m.externalPort()));
            element(sb, "NewProtocol", WanIpConnection.protocolName(m.protocol()));
            element(sb, "NewInternalPort", Integer.toString(m.internal().port()));
            element(sb, "NewInternalClient", m.internal().address().getHostAddress());
            element(sb, "NewEnabled", m.enabled() ? "1" : "0");
            element(sb, "NewDescription", m.description());
            element(sb, "NewLeaseTime", Long.toString(left == null ? 0 : left.getSeconds()));
            sb.append("</p:PortMappingEntry>\n");
        }
        return sb.append("</p:PortMappingList>").toString();
    }

    private static void element(StringBuilder sb, String name, String text) {
        sb.append("<p:").append(name).append('>');
        escape(sb, text);
        sb.append("</p:").append(name).append(">\n");
    }

    static void escape(StringBuilder sb, String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '&' -> sb.append("&amp;");
                case '"' -> sb.append("&quot;");
                case '\'' -> sb.append("&apos;");
                default -> {
                    // XML 1.0 forbids most control characters even escaped: drop them.
                    if (c >= 0x20 || c == '\t' || c == '\n' || c == '\r') {
                        sb.append(c);
                    }
                }
            }
        }
    }
}
