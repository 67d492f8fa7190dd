package io.natgw.gateway.logging;

import ch.qos.logback.classic.pattern.ClassicConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.util.LevelToSyslogSeverity;

/**
 * {@code %journalPriority}: the sd-daemon(3) prefix {@code <N>} that makes journald store a line with syslog priority N:
 * ERROR {@code <3>}, WARN {@code <4>}, INFO {@code <6>}, DEBUG and TRACE {@code <7>}.
 */
public final class JournalPriorityConverter extends ClassicConverter {

    @Override
    public String convert(ILoggingEvent event) {
        return "<" + LevelToSyslogSeverity.convert(event) + ">";
    }
}
