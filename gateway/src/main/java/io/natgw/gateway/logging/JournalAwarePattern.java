package io.natgw.gateway.logging;

import ch.qos.logback.core.PropertyDefinerBase;

/**
 * A logback property ({@code <define>} in logback.xml): the {@code journal} pattern when standard output is the systemd
 * journal ({@link JournalStream#isStdout()}), else the {@code console} pattern. Both patterns are set in logback.xml.
 */
public final class JournalAwarePattern extends PropertyDefinerBase {

    private String journal = "";
    private String console = "";

    public void setJournal(String pattern) {
        this.journal = pattern;
    }

    public void setConsole(String pattern) {
        this.console = pattern;
    }

    @Override
    public String getPropertyValue() {
        return JournalStream.isStdout() ? journal : console;
    }
}
