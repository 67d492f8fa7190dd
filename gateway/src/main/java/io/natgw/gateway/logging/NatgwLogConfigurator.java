package io.natgw.gateway.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.PatternLayout;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import ch.qos.logback.core.spi.ContextAwareBase;

/**
 * natgw's logging, set up in code (found by logback through {@code META-INF/services}) rather than by a logback.xml:
 * reading an XML configuration loads logback's Joran interpreter, about 250 classes that stay resident for the
 * daemon's life only to have read a dozen lines once.
 * <ul>
 *   <li>Standard output only: there is no syslog ({@code /dev/log}) on many hosts, and service managers capture stdout.
 *   <li>Under systemd (stdout is the journal stream named by {@code JOURNAL_STREAM}, {@link JournalStream#isStdout()})
 *       each line starts with its level as an sd-daemon priority prefix ({@code <3>} error ... {@code <7>} debug,
 *       {@link JournalPriorityConverter}) and has no timestamp: the journal keeps its own. Anywhere else (a terminal,
 *       a file, {@code ./natgw run}) an ISO-8601 timestamp leads.
 *   <li>The root level is {@code NATGW_LOG_LEVEL} (system property or environment variable), INFO by default; jupnp
 *       and Netty log at WARN and above.
 * </ul>
 * {@code -Dlogback.configurationFile=FILE} (e.g. through {@code NATGW_JAVA_OPTS}) replaces all of this with FILE, and a
 * {@code logback-test.xml} on the class path (a test's) takes precedence as it does in logback.
 */
public final class NatgwLogConfigurator extends ContextAwareBase implements Configurator {

    static final String JOURNAL_PATTERN = "%journalPriority%-5level [%thread] %logger{0} - %msg%n";
    static final String CONSOLE_PATTERN = "%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level [%thread] %logger{0} - %msg%n";

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        if (System.getProperty("logback.configurationFile") != null
                || NatgwLogConfigurator.class.getClassLoader().getResource("logback-test.xml") != null) {
            return ExecutionStatus.INVOKE_NEXT_IF_ANY; // the user's (or a test's) file, read by logback's own configurator
        }
        PatternLayout layout = new PatternLayout();
        layout.setContext(context);
        layout.getInstanceConverterMap().put("journalPriority", JournalPriorityConverter.class.getName());
        layout.setPattern(JournalStream.isStdout() ? JOURNAL_PATTERN : CONSOLE_PATTERN);
        layout.start();
        LayoutWrappingEncoder<ILoggingEvent> encoder = new LayoutWrappingEncoder<>();
        encoder.setContext(context);
        encoder.setLayout(layout);
        encoder.start();

        ConsoleAppender<ILoggingEvent> stdout = new ConsoleAppender<>();
        stdout.setContext(context);
        stdout.setName("STDOUT");
        stdout.setEncoder(encoder);
        stdout.start();

        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.toLevel(level(), Level.INFO));
        root.addAppender(stdout);
        context.getLogger("org.jupnp").setLevel(Level.WARN);
        context.getLogger("io.netty").setLevel(Level.WARN);
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }

    /** NATGW_LOG_LEVEL as a system property, else as an environment variable, else INFO. */
    private static String level() {
        String p = System.getProperty("NATGW_LOG_LEVEL");
        if (p != null) {
            return p;
        }
        String e = System.getenv("NATGW_LOG_LEVEL");
        return e != null ? e : "INFO";
    }
}
