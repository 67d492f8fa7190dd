package io.natgw.igd;

import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

import java.io.ByteArrayInputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * Reads a device description the way clients do: finds a service by type and resolves its control URL.
 * Shared with the it module's end-to-end tests through igd-server's test-jar.
 */
public final class Descriptions {

    private Descriptions() {
    }

    public static URI controlUrl(URI description, String serviceType) throws Exception {
        return url(description, serviceType, "controlURL");
    }

    public static URI eventUrl(URI description, String serviceType) throws Exception {
        return url(description, serviceType, "eventSubURL");
    }

    public static URI url(URI description, String serviceType, String which) throws Exception {
        RawHttp.Response r = RawHttp.get(description, Map.of());
        if (r.status() != 200) {
            throw new IllegalStateException("GET " + description + " answered " + r.status());
        }
        DocumentBuilderFactory f = SafeSoapProcessor.hardenedFactory();
        Document d = f.newDocumentBuilder().parse(new ByteArrayInputStream(r.body().getBytes(StandardCharsets.UTF_8)));
        NodeList services = d.getElementsByTagNameNS("*", "service");
        for (int i = 0; i < services.getLength(); i++) {
            Element s = (Element) services.item(i);
            if (serviceType.equals(text(s, "serviceType"))) {
                return description.resolve(text(s, which));
            }
        }
        throw new IllegalStateException(serviceType + " is not in " + description);
    }

    private static String text(Element parent, String name) {
        NodeList l = parent.getElementsByTagNameNS("*", name);
        return l.getLength() == 0 ? "" : l.item(0).getTextContent().trim();
    }
}
