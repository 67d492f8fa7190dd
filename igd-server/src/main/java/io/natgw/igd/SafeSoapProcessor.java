package io.natgw.igd;

import org.jupnp.model.action.ActionArgumentValue;
import org.jupnp.model.action.ActionException;
import org.jupnp.model.meta.ActionArgument;
import org.jupnp.model.types.Datatype;
import org.jupnp.model.types.ErrorCode;
import org.jupnp.transport.impl.SOAPActionProcessorImpl;
import org.w3c.dom.Document;
import org.xml.sax.ErrorHandler;
import org.xml.sax.InputSource;
import org.xml.sax.SAXException;
import org.xml.sax.SAXParseException;

import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import java.io.IOException;
import java.util.regex.Pattern;

/**
 * jupnp's SOAP processing with a hardened parser: jupnp's own expands external entities (an entity pointing
 * at file:///etc/passwd is echoed back). Here any DOCTYPE is a fatal error, so neither XXE nor entity
 * expansion (billion laughs) can happen; the request fails with 402. Unsigned integer arguments (ui1, ui2,
 * ui4) must be plain decimal digits in range: jupnp would read "-1" as 0 (a NewLeaseDuration of -1 would become
 * the one-week default); here it is invalid (402).
 */
final class SafeSoapProcessor extends SOAPActionProcessorImpl {

    private static final DocumentBuilderFactory FACTORY = hardenedFactory();
    /** An unsigned integer argument's digits (compiled once: String.matches compiles per call). */
    private static final Pattern DIGITS = Pattern.compile("[0-9]{1,10}");
    private static final ThreadLocal<DocumentBuilder> BUILDER = ThreadLocal.withInitial(SafeSoapProcessor::newBuilder);

    static DocumentBuilderFactory hardenedFactory() {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(true);
        try {
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            f.setFeature("http://xml.org/sax/features/external-general-entities", false);
            f.setFeature("http://xml.org/sax/features/external-parameter-entities", false);
            f.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
            // A SOAP call is a few small elements: building them at once costs less than xerces' deferred DOM,
            // which allocates its node tables in large chunks per document (seen in a profile of UPnP load).
            f.setFeature("http://apache.org/xml/features/dom/defer-node-expansion", false);
        } catch (ParserConfigurationException e) {
            throw new IllegalStateException("the XML parser cannot be hardened", e);
        }
        f.setAttribute(XMLConstants.ACCESS_EXTERNAL_DTD, "");
        f.setAttribute(XMLConstants.ACCESS_EXTERNAL_SCHEMA, "");
        f.setXIncludeAware(false);
        f.setExpandEntityReferences(false);
        return f;
    }

    @Override
    protected ActionArgumentValue createValue(ActionArgument arg, String value) throws ActionException {
        Datatype.Builtin builtin = arg.getDatatype().getBuiltin();
        if (builtin == Datatype.Builtin.UI1 || builtin == Datatype.Builtin.UI2 || builtin == Datatype.Builtin.UI4) {
            String v = value == null ? "" : value.trim();
            long max = builtin == Datatype.Builtin.UI1 ? 0xffL : builtin == Datatype.Builtin.UI2 ? 0xffffL : 0xffffffffL;
            if (!v.isEmpty() && (!DIGITS.matcher(v).matches() || Long.parseLong(v) > max)) {
                throw new ActionException(ErrorCode.ARGUMENT_VALUE_INVALID, arg.getName() + " '" + value + "' is not a "
                        + builtin.getDescriptorName() + " (0-" + max + ")");
            }
        }
        return super.createValue(arg, value);
    }

    private static DocumentBuilder newBuilder() {
        try {
            return FACTORY.newDocumentBuilder();
        } catch (ParserConfigurationException e) {
            throw new IllegalStateException("the XML parser cannot be created", e);
        }
    }

    @Override
    protected Document readDocument(InputSource inputSource, ErrorHandler errorHandler) throws SAXException, IOException {
        DocumentBuilder b = BUILDER.get();
        b.reset();
        b.setErrorHandler(STRICT);
        b.setEntityResolver((publicId, systemId) -> {
            throw new SAXException("external entity " + systemId + " refused");
        });
        return b.parse(inputSource);
    }

    /**
     * NewPortListing is an XML document inside the SOAP body: sent as CDATA, as miniupnpd does, because
     * miniupnpc and others read it raw and do not decode entities. jupnp's serializer escapes all text, so the
     * one element is rewritten after serializing (its content never holds "]]>": the listing escapes '>').
     */
    @Override
    protected String toString(Document d) throws Exception {
        // An action without outputs: "<u:DeletePortMappingResponse ...></u:DeletePortMappingResponse>" as miniupnpd
        // writes it, not self-closed; clients that search for the closing tag (offbynull portmapper) need it.
        String xml = EMPTY_RESPONSE.matcher(super.toString(d)).replaceFirst("<$1$2></$1>");
        int open = xml.indexOf(LISTING_OPEN);
        int close = xml.indexOf(LISTING_CLOSE);
        if (open < 0 || close < open) {
            return xml;
        }
        String escaped = xml.substring(open + LISTING_OPEN.length(), close);
        return xml.substring(0, open + LISTING_OPEN.length()) + "<![CDATA[" + unescape(escaped) + "]]>" + xml.substring(close);
    }

    private static final java.util.regex.Pattern EMPTY_RESPONSE =
            java.util.regex.Pattern.compile("<(u:[A-Za-z0-9_]+Response)((?: [^>]*)?)/>");
    /** The one output argument sent as CDATA ({@link SoapShortcut} writes it so too). */
    static final String CDATA_ARGUMENT = "NewPortListing";
    private static final String LISTING_OPEN = "<" + CDATA_ARGUMENT + ">";
    private static final String LISTING_CLOSE = "</" + CDATA_ARGUMENT + ">";

    static String unescape(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '&') {
                int semi = s.indexOf(';', i);
                String entity = semi < 0 ? "" : s.substring(i, semi + 1);
                String plain = switch (entity) {
                    case "&lt;" -> "<";
                    case "&gt;" -> ">";
                    case "&amp;" -> "&";
                    case "&quot;" -> "\"";
                    case "&apos;" -> "'";
                    default -> null;
                };
                if (plain != null) {
                    sb.append(plain);
                    i = semi;
                    continue;
                }
            }
            sb.append(c);
        }
        return sb.toString();
    }

    @Override
    protected Document readDocument(InputSource inputSource) throws SAXException, IOException {
        return readDocument(inputSource, STRICT);
    }

    /** Every parser complaint ends the parse; nothing is logged with a stack trace. */
    private static final ErrorHandler STRICT = new ErrorHandler() {
        @Override
        public void warning(SAXParseException e) throws SAXException {
            throw e;
        }

        @Override
        public void error(SAXParseException e) throws SAXException {
            throw e;
        }

        @Override
        public void fatalError(SAXParseException e) throws SAXException {
            throw e;
        }
    };
}
