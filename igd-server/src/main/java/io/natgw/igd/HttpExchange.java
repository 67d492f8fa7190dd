package io.natgw.igd;

import io.netty.channel.Channel;
import org.jupnp.model.message.UpnpRequest;

import java.net.InetAddress;
import java.net.URI;
import java.util.List;
import java.util.Map;

/** One HTTP request copied out of Netty's buffers, with the channel its response goes to. */
record HttpExchange(UpnpRequest.Method method, URI uri, int httpMinorVersion, List<Map.Entry<String, String>> headers,
                    byte[] body, boolean keepAlive, InetAddress remote, InetAddress local, Channel channel) {
}
