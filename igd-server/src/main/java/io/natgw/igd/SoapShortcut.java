package io.natgw.igd;

import io.natgw.core.Outcome;
import org.jupnp.model.action.ActionArgumentValue;
import org.jupnp.model.action.ActionException;
import org.jupnp.model.message.UpnpRequest;
import org.jupnp.model.meta.Action;
import org.jupnp.model.meta.ActionArgument;
import org.jupnp.model.meta.LocalService;
import org.jupnp.model.resource.ServiceControlResource;
import org.jupnp.registry.Registry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.xml.stream.XMLInputFactory;
import javax.xml.stream.XMLStreamConstants;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamReader;
import java.io.StringReader;
import java.net.InetAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BiConsumer;
import java.util.regex.Pattern;

/**
 * The actions of natgw's own services (every {@link ServiceSpec}) answered without jupnp's generic SOAP path,
 * which builds a DOM per request, parses every header into jupnp's types, and serialises the answer through
 * another DOM and a chain of regular expressions: most of a UPnP add's CPU besides the table's.
 *
 * <p>Only a call of the plain shape UPnP clients send is taken: a POST to a control URL with Content-Type
 * text/xml (UTF-8), a SOAPAction naming that service's own type and one of its actions, and a body that is an
 * Envelope whose first element is the Body, holding only the action's element in the service's namespace,
 * whose children hold only text, with every input argument present. The body is read by the JDK's StAX parser
 * with DTDs refused, and to its end, so a body jupnp's parser would refuse is refused here too. Anything else
 * (a DOCTYPE, a comment, a CDATA section, a SOAP Header, a missing argument, another charset, another version's
 * SOAPAction, QueryStateVariable) is left to jupnp, which answers it as before: {@link #answer} returns
 * {@code null} before anything ran.
 *
 * <p>What is taken is answered as jupnp answers it, byte for byte: the same argument checks
 * ({@link SafeSoapProcessor#createValue}), the same handler run ({@link ServiceSpec.SpecExecutor#run}), the same
 * error mapping ({@link IgdReceivingAction}) and the same document. IgdSoapShortcutTest sends each call both
 * ways and compares the answers.
 */
final class SoapShortcut {

    private static final Logger LOG = LoggerFactory.getLogger(SoapShortcut.class);

    /** An answer: HTTP status and reason, and the SOAP document. */
    record Answer(int status, String reason, byte[] body) {
    }

    private static final Pattern TEXT_XML_UTF8 = Pattern.compile("text/xml(\\s*;\\s*charset\\s*=\\s*(\"utf-8\"|utf-8))?");
    private static final String SOAP_ENVELOPE = "<?xml version=\"1.0\" encoding=\"utf-8\" standalone=\"yes\"?>"
            + "<s:Envelope s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\""
            + " xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body>";
    private static final String SOAP_END = "</s:Body></s:Envelope>";

    private static final ThreadLocal<XMLInputFactory> XML = ThreadLocal.withInitial(() -> {
        XMLInputFactory f = XMLInputFactory.newDefaultFactory();
        f.setProperty(XMLInputFactory.SUPPORT_DTD, false);
        f.setProperty(XMLInputFactory.IS_SUPPORTING_EXTERNAL_ENTITIES, false);
        f.setProperty(XMLInputFactory.IS_NAMESPACE_AWARE, true);
        // a CDATA section is an event of its own, so it is refused (jupnp reads an argument's text nodes only)
        f.setProperty(XMLInputFactory.IS_COALESCING, false);
        f.setProperty("http://java.sun.com/xml/stream/properties/report-cdata-event", true);
        try {
            // the JDK's reader reset and reused for the next body once closed: 12 instead of 20 µs per AddPortMapping
            // body under C1, and none of its buffers allocated again (the factory is this thread's alone)
            f.setProperty("reuse-instance", true);
        } catch (IllegalArgumentException e) {
            LOG.debug("the XML reader cannot be reused here: {}", e.getMessage());
        }
        return f;
    });

    private final Registry registry;
    private final SafeSoapProcessor values = new SafeSoapProcessor();
    /** Control URLs found in the registry (only hits: at most one per service, whatever clients ask for). */
    private final Map<URI, LocalService<?>> services = new ConcurrentHashMap<>();
    private final LongAdder answered;

    /** @param answered counts the calls answered here (tests read it to know which path ran) */
    SoapShortcut(Registry registry, LongAdder answered) {
        this.registry = registry;
        this.answered = answered;
    }

    /** The answer to {@code exchange}, or {@code null} when jupnp is to answer it (nothing has run then). */
    Answer answer(HttpExchange exchange) {
        Call call = call(exchange);
        return call == null ? null : call.answer();
    }

    /**
     * {@code exchange} read as a call this class takes, with nothing run yet; {@code null} when jupnp is to answer
     * it. Cheap enough for an event loop: the headers, the service and action looked up, the body parsed.
     */
    @SuppressWarnings({"rawtypes", "unchecked"}) // jupnp's model is raw-typed
    Call call(HttpExchange exchange) {
        if (exchange.method() != UpnpRequest.Method.POST) {
            return null;
        }
        String soapAction = null;
        String contentType = null;
        for (Map.Entry<String, String> h : exchange.headers()) {
            if (soapAction == null && h.getKey().equalsIgnoreCase("SOAPAction")) {
                soapAction = h.getValue();
            } else if (contentType == null && h.getKey().equalsIgnoreCase("Content-Type")) {
                contentType = h.getValue();
            }
        }
        if (soapAction == null || contentType == null
                || !TEXT_XML_UTF8.matcher(contentType.trim().toLowerCase(Locale.ROOT)).matches()) {
            return null;
        }
        LocalService<?> service = service(exchange.uri());
        if (service == null) {
            return null;
        }
        String type = service.getServiceType().toString();
        // "urn:…:WANIPConnection:2#AddPortMapping", quoted by UpnpHttpHandler
        if (soapAction.length() < type.length() + 4 || !soapAction.startsWith(type, 1)
                || soapAction.charAt(type.length() + 1) != '#') {
            return null;
        }
        Action action = service.getAction(soapAction.substring(type.length() + 2, soapAction.length() - 1));
        if (action == null || !(service.getExecutor(action) instanceof ServiceSpec.SpecExecutor executor)) {
            return null;
        }
        Map<String, String> texts = arguments(new String(exchange.body(), StandardCharsets.UTF_8).trim(),
                action.getName(), type);
        if (texts == null) {
            return null;
        }
        Map<String, ActionArgumentValue<?>> in = new HashMap<>();
        for (ActionArgument a : action.getInputArguments()) {
            String text = texts.get(a.getName());
            if (text == null) {
                return null;
            }
            try {
                in.put(a.getName(), values.createValue(a, text));
            } catch (ActionException e) {
                LOG.debug("unreadable SOAP body from {}: {}", exchange.remote(), e.toString());
                return new Call(action, type, executor, null, exchange.remote(), IgdReceivingAction.asInvalidArgs(e));
            }
        }
        return new Call(action, type, executor, in, exchange.remote(), null);
    }

    /**
     * A call taken: one of natgw's actions and its input, or the fault its input already earned. {@link #answer}
     * runs it on the caller's thread; {@link #send} runs an action that is one table request without waiting.
     */
    @SuppressWarnings({"rawtypes", "unchecked"}) // jupnp's model is raw-typed
    final class Call {
        private final Action action;
        private final String type;
        private final ServiceSpec.SpecExecutor executor;
        private final Map<String, ActionArgumentValue<?>> in;
        private final InetAddress caller;
        private final ActionException invalid;

        private Call(Action action, String type, ServiceSpec.SpecExecutor executor, Map<String, ActionArgumentValue<?>> in,
                     InetAddress caller, ActionException invalid) {
            this.action = action;
            this.type = type;
            this.executor = executor;
            this.in = in;
            this.caller = caller;
            this.invalid = invalid;
        }

        /** Whether {@link #send} can run it: its input was read, and the action is one table request. */
        boolean onTable() {
            return invalid == null && executor.act().onTable() != null;
        }

        /** Runs it here (the handler may wait for the table) and answers. */
        Answer answer() {
            answered.increment();
            if (invalid != null) {
                return fault(invalid);
            }
            Map<String, String> out = new HashMap<>();
            return answer(executor.run(in, caller, output(out)), out);
        }

        /**
         * Sends its table request from this thread without waiting; the answer is made on {@code answering} once the
         * table answered, or once {@link TableCalls#WAIT_SECONDS} passed without its answer (as the waiting path
         * has it). Only for {@link #onTable} calls.
         */
        CompletableFuture<Answer> send(ScheduledExecutorService answering) {
            answered.increment();
            ServiceSpec.Prepared prepared = executor.prepare(in, caller);
            if (prepared.failure() != null) {
                return CompletableFuture.completedFuture(answer(prepared.failure(), Map.of()));
            }
            CompletableFuture<Outcome> outcome = prepared.call().send();
            // on the event loop's own timer (no thread of its own to wake, unlike orTimeout's), cancelled there
            ScheduledFuture<?> bound = answering.schedule(() -> outcome.completeExceptionally(
                    new TimeoutException("no answer in " + TableCalls.WAIT_SECONDS + " s")), TableCalls.WAIT_SECONDS, TimeUnit.SECONDS);
            return outcome.handleAsync((o, noOutcome) -> {
                bound.cancel(false);
                Map<String, String> out = new HashMap<>();
                return answer(executor.finish(prepared.call(), o, noOutcome, caller, output(out)), out);
            }, answering);
        }

        private BiConsumer<String, String> output(Map<String, String> out) {
            return (name, value) -> {
                ActionArgument a = action.getOutputArgument(name);
                if (a == null) {
                    throw new IllegalArgumentException("Argument not found: " + name);
                }
                out.put(name, new ActionArgumentValue(a, value).toString());
            };
        }

        private Answer answer(ActionException failure, Map<String, String> out) {
            if (failure != null) {
                return fault(IgdReceivingAction.asInvalidArgs(failure));
            }
            StringBuilder b = new StringBuilder(512).append(SOAP_ENVELOPE)
                    .append("<u:").append(action.getName()).append("Response xmlns:u=\"").append(type).append("\">");
            for (ActionArgument a : action.getOutputArguments()) {
                String value = out.getOrDefault(a.getName(), "");
                b.append('<').append(a.getName()).append('>');
                if (a.getName().equals(SafeSoapProcessor.CDATA_ARGUMENT)) {
                    b.append("<![CDATA[").append(value).append("]]>");
                } else {
                    escape(b, value);
                }
                b.append("</").append(a.getName()).append('>');
            }
            b.append("</u:").append(action.getName()).append("Response>").append(SOAP_END);
            return new Answer(200, "OK", b.toString().getBytes(StandardCharsets.UTF_8));
        }
    }

    private LocalService<?> service(URI uri) {
        LocalService<?> s = services.get(uri);
        if (s == null) {
            ServiceControlResource r = registry.getResource(ServiceControlResource.class, uri);
            if (r == null) {
                return null;
            }
            s = r.getModel();
            services.put(uri, s);
        }
        return s;
    }

    /** jupnp's fault document (SOAPActionProcessorImpl.writeFaultElement), HTTP 500. */
    private static Answer fault(ActionException e) {
        StringBuilder b = new StringBuilder(512).append(SOAP_ENVELOPE)
                .append("<s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring><detail>")
                .append("<UPnPError xmlns=\"urn:schemas-upnp-org:control-1-0\"><errorCode>").append(e.getErrorCode())
                .append("</errorCode>");
        if (e.getMessage() == null) {
            b.append("<errorDescription/>");
        } else {
            escape(b.append("<errorDescription>"), e.getMessage()).append("</errorDescription>");
        }
        b.append("</UPnPError></detail></s:Fault>").append(SOAP_END);
        return new Answer(500, "Internal Server Error", b.toString().getBytes(StandardCharsets.UTF_8));
    }

    /** Text as jupnp's serializer writes it: {@code & < >} escaped, nothing else. */
    private static StringBuilder escape(StringBuilder b, String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '&' -> b.append("&amp;");
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                default -> b.append(c);
            }
        }
        return b;
    }

    /**
     * The arguments of a call of {@code action} in {@code namespace}: each child element's name and text, the
     * first of each name (as jupnp reads them). {@code null} when the body is not of the plain shape this class
     * takes, or not well-formed.
     */
    static Map<String, String> arguments(String body, String action, String namespace) {
        XMLStreamReader r = null;
        try {
            r = XML.get().createXMLStreamReader(new StringReader(body));
            Map<String, String> args = new HashMap<>();
            int depth = 0; // 1 Envelope, 2 Body, 3 the action, 4 an argument
            boolean sawBody = false;
            boolean sawCall = false;
            String name = null;
            StringBuilder text = new StringBuilder();
            while (r.hasNext()) {
                switch (r.next()) {
                    case XMLStreamConstants.START_ELEMENT -> {
                        String local = r.getLocalName();
                        boolean expected = switch (depth) {
                            case 0 -> local.equals("Envelope");
                            case 1 -> !sawBody && (sawBody = local.equals("Body"));
                            case 2 -> !sawCall && (sawCall = local.equals(action) && namespace.equals(r.getNamespaceURI()));
                            case 3 -> {
                                name = local;
                                text.setLength(0);
                                yield true;
                            }
                            default -> false; // an element inside an argument
                        };
                        if (!expected) {
                            return null;
                        }
                        depth++;
                    }
                    case XMLStreamConstants.END_ELEMENT -> {
                        if (depth == 4) {
                            args.putIfAbsent(name, text.toString());
                        }
                        depth--;
                    }
                    case XMLStreamConstants.CHARACTERS, XMLStreamConstants.SPACE -> {
                        if (depth == 4) {
                            text.append(r.getTextCharacters(), r.getTextStart(), r.getTextLength());
                        } else if (!r.isWhiteSpace()) {
                            return null;
                        }
                    }
                    case XMLStreamConstants.END_DOCUMENT -> {
                    }
                    default -> {
                        return null; // a DTD, comment, processing instruction, CDATA section or entity reference
                    }
                }
            }
            return sawCall ? args : null;
        } catch (XMLStreamException | RuntimeException e) {
            return null;
        } finally {
            if (r != null) {
                try {
                    r.close();
                } catch (XMLStreamException ignored) {
                    // nothing is held open: the reader reads a string
                }
            }
        }
    }
}
