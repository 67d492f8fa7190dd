package io.natgw.it.igd;

import io.natgw.igd.Soap;
import io.natgw.it.support.Daemon;
import io.natgw.it.support.Require;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The two npm clients that split the IGD world, against one running daemon: {@code nat-upnp} reads only
 * WANIPConnection:1 (IGD:1 description), libp2p's {@code @achingbrain/nat-port-mapper} only IGD:2. Each maps,
 * the test sees the row over SOAP, then the client unmaps. Needs node and {@code npm ci} in it/src/test/node.
 */
class NpmClientsE2eTest {

    private static final Path HARNESS = Daemon.repo().resolve("it/src/test/node");
    private static final InetAddress LAN = IgdDaemon.address("127.0.0.1");
    private static IgdDaemon gw;

    @BeforeAll
    static void start() {
        Require.tool("node");
        Require.check(Files.isDirectory(HARNESS.resolve("node_modules/nat-upnp"))
                        && Files.isDirectory(HARNESS.resolve("node_modules/@achingbrain/nat-port-mapper")),
                "npm clients not installed: run 'npm ci' in " + HARNESS);
        gw = IgdDaemon.start(false);
    }

    @AfterAll
    static void stop() {
        if (gw != null) {
            gw.close();
        }
    }

    @Test
    void natUpnpMapsAndUnmapsOverIgd1() throws Exception {
        mapCheckUnmap("nat-upnp", gw.v1, 43001, 43001);
    }

    @Test
    void libp2pNatPortMapperMapsAndUnmapsOverIgd2() throws Exception {
        mapCheckUnmap("nat-port-mapper", gw.v2, 43002, 43002);
    }

    private static void mapCheckUnmap(String client, URI description, int internal, int external) throws Exception {
        Process p = new ProcessBuilder("node", "upnp-clients.mjs", client, description.toString(),
                Integer.toString(internal), Integer.toString(external))
                .directory(HARNESS.toFile()).redirectErrorStream(true).start();
        List<String> out = new ArrayList<>();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
             OutputStream toClient = p.getOutputStream()) {
            String line = readUntil(in, out, "MAPPED ");
            int mapped = Integer.parseInt(line.split(" ")[2]);
            assertTrue(out.contains("EXTERNAL 127.0.1.1"), out.toString());
            Soap.Result row = gw.soap(2).callFrom(LAN, "GetSpecificPortMappingEntry", "NewRemoteHost", "",
                    "NewExternalPort", Integer.toString(mapped), "NewProtocol", "TCP");
            assertEquals(List.of("127.0.0.1", Integer.toString(internal), client), List.of(row.outputs().get("NewInternalClient"),
                    row.outputs().get("NewInternalPort"), row.outputs().get("NewPortMappingDescription")), row.body());
            toClient.write("continue\n".getBytes(StandardCharsets.US_ASCII));
            toClient.flush();
            readUntil(in, out, "UNMAPPED");
            assertTrue(p.waitFor(20, TimeUnit.SECONDS));
            assertEquals(0, p.exitValue(), out.toString());
            assertEquals(714, gw.soap(2).callFrom(LAN, "GetSpecificPortMappingEntry", "NewRemoteHost", "",
                    "NewExternalPort", Integer.toString(mapped), "NewProtocol", "TCP").errorCode());
        } finally {
            p.destroyForcibly();
        }
    }

    private static String readUntil(BufferedReader in, List<String> seen, String prefix) throws Exception {
        for (String line; (line = in.readLine()) != null; ) {
            seen.add(line);
            if (line.startsWith(prefix)) {
                return line;
            }
            if (line.startsWith("ERROR")) {
                break;
            }
        }
        throw new AssertionError("client never printed " + prefix + ": " + seen);
    }
}
